"""Mixed-batch benchmark: one queue of submissions to several bundles, graded by worker-like processes that each
keep their own warm pool, as a worker's pool processes do. It reports submissions per second and how many
sandboxes (each with its zygote) were started: one per runtime per process is right, one per job is a defect.

    .venv/bin/python bench/mixed_batch.py --bundles layers layers-linear --submissions 1000
    .venv/bin/python bench/mixed_batch.py --bundles layers layers --submissions 1000   # before layers-linear

A bundle id given twice gets, the second time, its package with one extra file (so a runtime of its own, with
its own digest): two runtimes before a second bundle exists. Each bundle's submissions are its instructor source
(full marks), its `examples/*.py` and its release (the empty student file), each with the student's name
appended, interleaved bundle by bundle, the worst order for a pool that keeps one sandbox. The same queue's first
`--one-sandbox-submissions` are also graded with GRADER_SANDBOX_WARM_RUNTIMES=1: one warm sandbox per process,
as today's main keeps, which must start a sandbox on every switch of runtime. The last line is exactly
`mixed: N submissions over B bundles, R subs/s, S sandbox starts (P processes); one sandbox: r subs/s, s starts`.
"""

import argparse
import dataclasses
import os
import shlex
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from grader.assignments.bundle import AssignmentBundle, load_assignment
from grader.assignments.release import clear_solutions
from grader.config import SandboxSettings, Settings
from grader.sandbox.job import SandboxJob, SandboxResult
from grader.sandbox.package import PackageSpec
from grader.sandbox.runner import SandboxRunner, limits_from_settings, make_runner
from grader.sandbox.warm_backend import WarmRunner
from grader.services.evaluate import evaluate

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Submission:
    bundle: int
    content: bytes
    filename: str


class _WithPackage:
    """Runs every job with the given package: the second runtime of a bundle given twice."""

    def __init__(self, runner: SandboxRunner, package: PackageSpec) -> None:
        self.runner, self.package, self.name, self.pool = runner, package, runner.name, runner.pool

    def run(self, job: SandboxJob) -> SandboxResult:
        return self.runner.run(dataclasses.replace(job, package=self.package))


def _packages(bundles: list[AssignmentBundle]) -> list[PackageSpec | None]:
    """None: the bundle's own package; a package of its own for an id seen before."""
    seen: set[str] = set()
    packages: list[PackageSpec | None] = []
    for index, bundle in enumerate(bundles):
        if bundle.name in seen:
            base = bundle.package
            packages.append(dataclasses.replace(base, files=(*base.files, (f"bench_runtime_{index}.py", b"N = 1\n"))))
        else:
            packages.append(None)
        seen.add(bundle.name)
    return packages


def _files(bundle: AssignmentBundle) -> list[bytes]:
    examples = [path.read_bytes() for path in sorted((bundle.folder / "examples").glob("*.py"))]
    return [bundle.source_text.encode(), *examples, clear_solutions(bundle.source_text).encode()]


