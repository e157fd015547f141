"""The locked tests of a bundle, each swept on the solution under many seeds in one sandbox job.

A sweep unit runs its test once per seed and answers a count and the first few failures, so thousands of seeds
cost one job, not thousands. Its report is as untrusted as any: only counts that fit the seeds sent are kept.
"""

from dataclasses import replace

from grader.assignments.bundle import AssignmentBundle
from grader.assignments.check_report import Sweep
from grader.notebooks.reader import read_submission
from grader.notebooks.restore import restore_locked_cells
from grader.sandbox.job import JobTest, SandboxJob, SandboxLimits, SandboxResult, UnitLimits
from grader.sandbox.runner import SandboxRunner
from grader.verdicts.judge import parse_report
from grader.verdicts.wire import SandboxReport, UnitRecord

SEED_CPU_FACTOR = 10  # a seed of a sweep may cost this many times what one seed cost in the graded runs
SEED_CPU_FLOOR_S = 0.01  # and at least this (a seed of a shipped bundle costs ~0.3 ms; /proc counts in 10 ms ticks)
MAX_UNIT_S = 3600.0
CPU_TICK_S = 0.01


def seed_budgets(bundle: AssignmentBundle, graded: list[SandboxResult]) -> dict[str, float]:
    """CPU seconds one seed of each locked test may cost in its sweep: SEED_CPU_FACTOR times the most one attempt
    of it took in the solution's graded runs (PID 1's own count), at least SEED_CPU_FLOOR_S, at most one unit's
    limit. So a solution that loops under some seed costs about ten times its normal sweep, never hours."""
    costs: dict[str, float] = {}
    for result in graded:
        try:
            report = parse_report(result.report or b"")
        except ValueError:
            continue
        for item in bundle.rubric.items:
            record = report.units.get(item.id)
            if item.kind == "locked" and record is not None and record.unit_end and record.unit_result:
                spent = max(0.0, record.unit_end.cpu_s - CPU_TICK_S)  # a fast test may straddle one tick
                attempt = spent / max(1, record.unit_result.outcome.attempts)
                costs[item.id] = max(costs.get(item.id, 0.0), attempt)
    return {item.id: max(SEED_CPU_FLOOR_S, SEED_CPU_FACTOR * costs.get(item.id, 0.0))
            for item in bundle.rubric.items if item.kind == "locked"}


def sweep_limits(limits: SandboxLimits, own: UnitLimits | None, seeds: int, seed_cpu_s: float) -> UnitLimits:
    """A sweep's limits scale with its seeds: one graded unit's CPU plus `seed_cpu_s` (at most that unit's CPU)
    per seed, and twice that in wall time (the check may share its machine)."""
    unit = limits.for_unit(own).per_test_cpu_s
    cpu = min(MAX_UNIT_S, unit + seeds * min(seed_cpu_s, unit))
    return UnitLimits(per_test_cpu_s=cpu, per_test_wall_s=min(MAX_UNIT_S, 2 * cpu + 5))


def sweep_job(bundle: AssignmentBundle, limits: SandboxLimits, seeds: list[int],
              budgets: dict[str, float]) -> SandboxJob:
    """The solution's cells, then one sweep unit per locked item; no probes. The job's wall clock covers them all."""
    filename = bundle.submission_filename.rsplit(".", 1)[0] + ".py"
    restored = restore_locked_cells(read_submission(bundle.source_text.encode("utf-8"), filename,
                                                    max_bytes=16 * 1024 * 1024), bundle.source_cells)
    tests = [JobTest(item_id=item.id, source=restored.tests[item.id], seeds=list(seeds), sweep=True,
                     limits=sweep_limits(limits, item.limits, len(seeds),
                                        budgets.get(item.id, SEED_CPU_FLOOR_S)))
             for item in bundle.rubric.items if item.kind == "locked"]
    wall = limits.wall_s + sum(float(test.limits.per_test_wall_s or 0) for test in tests if test.limits)
    return SandboxJob(module_name=bundle.module_name, cells=restored.cells, tests=tests, probes=[],
                      package=bundle.package, limits=replace(limits, wall_s=wall))


def sweep_locked_tests(bundle: AssignmentBundle, runner: SandboxRunner, limits: SandboxLimits,
                       seeds: list[int], budgets: dict[str, float]) -> dict[str, Sweep]:
    """Every locked item's sweep on the solution, by item id, each seed costing at most its budget on average."""
    job = sweep_job(bundle, limits, seeds, budgets)
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
        sent = set(seeds)
        failures = [failure for failure in outcome.failures if failure.seed in sent]
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
        return (f"the sweep used more than {limits.per_test_cpu_s:.0f} s of CPU (ten times what its seeds cost in the "
                "graded runs): a seed that loops, or lower --runs")
    if end.ended == "signal":
        return f"the sweep's process was killed by signal {end.signal}"
    return f"the sweep's process exited (code {end.code}) before reporting: does the test call sys.exit()?"
