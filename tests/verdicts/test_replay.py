"""The replica of a locked test follows the test's control flow: asserts retry the next seed, errors end it."""

from typing import Any

import numpy as np
import pytest

from grader.verdicts.replay import CheckFailed, ReferenceTensor, Replay, StepRaised, check, judge_seeds
from grader.verdicts.wire import CallResult


class Reference:
    """A stand-in for a bundle's reference tensor: it only keeps the array it was built from."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data


TENSOR = ReferenceTensor("Tensor", Reference)


def session(steps: list[dict[str, Any]], failure: dict[str, Any] | None = None) -> CallResult:
    return CallResult.model_validate({"ok": True, "value": {"kind": "steps", "values": steps, "failure": failure}})


def array(values: list[float], shape: list[int], dtype: str = "float32", container: str = "Tensor") -> dict[str, Any]:
    return {"kind": "array", "container": container, "shape": shape, "dtype": dtype, "values": values}


def replica(replay: Replay) -> None:
    check(replay.shape(0) == (1, 2), "shape should be (1, 2)")


def test_the_first_seed_that_passes_wins() -> None:
    assert judge_seeds([session([array([1, 2, 3], [3])]), session([array([1, 2], [1, 2])])], replica) is None


def test_assertions_retry_and_the_last_failure_is_reported() -> None:
    assert judge_seeds([session([array([1], [1])]), session([array([1, 2, 3], [3])])], replica) == \
        "shape should be (1, 2)"


def test_an_error_ends_the_retries_like_the_locked_test() -> None:
    raised = session([], {"error": {"type": "IndexError", "message": "boom"}})
    assert judge_seeds([raised, session([array([1, 2], [1, 2])])], replica) == "raised IndexError: boom"


def test_an_assertion_raised_by_student_code_retries() -> None:
    asserted = session([], {"error": {"type": "AssertionError", "message": "inner"}, "assertion": True})
    assert judge_seeds([asserted, session([array([1, 2], [1, 2])])], replica) is None


@pytest.mark.parametrize("value", [
    array([1, 2], [1, 2], dtype="object"),
    array([1, 2], [2, 2]),
    {"kind": "other", "type": "AlwaysEqual"},
    {"kind": "none"},
    {"kind": "text", "value": "[[1, 2]]"},
    {"kind": "error", "error": {"type": "ValueError"}},
])
def test_values_that_are_not_honest_arrays_raise(value: dict[str, Any]) -> None:
    with pytest.raises(StepRaised):
        Replay(session([value])).shape(0)


def test_tensors_keep_their_dtype_and_ndarrays_are_not_tensors() -> None:
    replay = Replay(session([array([1.5, 2.5], [1, 2]), array([1, 2], [1, 2], container="ndarray")]), TENSOR)
    assert replay.tensor(0).data.dtype == "float32" and replay.tensor(0).data.tolist() == [[1.5, 2.5]]
    with pytest.raises(StepRaised, match="expected a Tensor, got a ndarray"):
        replay.tensor(1)
    with pytest.raises(TypeError):
        Replay(session([array([1.5], [1])])).tensor(0)


def test_a_number_is_a_zero_dimensional_array_but_never_a_tensor() -> None:
    replay = Replay(session([{"kind": "number", "type": "int", "dtype": "int64", "value": 3}]), TENSOR)
    assert replay.shape(0) == () and replay.data(0).dtype == "int64" and replay.data(0).item() == 3
    with pytest.raises(StepRaised, match="expected a Tensor, got a int"):
        replay.tensor(0)


def test_a_caught_error_is_a_value_the_replica_can_read() -> None:
    replay = Replay(session([{"kind": "error", "error": {"type": "ValueError", "message": "shapes"}}]))
    assert replay.value(0).kind == "error" and replay.has(0)


def test_a_missing_trailing_attribute_is_a_failed_check_not_an_error() -> None:
    replay = Replay(session([{"kind": "none"}], {"error": {"type": "AttributeError", "message": "weights"}}))
    assert replay.has(0) and not replay.has(1)
    with pytest.raises(StepRaised):
        replay.has(2)


def test_a_call_that_did_not_replay_at_all_raises() -> None:
    with pytest.raises(StepRaised):
        Replay(CallResult.model_validate({"ok": False, "error": {"type": "MemoryError"}}))
    with pytest.raises(StepRaised, match="could not be replayed"):
        Replay(CallResult.model_validate({"ok": True}))
    with pytest.raises(CheckFailed):
        check(False, "no")
