"""Comparing a student's plain-data outputs with the reference, with messages that say what differed."""

import numpy as np

from grader.verdicts.wire import ArrayValue, CallResult, Value


def describe_shape(shape: tuple[int, ...] | list[int]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def as_array(value: Value | None) -> np.ndarray | None:
    """A returned value as numbers, or None when it was not an array (or claimed a shape it lacks)."""
    if isinstance(value, ArrayValue):
        return value.to_array()
    return None


def returned_kind(value: Value | None) -> str:
    if value is None:
        return "nothing"
    if value.kind == "other":
        return f"a {value.type}"  # type: ignore[union-attr]
    return "None" if value.kind == "none" else value.kind


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
    """The student's exception for a call that was expected to succeed, as a message."""
    if result.ok:
        return None
    detail = result.error.describe() if result.error else "the call failed"
    return f"{label}: raised {detail}"
