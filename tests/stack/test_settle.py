"""A timeout is recorded only when a second run times out too: verdicts must not depend on machine load."""

from collections.abc import Iterator

import pytest

from grader.assignments.bundle import load_assignment
from grader.sandbox.job import SandboxLimits, SandboxResult
from grader.scoring.score import score
from grader.scoring.verdict import Verdict
from grader.services import settle
from grader.services.evaluate import Evaluation


def outcome(first_item_status: str) -> Evaluation:
    rubric = load_assignment("layers").rubric
    verdicts = {item.id: Verdict(item.id, "passed") for item in rubric.items}
    first = rubric.items[0].id
    verdicts[first] = Verdict(first, first_item_status)  # type: ignore[arg-type]
    return Evaluation(score=score(rubric, verdicts), flags=[], locked_cells_modified=False, output="",
                      result=SandboxResult(None, 1.0, 1.0, 1.0, None, "exit 0"), probe_seed=0,
                      usage={"wall_s": 1.0})


def settled(monkeypatch: pytest.MonkeyPatch, *statuses: str) -> tuple[Evaluation, int]:
    results: Iterator[Evaluation] = iter(outcome(status) for status in statuses)
    calls = []

    def fake_evaluate(*args: object, **kwargs: object) -> Evaluation:
        calls.append(args)
        return next(results)

    monkeypatch.setattr(settle, "evaluate", fake_evaluate)
    evaluation = settle.evaluate_settled(load_assignment("layers"), b"", "layers_dev.py", object(),  # type: ignore[arg-type]
                                         SandboxLimits(), max_bytes=1)
    return evaluation, len(calls)


def test_a_run_without_timeouts_runs_once(monkeypatch: pytest.MonkeyPatch) -> None:
    evaluation, calls = settled(monkeypatch, "failed", "passed")
    assert calls == 1 and evaluation.score.items[0].verdict.status == "failed"


def test_a_timeout_under_load_is_run_again_and_the_second_verdict_stands(monkeypatch: pytest.MonkeyPatch) -> None:
    evaluation, calls = settled(monkeypatch, "timeout", "passed")
    assert calls == 2 and evaluation.score.total == evaluation.score.max_total
    assert evaluation.usage["timeout_reruns"] == 1


def test_a_real_timeout_is_recorded_after_the_second_run(monkeypatch: pytest.MonkeyPatch) -> None:
    evaluation, calls = settled(monkeypatch, "timeout", "timeout", "passed")
    assert calls == 2 and evaluation.score.items[0].verdict.status == "timeout"
