"""What `grader assignments check` costs on the warm pool, and how often a locked test fails a correct solution.

Cost: one warm runner (the default bubblewrap pool) is started and warmed with one graded run, then the default
check of a shipped bundle (3 graded runs of the solution, the release once, each locked test swept under the
default seeds) is timed `--repeats` times. Each sandbox job is timed as it passes the runner, so the sweep job
(every locked test under every seed) is reported apart from the graded runs.

Rate: `--rate-seeds N` sweeps the bundle's locked tests on its solution under seeds START..START+N-1 in one job and
prints each test's failures: how the default N (and the miss probability in `grader assignments check --help`)
was chosen.

    .venv/bin/python bench/check.py --assignment layers --repeats 3
    .venv/bin/python bench/check.py --assignment layers --rate-seeds 120000
"""

import argparse
import math
import os
import statistics
import sys
import time

from grader.assignments.registry import find_assignment
from grader.config import Settings
from grader.sandbox.job import SandboxJob, SandboxResult
from grader.sandbox.runner import SandboxRunner, limits_from_settings, make_runner
from grader.services.check import DEFAULT_RUNS, check_bundle
from grader.services.check_sweep import MAX_UNIT_S, sweep_locked_tests


class Timed:
    """The runner, with the wall time of every job it ran (sweep jobs apart)."""

    def __init__(self, runner: SandboxRunner) -> None:
        self.runner, self.name, self.pool = runner, runner.name, runner.pool
        self.graded: list[float] = []
        self.sweeps: list[float] = []

    def run(self, job: SandboxJob) -> SandboxResult:
        started = time.monotonic()
        result = self.runner.run(job)
        sweep = any(test.sweep for test in job.tests)
        (self.sweeps if sweep else self.graded).append(time.monotonic() - started)
        return result


def _cost(runner: SandboxRunner, assignment: str, repeats: int, runs: int) -> None:
    bundle = find_assignment(assignment)
    limits = limits_from_settings(Settings())
    started = time.monotonic()
    check_bundle(bundle, runner=runner, runs=1, full_runs=1, seed=0, limits=limits)
    print(f"warm-up (sandbox start + a 1-seed check): {time.monotonic() - started:.2f} s")
    timed = Timed(runner)
    totals = []
    for repeat in range(repeats):
        report = check_bundle(bundle, runner=timed, runs=runs, seed=repeat, limits=limits)
        totals.append(report.cost_s)
        print(f"check {repeat + 1}: {report.cost_s:.2f} s, passed={report.passed}, flaky={report.flaky}")
    locked = sum(1 for item in bundle.rubric.items if item.kind == "locked")
    sweep = statistics.median(timed.sweeps)
    print(f"graded runs: median {statistics.median(timed.graded):.2f} s each ({len(timed.graded)} jobs)")
    print(f"sweep job: median {sweep:.2f} s for {locked} locked tests x {runs} seeds "
          f"({1000 * sweep / (locked * runs):.2f} ms per test per seed)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"check: {assignment}, {runs} seeds, median {statistics.median(totals):.2f} s, "
          f"max {max(totals):.2f} s over {repeats} checks")


def _rate(runner: SandboxRunner, assignment: str, start: int, count: int) -> None:
    bundle = find_assignment(assignment)
    started = time.monotonic()
    budgets = {item.id: MAX_UNIT_S / count for item in bundle.rubric.items}  # a measurement: no tight limit
    sweeps = sweep_locked_tests(bundle, runner, limits_from_settings(Settings()), list(range(start, start + count)),
                                budgets)
    print(f"swept seeds {start}..{start + count - 1} in {time.monotonic() - started:.1f} s")
    for item_id, sweep in sweeps.items():
        failed = sweep.runs - sweep.passed
        if sweep.error:
            print(f"{item_id}: {sweep.error}")
            continue
        rate = failed / sweep.runs
        miss = (1 - rate) ** DEFAULT_RUNS if rate else 1.0
        one_in = f"1 in {1 / rate:.0f}" if rate else "never"
        print(f"{item_id}: {failed} of {sweep.runs} seeds fail ({one_in}; first {sweep.failing_seed}); "
              f"{DEFAULT_RUNS} fresh seeds would miss it with probability {miss:.2g}")
    print(f"a test failing 1 in 500: {DEFAULT_RUNS // 2} fresh seeds miss it with probability "
          f"{math.pow(499 / 500, DEFAULT_RUNS // 2):.3f}, {DEFAULT_RUNS} with {math.pow(499 / 500, DEFAULT_RUNS):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="layers")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--rate-seeds", type=int, default=0, help="measure failure rates over this many seeds")
    parser.add_argument("--rate-start", type=int, default=0)
    args = parser.parse_args()
    runner = make_runner(Settings())
    try:
        if args.rate_seeds:
            _rate(runner, args.assignment, args.rate_start, args.rate_seeds)
        else:
            _cost(runner, args.assignment, args.repeats, args.runs)
    finally:
        getattr(runner, "close", lambda: None)()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
