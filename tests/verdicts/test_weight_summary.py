"""The Xavier probe judged from a summary of the weights: an honest summary passes, a forged one never does."""

from typing import Any

import numpy as np
import pytest

from grader.assignments.bundle import load_assignment
from grader.verdicts.plan import ProbePlan
from grader.verdicts.wire import UnitOutcome

BUNDLE = load_assignment("layers")
XAVIER = "hidden-dense-xavier-init"


def _array(values: np.ndarray) -> dict[str, Any]:
    return {"kind": "array", "container": "Tensor", "shape": list(values.shape), "dtype": "float32",
            "values": values.reshape(-1).tolist()}


def _summary(weights: np.ndarray, indices: list[int], **lies: Any) -> dict[str, Any]:
    flat = weights.reshape(-1).astype(np.float64)
    honest = {"kind": "summary", "container": "Tensor", "shape": list(weights.shape), "dtype": "float32",
              "mean": float(flat.mean()), "std": float(flat.std()), "min": float(flat.min()),
              "max": float(flat.max()), "sample": [float(flat[i]) for i in indices]}
    return {**honest, **lies}


def _check(plan: ProbePlan, big: dict[str, Any], scale: float = 1.0) -> tuple[str, str] | None:
    """Both calls of the probe answered: the large layer with `big` as its weights, the small one in full."""
    results = []
    for call in plan.calls[XAVIER]:
        n_in, n_out = call.context["n_in"], call.context["n_out"]
        values: list[dict[str, Any]] = [{"kind": "other", "type": "Dense"}, {}, {}]
        values[call.context["weights_step"]] = big if call.context["sample"] else _array(
            np.full((n_in, n_out), 0.1 * scale))
        values[call.context["bias_step"]] = _array(np.zeros(n_out))
        results.append({"ok": True, "value": {"kind": "steps", "values": values}})
    return plan.check(XAVIER, UnitOutcome.model_validate({"status": "ok", "results": results}))


@pytest.fixture
def plan() -> ProbePlan:
    return ProbePlan.draw(BUNDLE, 20261127)


def _weights(scale: float) -> np.ndarray:
    return np.random.default_rng(3).normal(0.0, scale, size=(100, 150))


def test_the_large_layer_is_summarized_at_indices_the_host_drew(plan: ProbePlan) -> None:
    large = next(call for call in plan.calls[XAVIER] if call.context["sample"])
    reads = {step["attr"]: step for step in large.wire["steps"] if "get" in step}
    assert reads["weights"]["summarize"] == {"sample": large.context["sample"]} and "summarize" not in reads["bias"]
    assert len(set(large.context["sample"])) == 32
    small = next(call for call in plan.calls[XAVIER] if not call.context["sample"])
    assert not any("summarize" in step for step in small.wire["steps"])
    other = ProbePlan.draw(BUNDLE, 7)
    assert next(c for c in other.calls[XAVIER] if c.context["sample"]).context["sample"] != large.context["sample"]


def test_an_honest_summary_of_xavier_weights_passes(plan: ProbePlan) -> None:
    sample = next(call for call in plan.calls[XAVIER] if call.context["sample"]).context["sample"]
    assert _check(plan, _summary(_weights(np.sqrt(2 / 250)), sample)) is None


@pytest.mark.parametrize(("lies", "message"), [
    ({"std": 1.0}, "does not agree"),
    ({"shape": [150, 100]}, "should have shape (100, 150)"),
    ({"std": "nan"}, "finite"),
    ({"sample": [5.0] * 32}, "does not agree"),
    ({"sample": [0.0] * 31}, "does not agree"),
    ({"mean": 3.0}, "does not agree"),
    ({"min": -0.01, "max": 0.01}, "does not agree"),
])
def test_a_wrong_or_forged_summary_fails(plan: ProbePlan, lies: dict[str, Any], message: str) -> None:
    sample = next(call for call in plan.calls[XAVIER] if call.context["sample"]).context["sample"]
    problem = _check(plan, _summary(_weights(np.sqrt(2 / 250)), sample, **lies))
    assert problem is not None and problem[0] == "failed" and message in problem[1], problem


def test_a_summary_with_the_wrong_scale_fails(plan: ProbePlan) -> None:
    sample = next(call for call in plan.calls[XAVIER] if call.context["sample"]).context["sample"]
    problem = _check(plan, _summary(_weights(1.0), sample))
    assert problem is not None and "weights should be random with std" in problem[1]


def test_full_weights_are_still_judged_as_before(plan: ProbePlan) -> None:
    assert _check(plan, _array(_weights(np.sqrt(2 / 250)).astype(np.float32))) is None
    problem = _check(plan, _array(np.zeros((100, 150))))
    assert problem is not None and "got std 0.0000" in problem[1]
