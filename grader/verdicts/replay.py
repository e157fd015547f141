"""Replaying a locked test outside the sandbox from the plain values its calls returned inside.

A shadow sends the locked test's own calls (same inputs, same seeds, same order) into the sandbox as one program
per seed and gets numbers back; a replica of the test's assertions then runs here, on those numbers, with the
bundle's reference library. Whatever a submission does to asserts, numpy or the test runner inside, the
replica's verdict is what the honest test would have said about the same behaviour.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.verdicts.compare import returned_kind
from grader.verdicts.wire import ArrayValue, CallResult, NoneValue, NumberValue, StepsValue, Value

NUMERIC_DTYPES = frozenset({"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                            "float16", "float32", "float64"})


@dataclass(frozen=True)
class ReferenceTensor:
    """How a replica rebuilds a returned tensor: the sandbox tensor class's name (what `container` says) and a
    function from the returned numbers, in their own dtype, to the reference library's tensor."""

    name: str
    build: Callable[[np.ndarray], Any]


class StepRaised(Exception):
    """The student's code raised at this point of the test: the locked test would end `error` here."""


class CheckFailed(Exception):
    """An assertion of the test failed: the locked test would try its next seed."""


def check(condition: Any, message: str) -> None:
    """The replica's `assert`."""
    if not condition:
        raise CheckFailed(message)


class Replay:
    """The step values of one seeded run of a locked test, read in the order the test makes its calls."""

    def __init__(self, result: CallResult, tensor: ReferenceTensor | None = None) -> None:
        if not result.ok or not isinstance(result.value, StepsValue):
            detail = result.error.describe() if result.error else f"returned {returned_kind(None)}"
            raise StepRaised(f"the test could not be replayed: {detail}")
        self.steps = result.value
        self.reference = tensor

    def value(self, index: int) -> Value:
        """Step `index`'s value; if the test stopped before it, stop the replica the same way."""
        if index < len(self.steps.values):
            return self.steps.values[index]
        failure = self.steps.failure
        if failure is None:
            raise StepRaised("the test stopped before this call")
        if failure.assertion:
            raise CheckFailed(failure.error.describe())
        raise StepRaised(failure.error.describe())

    def has(self, index: int) -> bool:
        """`hasattr` for a trailing attribute read: a missing attribute is a failed check, not an error."""
        if index == len(self.steps.values) and self.steps.failure is not None \
                and self.steps.failure.error.type == "AttributeError":
            return False
        self.value(index)
        return True

    def is_none(self, index: int) -> bool:
        return isinstance(self.value(index), NoneValue)

    def array_value(self, index: int) -> ArrayValue:
        value = self.value(index)
        if isinstance(value, NumberValue):
            value = value.as_array_value()
        if not isinstance(value, ArrayValue) or value.dtype not in NUMERIC_DTYPES or value.to_array() is None:
            name = self.reference.name if self.reference else "tensor"
            raise StepRaised(f"expected an array or {name}, got {returned_kind(value)}")
        return value

    def shape(self, index: int) -> tuple[int, ...]:
        """`.shape` of what a call returned."""
        return tuple(self.array_value(index).shape)

    def data(self, index: int) -> np.ndarray:
        """`.data` of what a call returned, in its own dtype."""
        value = self.array_value(index)
        array = value.to_array()
        assert array is not None
        return array.astype(value.dtype)

    def tensor(self, index: int) -> Any:
        """The returned tensor rebuilt as the reference tensor, so reference functions see the same numbers."""
        if self.reference is None:
            raise TypeError("this replay was given no reference tensor")
        value = self.array_value(index)
        if value.container != self.reference.name:
            raise StepRaised(f"expected a {self.reference.name}, got a {value.container or 'value'}")
        return self.reference.build(self.data(index))


def judge_seeds(results: list[CallResult], replica: Callable[[Any], None], *,
                tensor: ReferenceTensor | None = None, read: Callable[[CallResult], Any] | None = None) -> str | None:
    """The locked test's retry loop: the first seed whose replica passes wins; an error ends the loop.

    `read` turns one seed's result into what the replica reads (default: this module's Replay), so a bundle with
    a reader of its own keeps the one loop."""
    problem = "the test was not replayed"
    for result in results:
        try:
            replica(read(result) if read is not None else Replay(result, tensor))
        except CheckFailed as exc:
            problem = str(exc)
            continue
        except StepRaised as exc:
            return f"raised {exc}"
        return None
    return problem
