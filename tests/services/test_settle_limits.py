"""Only a timeout that machine load could have caused is run again: a CPU-time limit stands after one run."""

import json
import signal
from collections.abc import Iterator

import pytest

from grader.assignments.bundle import load_assignment
from grader.sandbox.job import SandboxLimits, SandboxResult
from grader.scoring.score import score
from grader.scoring.verdict import Verdict
from grader.services import settle
from grader.services.evaluate import Evaluation
from grader.verdicts.judge import Judge
from grader.verdicts.plan import ProbePlan

BUNDLE = load_assignment("layers")
LIMITS = SandboxLimits(per_test_cpu_s=1, per_test_wall_s=3)


def _evaluation(*timeouts: str) -> Evaluation:
    """Every item passed but the first few, which timed out on the given limits ("cpu", "wall" or "")."""
    verdicts = {item.id: Verdict(item.id, "passed") for item in BUNDLE.rubric.items}
    for item, limit in zip(BUNDLE.rubric.items, timeouts, strict=False):
        verdicts[item.id] = Verdict(item.id, "timeout", limit=limit)  # type: ignore[arg-type]
    return Evaluation(score=score(BUNDLE.rubric, verdicts), flags=[], locked_cells_modified=False, output="",
                      result=SandboxResult(None, 1.0, 1.0, 1.0, None, "exit 0"), probe_seed=0, usage={"wall_s": 1.0})


def _runs(monkeypatch: pytest.MonkeyPatch, *evaluations: Evaluation) -> int:
    results: Iterator[Evaluation] = iter(evaluations)
    calls = []

    def fake_evaluate(*args: object, **kwargs: object) -> Evaluation:
        calls.append(args)
        return next(results)

    monkeypatch.setattr(settle, "evaluate", fake_evaluate)
    settle.evaluate_settled(BUNDLE, b"", "layers_dev.py", object(), LIMITS, max_bytes=1)  # type: ignore[arg-type]
    return len(calls)


def test_cpu_limit_timeouts_are_not_run_again(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _runs(monkeypatch, _evaluation("cpu", "cpu"), _evaluation()) == 1


@pytest.mark.parametrize("timeouts", [("wall",), ("cpu", "wall"), ("",)])
def test_a_wall_clock_timeout_is_run_again(monkeypatch: pytest.MonkeyPatch, timeouts: tuple[str, ...]) -> None:
    assert _runs(monkeypatch, _evaluation(*timeouts), _evaluation()) == 2


def _unit_end(ending: dict[str, object]) -> str:
    """The limit the judge names for the first locked test, ended as `ending` says."""
    first = BUNDLE.rubric.items[0].id
    report = {"version": 1, "ended": "exited", "exit": "exit 0", "channel_corrupt": False,
              "setup": {"status": "ok", "cell": None}, "cells": [], "finished": True, "stdout": "", "stderr": "",
              "units": {first: {"unit_start": {"pid": 5}, "unit_end": {"kind": "unit_end", "unit": first, **ending}}}}
    result = SandboxResult(json.dumps(report).encode(), 1.0, 1.0, 1.0, None, "warm")
    verdict = Judge(BUNDLE, ProbePlan.draw(BUNDLE, 1), LIMITS).judge(result).verdicts[first]
    assert verdict.status == "timeout"
    return verdict.limit


def test_the_judge_names_the_limit_behind_a_timeout() -> None:
    assert _unit_end({"ended": "signal", "signal": int(signal.SIGKILL), "cpu_s": 1.0}) == "cpu"
    assert _unit_end({"ended": "signal", "signal": int(signal.SIGXCPU), "cpu_s": 0.2}) == "cpu"
    assert _unit_end({"ended": "wall", "cpu_s": 0.1}) == "wall"
