"""Comparing a student's plain-data outputs with the reference, with messages that say what differed."""

import numpy as np

from grader.verdicts.wire import ArrayValue, CallResult, ErrorInfo, NumberValue, StepsValue, Value


def describe_shape(shape: tuple[int, ...] | list[int]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def as_array(value: Value | None) -> np.ndarray | None:
    """A returned value as numbers (a number is a 0-d array), or None when it was not an array (or claimed a shape
    it lacks)."""
    if isinstance(value, NumberValue):
        return value.as_array_value().to_array()
    if isinstance(value, ArrayValue):
        return value.to_array()
    return None


def returned_kind(value: Value | None) -> str:
    """What came back instead of what was expected, in words: `nothing`, `None`, `a str`, `a Counter`, ..."""
    if value is None:
        return "nothing"
    if value.kind == "other":
        return f"a {value.type}"  # type: ignore[union-attr]
    if value.kind == "text":
        return "a str"
    if value.kind == "error":
        return f"an exception ({value.error.describe()})"  # type: ignore[union-attr]
    return "None" if value.kind == "none" else value.kind


def steps_of(result: CallResult) -> StepsValue | None:
    """The program's step values, or None when the call itself failed."""
    return result.value if result.ok and isinstance(result.value, StepsValue) else None


def raised(result: CallResult) -> ErrorInfo | None:
    """The exception that stopped the program (or the whole call), or None when every step ran."""
    if not result.ok:
        return result.error or ErrorInfo(type="HarnessError", message="the call failed")
    steps = steps_of(result)
    return steps.failure.error if steps is not None and steps.failure is not None else None


def returned(result: CallResult, index: int = -1) -> Value | None:
    """The value of step `index` (by default the last), or None when the program stopped before it."""
    steps = steps_of(result)
    if steps is None or steps.failure is not None:
        return None
    try:
        return steps.values[index]
    except IndexError:
        return None


def mismatch(label: str, expected: np.ndarray, got: Value | None, *, rtol: float = 1e-5,
             atol: float = 1e-8) -> str | None:
    """None when `got` matches; otherwise the input, and the first differing entry, expected vs got."""
    array = as_array(got)
    if array is None:
        return f"{label}: expected an array of shape {describe_shape(expected.shape)}, got {returned_kind(got)}"
    if array.shape != expected.shape:
        return (f"{label}: expected shape {describe_shape(expected.shape)}, "
                f"got shape {describe_shape(array.shape)}")
    close = np.isclose(array, expected, rtol=rtol, atol=atol)
    if close.all():
        return None
    index = tuple(int(i) for i in np.argwhere(~close)[0])
    return (f"{label}: first mismatch at {list(index)}: expected {expected[index]:.6g}, "
            f"got {array[index]:.6g}")


def call_failure(label: str, result: CallResult) -> str | None:
    """The student's exception for a program that was expected to run to its end, as a message."""
    if not result.ok:
        detail = result.error.describe() if result.error else "the call failed"
        return f"{label}: raised {detail}"
    error = raised(result)
    return None if error is None else f"{label}: raised {error.describe()}"
