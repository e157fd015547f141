"""The probe programs of this bundle, in the grader's generic protocol, and a reader of what they return.

A program is a list of steps the harness runs in order on a fresh object table (step i's result is object i):
construct a class of the student's module, get or set an attribute, call a method. Builders here return the
wire dictionaries of grader.probe_api's protocol; `Outcome` reads a program's returned values by step.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.probe_api import ProbeCall, returned_kind


def tensor(array: np.ndarray) -> dict[str, Any]:
    """An array passed as the bundle's tensor class."""
    return {"values": array.reshape(-1).tolist(), "dtype": str(array.dtype), "shape": list(array.shape),
            "as": "tensor"}


def number(value: float | bool) -> dict[str, Any]:
    return {"as": "number", "value": value}


def _with_options(step: dict[str, Any], summarize: dict[str, Any] | None, catch: bool) -> dict[str, Any]:
    if summarize is not None:
        step["summarize"] = summarize
    if catch:
        step["catch"] = True
    return step


def new(name: str, *args: dict[str, Any], catch: bool = False, **kwargs: dict[str, Any]) -> dict[str, Any]:
    """Construct class `name` of the student's module."""
    return _with_options({"new": name, "args": list(args), "kwargs": kwargs}, None, catch)


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
    stopped = value.failure.error.describe() if value.failure is not None else None
    return Outcome(list(value.values), stopped)


def failure_of(got: Outcome, label: str, *, upto: int) -> str | None:
    """The student's exception when the program stopped before step `upto - 1` returned, as a message."""
    if got.stopped is not None and len(got.values) < upto:
        return f"{label}: raised {got.stopped}"
    if len(got.values) < upto:
        return f"{label}: the program stopped after {len(got.values)} of {upto} steps"
    return None
