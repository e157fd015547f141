"""A rubric item's own limits reach the harness as its unit's limits: PID 1 enforces them, and the judge's
message names them, not the run's."""

import dataclasses
from pathlib import Path

import pytest

from grader.assignments.bundle import load_assignment
from grader.sandbox.job import JobProbe, JobTest, SandboxJob, SandboxLimits, UnitLimits
from grader.sandbox.launch import job_cpu_cap
from grader.sandbox.runner import SandboxRunner
from grader.services.evaluate import build_job
from grader.verdicts.judge import Judge
from grader.verdicts.plan import ProbePlan

from .conftest import layers_package

HONEST = Path(__file__).resolve().parents[1] / "data" / "hostile" / "honest.py"
LOOP = "def test_spins():\n    while True:\n        pass\n"
SLEEP = "import time\n\ndef test_sleeps():\n    time.sleep(60)\n"


def test_a_units_own_limits_are_enforced_and_named(runner: SandboxRunner, limits: SandboxLimits) -> None:
    bundle = load_assignment("layers")
    plan = ProbePlan.draw(bundle, 7)
    job, _, _ = build_job(bundle, HONEST.read_bytes(), "layers_dev.py", plan, limits, max_bytes=512 * 1024)
    spin, sleep, honest = (test.item_id for test in job.tests)
    own = {spin: (LOOP, UnitLimits(per_test_cpu_s=1)), sleep: (SLEEP, UnitLimits(per_test_wall_s=2))}
    tests = [dataclasses.replace(test, source=own[test.item_id][0], limits=own[test.item_id][1])
             if test.item_id in own else test for test in job.tests]
    job = dataclasses.replace(job, tests=tests)
    assert limits.per_test_cpu_s == 5 and limits.per_test_wall_s == 15
    result = runner.run(job)
    verdicts = Judge(bundle, plan, limits, job.unit_limits()).judge(result).verdicts
    assert (verdicts[spin].status, verdicts[spin].limit) == ("timeout", "cpu")
    assert verdicts[spin].message.startswith("this test used more than 1 s of CPU time"), verdicts[spin].message
    assert (verdicts[sleep].status, verdicts[sleep].limit) == ("timeout", "wall")
    assert verdicts[sleep].message.startswith("this test took longer than 2 s (wall clock)"), verdicts[sleep].message
    assert verdicts[honest].status == "passed"
    assert {verdicts[item.id].status for item in bundle.rubric.items if item.kind == "hidden"} == {"passed"}
    assert result.wall_s < 15, "a unit ran under the run's limits, not its own"


def test_unit_limits_travel_only_where_they_differ_and_count_in_the_cpu_cap() -> None:
    limits = SandboxLimits(cpu_s=20, per_test_cpu_s=5, per_test_wall_s=15)
    job = SandboxJob(module_name="m", cells=[], package=layers_package(), limits=limits,
                     tests=[JobTest("t1", "", [1]), JobTest("t2", "", [1], UnitLimits(per_test_cpu_s=30))],
                     probes=[JobProbe("p1", []), JobProbe("p2", [], limits=UnitLimits(per_test_wall_s=4))])
    wire = job.to_wire()
    assert [test["limits"] for test in wire["tests"]] == [None, {"per_test_cpu_s": 30, "per_test_wall_s": 31}]
    assert [probe["limits"] for probe in wire["probes"]] == [None, {"per_test_cpu_s": 5, "per_test_wall_s": 4}]
    assert job_cpu_cap(job) == 20 + 5 + 30 + 5 + 5 + 5
    assert job.unit_limits()["t2"].per_test_cpu_s == 30 and job.unit_limits()["p1"] == limits


@pytest.mark.parametrize("value", [0, -1, 1e9, "5", True])
def test_a_unit_limit_must_be_a_sensible_number_of_seconds(value: object) -> None:
    with pytest.raises(ValueError, match="per_test_cpu_s must be a number of seconds"):
        UnitLimits(per_test_cpu_s=value)  # type: ignore[arg-type]
