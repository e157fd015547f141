"""The check report as data (it is stored with published versions), its seeds, and its table shown literally."""

import io
import json

import numpy as np
import pytest
from rich.console import Console

from grader.assignments.check_report import CheckItem, CheckReport, Sweep
from grader.assignments.registry import find_assignment
from grader.cli_check import print_check
from grader.cli_output import printable
from grader.sandbox.job import SandboxLimits, SandboxResult
from grader.services.check import FIXED_SEEDS, sweep_seeds
from grader.verdicts.judge import Judge
from grader.verdicts.plan import ProbePlan
from tests.cli.test_output import HOSTILE, TERMINAL_CONTROL


def _report(text: str = "Layers") -> CheckReport:
    flaky = Sweep(runs=3000, passed=2991, failing_seed=125, failing_message=f"AssertionError: {text}")
    return CheckReport(
        assignment="layers", title=text, rubric_version="abc", runs=3000, full_runs=3, seed=7, fixed_seeds=1500,
        max_score=30, solution_scores=[30, 30, 15], release_score=5, cost_s=9.5,
        items=[CheckItem(id="test-a", name=text, kind="locked", points=15, solution_passes=3, solution_runs=3,
                         release_passes=False, sweep=flaky),
               CheckItem(id="test-b", name="b", kind="locked", points=10, solution_passes=2, solution_runs=3,
                         solution_message=f"ValueError: {text}", release_passes=False,
                         sweep=Sweep(runs=3000, passed=0, error=f"the sweep ended error: {text}")),
               CheckItem(id="hidden-c", name="c", kind="hidden", points=5, solution_passes=3, solution_runs=3,
                         release_passes=True)])


def test_report_round_trips_through_json() -> None:
    report = _report()
    stored = json.loads(json.dumps(report.to_json()))
    assert CheckReport.model_validate(stored) == report
    assert stored["passed"] is False
    assert stored["flaky"] == ["test-a", "test-b"]
    assert stored["tests_nothing"] == ["hidden-c"]
    assert report.items[0].sweep is not None and report.items[0].sweep.rate == pytest.approx(2991 / 3000)


def test_passed_means_full_marks_in_every_graded_run() -> None:
    report = _report().model_copy(update={"solution_scores": [30, 30, 30]})
    assert report.passed
    assert not report.model_copy(update={"solution_scores": []}).passed


def test_sweep_seeds_start_with_the_fixed_sequence_and_are_distinct() -> None:
    seeds = sweep_seeds(3000, np.random.default_rng(1))
    assert seeds[:FIXED_SEEDS] == list(range(FIXED_SEEDS))
    assert len(set(seeds)) == 3000 and all(FIXED_SEEDS <= seed < 2**32 for seed in seeds[FIXED_SEEDS:])
    assert seeds == sweep_seeds(3000, np.random.default_rng(1))
    assert seeds[FIXED_SEEDS:] != sweep_seeds(3000, np.random.default_rng(2))[FIXED_SEEDS:]
    assert sweep_seeds(10, np.random.default_rng(1)) == list(range(10))


@pytest.mark.parametrize("hostile", HOSTILE)
def test_check_table_shows_bundle_text_literally(hostile: str) -> None:
    out = io.StringIO()
    print_check(_report(hostile), Console(file=out, width=400, force_terminal=True, color_system=None,
                                          soft_wrap=True))
    text = out.getvalue()
    assert text.count(printable(hostile)) >= 4, text
    for control in TERMINAL_CONTROL:
        assert control not in text
    assert "FAILED" in text and "flaky locked test test-a: fails 9 of 3000 seeds (0.30%), e.g. seed 125" in text
    assert "tests nothing: the student release passes hidden-c" in text


def test_a_graded_locked_test_that_claims_a_sweep_earns_nothing() -> None:
    """A sweep's outcome is only read by `check`: in a graded run, a workspace claiming every seed passed is an
    error for that item, never a pass."""
    bundle = find_assignment("layers")
    swept = {"status": "swept", "runs": 5, "passed": 5, "failures": []}
    report = {"version": 1, "ended": "exited", "exit": "exit 0", "channel_corrupt": False,
              "setup": {"status": "ok", "cell": None}, "cells": [], "finished": True, "stdout": "", "stderr": "",
              "units": {"test-matmul-immediate": {"unit_result": {"outcome": swept}}}}
    result = SandboxResult(report=json.dumps(report).encode(), wall_s=1.0, cpu_s=1.0, max_rss_mib=60.0,
                           killed=None, exit="exit 0")
    verdict = Judge(bundle, ProbePlan.draw(bundle, 1), SandboxLimits()).judge(result).verdicts["test-matmul-immediate"]
    assert verdict.status == "error"


def test_the_help_states_the_default_seeds_the_code_uses() -> None:
    from grader.cli_check import RUNS_HELP
    from grader.services.check import DEFAULT_RUNS

    assert f"[default: {DEFAULT_RUNS}: seeds 0-{FIXED_SEEDS - 1}" in RUNS_HELP
    assert f"then {DEFAULT_RUNS - FIXED_SEEDS} fresh ones" in RUNS_HELP
    assert f"{1 - (499 / 500) ** (DEFAULT_RUNS - FIXED_SEEDS):.1%}" == "95.0%" and "5.0%" in RUNS_HELP
