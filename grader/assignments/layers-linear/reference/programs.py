"""The probe programs of this bundle, in the grader's generic protocol, and a reader of what they return.

A program is a list of steps the harness runs in order on a fresh object table (step i's result is object i):
construct a class of the student's module, get or set an attribute, call a method. Builders here return the
wire dictionaries of grader.probe_api's protocol; `Outcome` reads a program's returned values by step.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
from grader.probe_api import ProbeCall, as_array, returned_kind


def tensor(array: np.ndarray) -> dict[str, Any]:
    """An array passed as the bundle's tensor class."""
    return {"values": array.reshape(-1).tolist(), "dtype": str(array.dtype), "shape": list(array.shape),
            "as": "tensor"}


def ndarray(array: np.ndarray) -> dict[str, Any]:
    """An array passed as a plain numpy array."""
    return {**tensor(array), "as": "ndarray"}


def number(value: float | bool) -> dict[str, Any]:
    return {"as": "number", "value": value}


def text(value: str) -> dict[str, Any]:
    return {"as": "text", "value": value}


def ref(step: int) -> dict[str, Any]:
    """The object an earlier step returned, itself."""
    return {"as": "ref", "step": step}


def listing(*items: dict[str, Any]) -> dict[str, Any]:
    return {"as": "list", "items": list(items)}


def _with_options(step: dict[str, Any], summarize: dict[str, Any] | None, catch: bool) -> dict[str, Any]:
    if summarize is not None:
        step["summarize"] = summarize
    if catch:
        step["catch"] = True
    return step


def new(name: str, *args: dict[str, Any], catch: bool = False, **kwargs: dict[str, Any]) -> dict[str, Any]:
    """Construct class `name` of the student's module."""
    return _with_options({"new": name, "args": list(args), "kwargs": kwargs}, None, catch)


def call(name: str, *args: dict[str, Any], catch: bool = False, **kwargs: dict[str, Any]) -> dict[str, Any]:
    """Call a function: NAME of the student's module, or `package.module:NAME` (bound before student code ran)."""
    return _with_options({"call": name, "args": list(args), "kwargs": kwargs}, None, catch)


def method(obj: int, name: str, *args: dict[str, Any], summarize: dict[str, Any] | None = None,
           catch: bool = False, **kwargs: dict[str, Any]) -> dict[str, Any]:
    """Call method `name` of object `obj` (`__call__` calls the object itself)."""
    return _with_options({"method": obj, "name": name, "args": list(args), "kwargs": kwargs}, summarize, catch)


def get(obj: int, attr: str, *, summarize: dict[str, Any] | None = None) -> dict[str, Any]:
    return _with_options({"get": obj, "attr": attr}, summarize, False)


def set_attr(obj: int, attr: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"set": obj, "attr": attr, "value": value}


def program(*steps: dict[str, Any], seed: int, context: dict[str, Any]) -> ProbeCall:
    """One call of a probe: its steps under `seed` (random and numpy.random), and what only the judge keeps."""
    return ProbeCall({"seed": seed, "steps": list(steps)}, context)


@dataclass(frozen=True)
class Outcome:
    """A program's returned values by step, and how it stopped early (None when every step ran)."""

    values: list[Any]
    stopped: str | None
    assertion: bool = False

    def value(self, step: int) -> Any:
        return self.values[step] if step < len(self.values) else None

    def error(self, step: int) -> Any:
        """The error a `catch` step caught, or None when it returned."""
        value = self.value(step)
        return value.error if getattr(value, "kind", None) == "error" else None

    def number(self, step: int) -> float | None:
        value = self.value(step)
        return value.value if getattr(value, "kind", None) == "number" else None


def outcome(result: Any) -> Outcome:
    """What a program returned; a call that did not run at all is an outcome with no values."""
    if not result.ok:
        return Outcome([], result.error.describe() if result.error else "the program did not run")
    value = result.value
    if getattr(value, "kind", None) != "steps":
        return Outcome([], f"the program returned {returned_kind(value)}")
    if value.failure is None:
        return Outcome(list(value.values), None)
    return Outcome(list(value.values), value.failure.error.describe(), bool(value.failure.assertion))


def failure_of(got: Outcome, label: str, *, upto: int) -> str | None:
    """The student's exception when the program stopped before step `upto - 1` returned, as a message."""
    if got.stopped is not None and len(got.values) < upto:
        return f"{label}: raised {got.stopped}"
    if len(got.values) < upto:
        return f"{label}: the program stopped after {len(got.values)} of {upto} steps"
    return None


class Script:
    """A program written step by step: each added step's index is the object it makes."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []

    def __call__(self, step: dict[str, Any]) -> int:
        self.steps.append(step)
        return len(self.steps) - 1


class CheckFailed(Exception):
    """One of the locked test's assertions fails on these values: the test would try its next seed."""


class StepRaised(Exception):
    """The student's code raised where the test calls it: the locked test would end in an error here."""


def check(condition: Any, message: str) -> None:
    """The replica's `assert`."""
    if not condition:
        raise CheckFailed(message)


class Replay:
    """A shadow program's values read in the test's order; a step the program never reached stops the replica
    the way the test would have stopped."""

    def __init__(self, got: Outcome) -> None:
        self.got = got

    def value(self, step: int) -> Any:
        if step < len(self.got.values):
            return self.got.values[step]
        if self.got.stopped is None:
            raise StepRaised("the test stopped before this call")
        if self.got.assertion:
            raise CheckFailed(self.got.stopped)
        raise StepRaised(self.got.stopped)

    def array(self, step: int) -> np.ndarray:
        """`.data` of a returned Tensor (a summary's shape is kept by `shape`)."""
        value = self.value(step)
        found = as_array(value)
        if found is None:
            raise StepRaised(f"expected a Tensor, got {returned_kind(value)}")
        return found

    def shape(self, step: int) -> tuple[int, ...]:
        value = self.value(step)
        if getattr(value, "kind", None) == "summary":
            return tuple(value.shape)
        return tuple(self.array(step).shape)

    def number(self, step: int) -> Any:
        value = self.value(step)
        if getattr(value, "kind", None) != "number":
            raise StepRaised(f"expected a number, got {returned_kind(value)}")
        return value.value

    def truth(self, step: int) -> bool:
        """A value the test uses as a condition: a number (a bool included) or an array's truth."""
        value = self.value(step)
        if getattr(value, "kind", None) == "number":
            return bool(value.value)
        return bool(self.array(step).all())

    def is_none(self, step: int) -> bool:
        return getattr(self.value(step), "kind", None) == "none"

    def raised(self, step: int) -> Any:
        """The error a `catch` step caught, or None when the call returned."""
        value = self.value(step)
        return value.error if getattr(value, "kind", None) == "error" else None


def judge_replays(results: list[Any], replica: Any) -> str | None:
    """The locked test's seed loop, replayed: the first seed whose replica passes wins; an error ends the loop."""
    problem = "the test was not replayed"
    for result in results:
        try:
            replica(Replay(outcome(result)))
        except CheckFailed as exc:
            problem = str(exc)
            continue
        except StepRaised as exc:
            return f"raised {exc}"
        return None
    return problem
