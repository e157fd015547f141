"""A correct solution earns full marks every time, whatever the seeds, and the same score on every run."""

import dataclasses
from pathlib import Path

import pytest

from grader.assignments.bundle import AssignmentBundle, load_assignment
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner
from grader.services.evaluate import evaluate

REPO_ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = {
    "instructor": REPO_ROOT / "grader/assignments/layers/layers_dev.py",
    "student": REPO_ROOT / "grader/assignments/layers/examples/student_solution.py",
}
RUNS = 50
MAX_BYTES = 512 * 1024


def _with_seeds(bundle: AssignmentBundle, first: int) -> AssignmentBundle:
    """The same bundle with another set of locked-test seeds."""
    rubric = dataclasses.replace(bundle.rubric, locked_test_seeds=tuple(range(first, first + 5)))
    return dataclasses.replace(bundle, rubric=rubric)


def test_solution_scores_full_marks_fifty_times_with_different_seeds(runner: SandboxRunner,
                                                                     limits: SandboxLimits) -> None:
    bundle = load_assignment("layers")
    content = SOLUTIONS["instructor"].read_bytes()
    scores = []
    for run in range(RUNS):
        evaluation = evaluate(_with_seeds(bundle, 1000 + 5 * run), content, "layers_dev.py", runner, limits,
                              max_bytes=MAX_BYTES)
        failing = [(s.item.id, s.verdict.status, s.verdict.message) for s in evaluation.score.items
                   if s.verdict.status != "passed"]
        assert failing == [], f"run {run}: {failing}"
        scores.append(evaluation.score.total)
    assert scores == [90.0] * RUNS


def test_flaky_locked_test_passes_through_its_seed_fallback(runner: SandboxRunner, limits: SandboxLimits) -> None:
    """Seed 125 saturates float32 tanh on the reference solution; the next fixed seed must rescue it."""
    bundle = load_assignment("layers")
    rubric = dataclasses.replace(bundle.rubric, locked_test_seeds=(125, 126, 127))
    evaluation = evaluate(dataclasses.replace(bundle, rubric=rubric), SOLUTIONS["instructor"].read_bytes(),
                          "layers_dev.py", runner, limits, max_bytes=MAX_BYTES)
    by_id = {s.item.id: s for s in evaluation.score.items}
    comprehensive = by_id["test-layer-activation-comprehensive"]
    assert comprehensive.verdict.status == "passed"
    assert "seed attempt 2" in comprehensive.verdict.message
    assert evaluation.score.total == 90


@pytest.mark.parametrize("name", sorted(SOLUTIONS))
def test_same_submission_same_score(name: str, runner: SandboxRunner, limits: SandboxLimits) -> None:
    bundle = load_assignment("layers")
    content = SOLUTIONS[name].read_bytes()
    results = {evaluate(bundle, content, "layers_dev.py", runner, limits, max_bytes=MAX_BYTES).score.total
               for _ in range(3)}
    assert results == {90.0}
