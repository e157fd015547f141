"""Units run in turn in one workspace; one that overruns or ends it costs only itself, as a forked unit did.

The units after it still run, in a new workspace that rebuilt the notebook; on both pools.
"""

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from grader.assignments.bundle import load_assignment
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner
from grader.services.evaluate import evaluate

HONEST = Path(__file__).resolve().parents[1] / "data" / "hostile" / "honest.py"
SHAPE_CHECK = "        raise ValueError("


def _grade(runner: SandboxRunner, limits: SandboxLimits, on_bad_shapes: str, **overrides: Any) -> dict[str, str]:
    source = HONEST.read_text(encoding="utf-8")
    assert SHAPE_CHECK in source
    source = source.replace(SHAPE_CHECK, f"        {on_bad_shapes}\n" + SHAPE_CHECK, 1)
    evaluation = evaluate(load_assignment("layers"), source.encode(), "layers_dev.py", runner,
                          dataclasses.replace(limits, **overrides), max_bytes=512 * 1024)
    return {item.item.id: f"{item.verdict.status}: {item.verdict.message}" for item in evaluation.score.items}


@pytest.mark.parametrize(("on_bad_shapes", "overrides", "status", "message"), [
    ("import os; os._exit(3)", {}, "error", "exited (code 3) before reporting"),
    ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", {}, "error", "killed by signal 11"),
    ("raise SystemExit(0)", {}, "error", "SystemExit: 0"),
    ("import time; time.sleep(60)", {"per_test_wall_s": 2}, "timeout", "longer than 2 s (wall clock)"),
    ("while True: pass", {"per_test_cpu_s": 1, "per_test_wall_s": 5}, "timeout", "more than 1 s of CPU time"),
])
def test_a_unit_that_ends_or_overruns_its_process_costs_only_itself(
        runner: SandboxRunner, limits: SandboxLimits, on_bad_shapes: str, overrides: dict[str, float], status: str,
        message: str) -> None:
    verdicts = _grade(runner, limits, on_bad_shapes, **overrides)
    for item, verdict in verdicts.items():
        if item == "test-matmul-immediate":
            assert verdict.startswith(status) and message in verdict, verdict
        elif item == "hidden-matmul-shape-errors":
            assert verdict.startswith(status), verdict
        else:
            assert verdict.startswith("passed"), (item, verdict)
