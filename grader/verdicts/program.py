"""Builders of probe programs: the steps and input values the sandbox harness runs, as its wire data.

A program is a list of steps run in order in a fresh object table: step i's raw result is object i, which later
steps can call methods of, read or set attributes of, or pass on (`ref(i)`). Names are a NAME of the student's
module or `package.module:NAME` of a module importable in the sandbox (bound before the student's code runs).
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from grader.verdicts.probe import ProbeCall
from grader.verdicts.wire import encode_array

MAX_STEPS = 64
VERBS = ("call", "new", "method", "get", "set")


@dataclass(frozen=True)
class Input:
    """One input value as the harness decodes it."""

    wire: dict[str, Any]


@dataclass(frozen=True)
class Step:
    """One step of a program; `summarized` and `caught` return a copy with that option."""

    wire: dict[str, Any]

    def summarized(self, sample: Sequence[int] = ()) -> "Step":
        """Return the value as a summary (shape, moments, extremes, the entries at these flat indices)."""
        return replace(self, wire={**self.wire, "summarize": {"sample": [int(i) for i in sample]}})

    def caught(self) -> "Step":
        """If this step raises, its value is the error and the program goes on."""
        return replace(self, wire={**self.wire, "catch": True})


def array(values: Any, *, as_tensor: bool = False) -> Input:
    """An array input, passed as an ndarray (or, with `as_tensor`, as the bundle's tensor class)."""
    return Input(encode_array(np.asarray(values), as_tensor=as_tensor))


def tensor(values: Any) -> Input:
    """An array input passed as the bundle's tensor class, `cls(array)`; the array keeps its dtype."""
    return array(values, as_tensor=True)


def number(value: float) -> Input:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"a number input must be finite, not {value}")
    return Input({"as": "number", "value": value})


def text(value: str) -> Input:
    return Input({"as": "text", "value": str(value)})


def none() -> Input:
    return Input({"as": "none"})


def ref(step: int) -> Input:
    """The object an earlier step of the same program made or returned, itself (not a copy)."""
    return Input({"as": "ref", "step": int(step)})


def tuple_of(*items: Any) -> Input:
    return Input({"as": "tuple", "items": [as_input(item).wire for item in items]})


def list_of(*items: Any) -> Input:
    return Input({"as": "list", "items": [as_input(item).wire for item in items]})


def as_input(value: Any) -> Input:
    """A plain value as an input: None, bool/int/float, str, ndarray, tuple and list convert themselves."""
    if isinstance(value, Input):
        return value
    if value is None:
        return none()
    if isinstance(value, bool | int | float | np.bool_ | np.integer | np.floating):
        return number(value.item() if isinstance(value, np.generic) else value)
    if isinstance(value, str):
        return text(value)
    if isinstance(value, np.ndarray):
        return array(value)
    if isinstance(value, tuple | list):
        return (tuple_of if isinstance(value, tuple) else list_of)(*value)
    raise TypeError(f"a probe input cannot be a {type(value).__name__}")


def _arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    wire: dict[str, Any] = {}
    if args:
        wire["args"] = [as_input(arg).wire for arg in args]
    if kwargs:
        wire["kwargs"] = {key: as_input(arg).wire for key, arg in kwargs.items()}
    return wire


def call(name: str, /, *args: Any, **kwargs: Any) -> Step:
    """Call a function: NAME of the student's module, or `package.module:NAME`."""
    return Step({"call": name, **_arguments(args, kwargs)})


def new(name: str, /, *args: Any, **kwargs: Any) -> Step:
    """Construct a class (named as in `call`); a name that is not a class raises TypeError in the sandbox."""
    return Step({"new": name, **_arguments(args, kwargs)})


def method(obj: int, name: str, /, *args: Any, **kwargs: Any) -> Step:
    """Call method `name` of object `obj` (an earlier step); `__call__` calls the object itself."""
    return Step({"method": int(obj), "name": name, **_arguments(args, kwargs)})


def get(obj: int, attr: str) -> Step:
    """Read attribute `attr` of object `obj`."""
    return Step({"get": int(obj), "attr": attr})


def set_attr(obj: int, attr: str, value: Any) -> Step:
    """Write attribute `attr` of object `obj`; the step's value is None."""
    return Step({"set": int(obj), "attr": attr, "value": as_input(value).wire})


def _refs(wire: dict[str, Any]) -> list[int]:
    found = [wire["step"]] if wire.get("as") == "ref" else []
    for item in wire.get("items", []):
        found += _refs(item)
    return found


def _check(position: int, wire: dict[str, Any]) -> None:
    """The harness's own rules, checked where the author can see the mistake: names, and earlier objects only."""
    verb = next(verb for verb in VERBS if verb in wire)
    if verb in ("call", "new"):
        module, _, attr = wire[verb].rpartition(":")
        if not attr.isidentifier() or (module and not all(part.isidentifier() for part in module.split("."))):
            raise ValueError(f"step {position}: {wire[verb]!r} is not NAME or package.module:NAME")
    inputs = [*wire.get("args", []), *wire.get("kwargs", {}).values(), *([wire["value"]] if verb == "set" else [])]
    objects = [wire[verb]] if verb not in ("call", "new") else []
    if any(not 0 <= index < position for index in objects + [i for spec in inputs for i in _refs(spec)]):
        raise ValueError(f"step {position} refers to a step that is not earlier in the program")
    for key in ("name", "attr"):
        if key in wire and not str(wire[key]).isidentifier():
            raise ValueError(f"step {position}: {wire[key]!r} is not an identifier")


def program(*steps: Step, seed: int = 0, context: Mapping[str, Any] | None = None) -> ProbeCall:
    """A program of `steps`, run under `seed` (`random` and numpy's global state are seeded with it first).

    `context` is kept by the judge only (never sent): what the checker needs to know about the inputs.
    """
    if not 0 < len(steps) <= MAX_STEPS:
        raise ValueError(f"a program has 1 to {MAX_STEPS} steps, not {len(steps)}")
    for position, step in enumerate(steps):
        _check(position, step.wire)
    return ProbeCall({"seed": int(seed), "steps": [step.wire for step in steps]}, dict(context or {}))
