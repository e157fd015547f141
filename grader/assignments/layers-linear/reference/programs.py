"""Reading what this bundle's probe programs returned, step by step, and replaying locked tests on it.

The programs themselves are built with grader.probe_api (`new`, `method`, `get`, ...; step i's result is object
i). `Outcome` reads one program's values by step; `Script` numbers the steps of a long program as they are
added; `Replay` and `judge_replays` run a replica of a locked test's assertions on a shadow's values.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.probe_api import CallResult, CheckFailed, Step, StepRaised, Value, as_array, judge_seeds, returned_kind


@dataclass(frozen=True)
class Outcome:
    """A program's returned values by step, and how it stopped early (None when every step ran)."""

    values: list[Value]
    stopped: str | None
    assertion: bool = False

    def value(self, step: int) -> Value | None:
        return self.values[step] if step < len(self.values) else None

    def error(self, step: int) -> Any:
        """The error a caught step raised, or None when it returned."""
        value = self.value(step)
        return value.error if value is not None and value.kind == "error" else None

    def number(self, step: int) -> Any:
        value = self.value(step)
        return value.value if value is not None and value.kind == "number" else None


def outcome(result: CallResult) -> Outcome:
    """What a program returned; a call that did not run at all is an outcome with no values."""
    if not result.ok:
        return Outcome([], result.error.describe() if result.error else "the program did not run")
    value = result.value
    if value is None or value.kind != "steps":
        return Outcome([], f"the program returned {returned_kind(value)}")
    if value.failure is None:
        return Outcome(list(value.values), None)
    return Outcome(list(value.values), value.failure.error.describe(), bool(value.failure.assertion))


def failure_of(got: Outcome, label: str, *, upto: int) -> str | None:
    """The student's exception when the program stopped before its step `upto - 1` returned, as a message."""
    if got.stopped is not None and len(got.values) < upto:
        return f"{label}: raised {got.stopped}"
    if len(got.values) < upto:
        return f"{label}: the program stopped after {len(got.values)} of {upto} steps"
    return None


class Script:
    """A program written step by step: each added step's index is the object it makes."""

    def __init__(self) -> None:
        self.steps: list[Step] = []

    def __call__(self, step: Step) -> int:
        self.steps.append(step)
        return len(self.steps) - 1


class Replay:
    """A shadow program's values read in the test's order; a step the program never reached stops the replica
    the way the test would have stopped (a failed assertion, or an error)."""

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
        """`.data` of a returned tensor, as numbers."""
        value = self.value(step)
        found = as_array(value)
        if found is None:
            raise StepRaised(f"expected a Tensor, got {returned_kind(value)}")
        return found

    def shape(self, step: int) -> tuple[int, ...]:
        """`.shape` of a returned tensor, or of a summarized one."""
        value = self.value(step)
        if value.kind == "summary":
            return tuple(value.shape)
        return tuple(self.array(step).shape)

    def number(self, step: int) -> Any:
        value = self.value(step)
        if value.kind != "number":
            raise StepRaised(f"expected a number, got {returned_kind(value)}")
        return value.value

    def truth(self, step: int) -> bool:
        """A value the test uses as a condition: a number (a bool included) or an array's truth."""
        value = self.value(step)
        if value.kind == "number":
            return bool(value.value)
        return bool(self.array(step).all())

    def is_true(self, step: int) -> bool:
        """`x is True`: a bool True, not merely a truthy number."""
        value = self.value(step)
        return value.kind == "number" and value.dtype == "bool" and value.value == 1

    def is_none(self, step: int) -> bool:
        return self.value(step).kind == "none"

    def raised(self, step: int) -> Any:
        """The error a caught step raised, or None when the call returned."""
        value = self.value(step)
        return value.error if value.kind == "error" else None


def judge_replays(results: list[CallResult], replica: Any) -> str | None:
    """The locked test's seed loop (grader.probe_api's), with this bundle's reader of each seed's values."""
    return judge_seeds(results, replica, read=lambda result: Replay(outcome(result)))
