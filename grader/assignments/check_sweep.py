"""The locked tests of a bundle, each swept on the solution under many seeds in one sandbox job.

A sweep unit runs its test once per seed and answers a count and the first few failures, so thousands of seeds
cost one job, not thousands. Its report is as untrusted as any: only counts that fit the seeds sent are kept.
"""

from dataclasses import replace

from grader.assignments.bundle import AssignmentBundle
from grader.assignments.check_report import Sweep
from grader.notebooks.reader import read_submission
from grader.notebooks.restore import restore_locked_cells
from grader.sandbox.job import JobTest, SandboxJob, SandboxLimits, UnitLimits
from grader.sandbox.runner import SandboxRunner
from grader.services.evaluate import item_limits
from grader.verdicts.judge import parse_report
from grader.verdicts.wire import SandboxReport, UnitRecord

SWEEP_SEED_CPU_S = 0.2  # what one seed of a locked test may cost on average in a sweep (a layers seed: ~1 ms)
MAX_UNIT_S = 3600.0


def sweep_limits(limits: SandboxLimits, own: UnitLimits | None, seeds: int) -> UnitLimits:
    """A sweep's limits scale with its seeds: one graded unit's CPU plus SWEEP_SEED_CPU_S per seed, and twice
    that in wall time (the check may share its machine)."""
    cpu = min(MAX_UNIT_S, limits.for_unit(own).per_test_cpu_s + seeds * SWEEP_SEED_CPU_S)
    return UnitLimits(per_test_cpu_s=cpu, per_test_wall_s=min(MAX_UNIT_S, 2 * cpu + 5))


def sweep_job(bundle: AssignmentBundle, limits: SandboxLimits, seeds: list[int]) -> SandboxJob:
    """The solution's cells, then one sweep unit per locked item; no probes. The job's wall clock covers them all."""
    filename = bundle.submission_filename.rsplit(".", 1)[0] + ".py"
    restored = restore_locked_cells(read_submission(bundle.source_text.encode("utf-8"), filename,
                                                    max_bytes=16 * 1024 * 1024), bundle.source_cells)
    tests = [JobTest(item_id=item.id, source=restored.tests[item.id], seeds=list(seeds), sweep=True,
                     limits=sweep_limits(limits, item_limits(item), len(seeds)))
             for item in bundle.rubric.items if item.kind == "locked"]
    wall = limits.wall_s + sum(float(test.limits.per_test_wall_s or 0) for test in tests if test.limits)
    return SandboxJob(module_name=bundle.module_name, cells=restored.cells, tests=tests, probes=[],
                      package=bundle.package, limits=replace(limits, wall_s=wall))


def sweep_locked_tests(bundle: AssignmentBundle, runner: SandboxRunner, limits: SandboxLimits,
                       seeds: list[int]) -> dict[str, Sweep]:
    """Every locked item's sweep on the solution, by item id."""
    job = sweep_job(bundle, limits, seeds)
    if not job.tests:
        return {}
    result = runner.run(job)
    try:
        report = parse_report(result.report or b"")
    except ValueError:
        why = f"the sweep's report could not be read ({result.killed or result.exit})"
        return {test.item_id: Sweep(runs=len(seeds), passed=0, error=why) for test in job.tests}
    units = job.unit_limits()
    return {test.item_id: _sweep(report, report.units.get(test.item_id), seeds, units[test.item_id])
            for test in job.tests}


def _sweep(report: SandboxReport, record: UnitRecord | None, seeds: list[int], limits: SandboxLimits) -> Sweep:
    """The count a unit claimed, if it is one of these seeds' counts; otherwise why there is none."""
    outcome = record.unit_result.outcome if record is not None and record.unit_result is not None else None
    if outcome is not None and outcome.status == "swept" and outcome.runs == len(seeds) \
            and outcome.passed <= outcome.runs:
        failures = [failure for failure in outcome.failures if failure.seed in set(seeds)]
        if outcome.passed < outcome.runs and not failures:
            return Sweep(runs=len(seeds), passed=0, error="the sweep reported failures without their seeds")
        first = failures[0] if failures else None
        return Sweep(runs=len(seeds), passed=outcome.passed, failing_seed=first.seed if first else None,
                     failing_message=first.error.describe() if first else "")
    return Sweep(runs=len(seeds), passed=0, error=_no_count(report, record, outcome, limits))


def _no_count(report: SandboxReport, record: UnitRecord | None, outcome: object, limits: SandboxLimits) -> str:
    status = getattr(outcome, "status", None)
    error = getattr(outcome, "error", None)
    if status is not None:
        return f"the sweep ended {status}" + (f": {error.describe()}" if error is not None else "")
    if report.setup.status != "ok":
        return f"the solution's notebook did not finish running (in {report.setup.cell or 'its first cell'})"
    end = record.unit_end if record is not None else None
    if end is None:
        return "the sweep never ran: the check's run ended first"
    if end.ended == "wall":
        return f"the sweep took longer than {limits.per_test_wall_s:.0f} s (wall clock)"
    if end.ended == "signal" and end.cpu_s >= limits.per_test_cpu_s - 0.5:
        return f"the sweep used more than {limits.per_test_cpu_s:.0f} s of CPU: lower --runs or speed the test up"
    if end.ended == "signal":
        return f"the sweep's process was killed by signal {end.signal}"
    return f"the sweep's process exited (code {end.code}) before reporting: does the test call sys.exit()?"