def _queue(bundles: list[AssignmentBundle], size: int) -> list[Submission]:
    """`size` submissions, bundle after bundle, each file of a bundle in turn, no two with the same bytes."""
    files = [_files(bundle) for bundle in bundles]
    queue = []
    for index in range(size):
        which = index % len(bundles)
        body = files[which][(index // len(bundles)) % len(files[which])]
        filename = bundles[which].submission_filename
        queue.append(Submission(which, body + f"\n# student-{index:05d}\n".encode(), filename))
    return queue


def _grade(queue: list[Submission], bundle_ids: list[str], warm_runtimes: int, write: int) -> None:
    """One worker-like process: its own warm pool, its share of the queue; starts and statuses to `write`."""
    bundles = [load_assignment(name) for name in bundle_ids]
    settings = Settings(sandbox=SandboxSettings(pool="warm", warm_runtimes=warm_runtimes,
                                                per_test_cpu_s=1.0, per_test_wall_s=3.0))
    runner = make_runner(settings)
    assert isinstance(runner, WarmRunner)
    limits = limits_from_settings(settings)
    runners = [runner if package is None else _WithPackage(runner, package) for package in _packages(bundles)]
    statuses: Counter[str] = Counter()
    for submission in queue:
        evaluation = evaluate(bundles[submission.bundle], submission.content, submission.filename,
                              runners[submission.bundle], limits, max_bytes=512 * 1024)
        statuses.update(item.verdict.status for item in evaluation.score.items)
    runner.close()
    os.write(write, f"{runner.starts} {dict(statuses)}\n".encode())


def _rss_mib(pids: list[int]) -> float:
    """RSS of the processes and all their descendants (their warm sandboxes)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                children.setdefault(int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1]),
                                    []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    total, pending = 0, list(pids)
    while pending:
        pid = pending.pop()
        pending += children.get(pid, [])
        try:
            total += next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                          if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
    return total / 1024


def run(queue: list[Submission], bundle_ids: list[str], processes: int,
        warm_runtimes: int) -> tuple[float, int, str, float]:
    """Grade the queue over `processes` forked processes, each a contiguous share (so each sees every bundle in
    turn); (seconds, sandbox starts, statuses, peak RSS MiB)."""
    read, write = os.pipe()
    started, pids = time.monotonic(), []
    for index in range(processes):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(read)
                share = queue[index * len(queue) // processes:(index + 1) * len(queue) // processes]
                _grade(share, bundle_ids, warm_runtimes, write)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        pids.append(pid)
    os.close(write)
    peak, alive = 0.0, set(pids)
    while alive:
        peak = max(peak, _rss_mib(sorted(alive)))
        time.sleep(1.0)
        alive -= {pid for pid in list(alive) if os.waitpid(pid, os.WNOHANG)[0] == pid}
    seconds = time.monotonic() - started
    with os.fdopen(read) as lines:
        answers = lines.read().splitlines()
    if len(answers) != processes:
        raise SystemExit(f"only {len(answers)} of {processes} processes finished")
    starts = sum(int(line.split(" ", 1)[0]) for line in answers)
    return seconds, starts, "; ".join(line.split(" ", 1)[1] for line in answers), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bundles", nargs="+", default=["layers", "layers"], help="bundle ids (one may repeat)")
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2, help="worker-like processes, each with its own pool")
    parser.add_argument("--warm-runtimes", type=int, default=SandboxSettings().warm_runtimes)
    parser.add_argument("--one-sandbox-submissions", type=int, default=100,
                        help="of the queue, graded again with one warm sandbox per process (0: skip)")
    args = parser.parse_args()
    bundles = [load_assignment(name) for name in args.bundles]
    queue = _queue(bundles, args.submissions)
    print(f"command: {shlex.join([sys.executable, *sys.argv])}  ({os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.2f}; {args.processes} processes; runtimes "
          f"{len({p.digest if p else b.name for b, p in zip(bundles, _packages(bundles), strict=True)})})")
    seconds, starts, statuses, peak = run(queue, args.bundles, args.processes, args.warm_runtimes)
    rate = len(queue) / seconds
    print(f"[pool of {args.warm_runtimes}] {len(queue)} submissions in {seconds:.1f} s = {rate:.1f} subs/s; "
          f"{starts} sandbox starts; peak RSS of the processes and their sandboxes {peak:.0f} MiB; "
          f"item statuses per process: {statuses}")
    one_rate, one_starts = float("nan"), 0
    if args.one_sandbox_submissions:
        small = queue[:args.one_sandbox_submissions]
        one_seconds, one_starts, one_statuses, one_peak = run(small, args.bundles, args.processes, 1)
        one_rate = len(small) / one_seconds
        print(f"[one sandbox] {len(small)} submissions in {one_seconds:.1f} s = {one_rate:.1f} subs/s; "
              f"{one_starts} sandbox starts; peak RSS {one_peak:.0f} MiB; item statuses: {one_statuses}")
    print(f"mixed: {len(queue)} submissions over {len(bundles)} bundles, {rate:.1f} subs/s, {starts} sandbox starts "
          f"({args.processes} processes); one sandbox: {one_rate:.1f} subs/s, {one_starts} starts")


if __name__ == "__main__":
    main()
