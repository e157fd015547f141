"""Units run in turn in one workspace; one that overruns or ends it costs only itself, as a forked unit did.

The units after it still run, in a new workspace that rebuilt the notebook; on both pools. A probe program of
every step verb answers in the report's strict contract from the real sandbox.
"""

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from grader.assignments.bundle import load_assignment
from grader.sandbox.job import JobCell, JobProbe, SandboxJob, SandboxLimits
from grader.sandbox.runner import SandboxRunner
from grader.services.evaluate import evaluate
from grader.verdicts.judge import parse_report
from grader.verdicts.program import call, get, method, new, program, ref, set_attr

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


PROGRAM_CELL = '''
import math, sys, types
import numpy as np

fake = types.ModuleType("math")
fake.sqrt = lambda x: -1.0
sys.modules["math"] = fake  # a probe's package names were bound before this ran


class Counter:
    def __init__(self, start, *, step=1):
        self.count, self.step = start, step

    def bump(self, times=1):
        self.count += self.step * times
        return np.full(2, self.count)


class Loud(Exception):
    def __str__(self):
        raise KeyboardInterrupt


class Exiting:
    def __getattr__(self, name):
        raise SystemExit(9)


def shout():
    raise Loud()


def huge():
    return np.zeros(300_000)
'''


def _line(source: str, text: str) -> int:
    return next(number for number, line in enumerate(source.splitlines(), start=1) if text in line)


def _program_job(limits: SandboxLimits) -> SandboxJob:
    every_verb = program(
        new("Counter", 2, step=3), method(0, "bump", times=2), set_attr(0, "step", 10), get(0, "step"),
        call("math:sqrt", 16.0), call("numpy:transpose", ref(1)), call("shout").caught(), call("huge"),
        method(0, "bump").summarized([0, 1]), get(0, "missing"), call("huge"), seed=4)
    exits = program(new("Exiting"), get(0, "weights"))
    return SandboxJob(module_name="layers_dev", cells=[JobCell(key="program", source=PROGRAM_CELL)], tests=[],
                      probes=[JobProbe(probe_id="every-verb", calls=[every_verb.wire]),
                              JobProbe(probe_id="exits", calls=[exits.wire]),
                              JobProbe(probe_id="after", calls=[program(call("huge")).wire])],
                      limits=limits)


def test_a_program_of_every_verb_answers_in_the_strict_contract(runner: SandboxRunner, limits: SandboxLimits) -> None:
    """Student exceptions are data, a lying __str__ is harmless, package names were bound before the cells, and a
    SystemExit ends only its own unit."""
    result = runner.run(_program_job(limits))
    assert result.report is not None, result.diagnostics
    report = parse_report(result.report)
    answer = report.units["every-verb"].unit_result
    assert answer is not None and answer.outcome.status == "ok"
    steps = answer.outcome.results[0].value
    assert steps is not None and steps.failure is not None
    dumped = [value.model_dump() for value in steps.values]
    assert [d["kind"] for d in dumped] == ["other", "array", "none", "number", "number", "array", "error", "other",
                                           "summary"]
    assert dumped[1]["values"] == [8, 8] and dumped[3]["value"] == 10 and dumped[4]["value"] == 4.0
    assert dumped[6]["error"] == {"type": "Loud", "message": "<the exception could not be printed>",
                                  "where": f"cell program, line {_line(PROGRAM_CELL, 'raise Loud')}: raise Loud()"}
    assert dumped[8]["mean"] == 18.0 and dumped[8]["sample"] == [18.0, 18.0]
    assert steps.failure.error.type == "AttributeError" and not steps.failure.assertion
    exits = report.units["exits"]
    assert exits.unit_result is None and exits.unit_end is not None and exits.unit_end.code == 70
    after = report.units["after"].unit_result
    assert after is not None and after.outcome.results[0].value is not None
