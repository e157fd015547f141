"""Regrade benchmark: a realistic class regraded end to end through Celery, Redis, Postgres and the sandbox.

It seeds N submissions (correct, partially wrong, failing, a few that time out) with an old current result,
starts its own `grader worker` processes against the running Redis and Postgres, starts a regrade batch and
times it until every run is stored, once on the warm path and once on the cold path, side by side.

    .venv/bin/python bench/regrade.py --submissions 1000 --cold-submissions 60
    .venv/bin/python bench/regrade.py --memory-run 5000      # warm only: worker RSS at start and end
    git worktree add --detach /tmp/regrade-base main         # once: the checkout to compare with
    .venv/bin/python bench/regrade.py --base /tmp/regrade-base --submissions 500 --rounds 2

With --base, the warm path is measured on the base checkout and on this one, alternately (base, this, base,
this, ...), each side's workers run by this venv's interpreter with PYTHONPATH naming its checkout (the same
libraries, so the difference is the code); the batch is seeded and started by this checkout either way. Its last
line is exactly `regrade: N submissions, R subs/s this, B subs/s base, ratio X` (this / base, summed over rounds).

Every submission's file is one of the mix's, with its student's name appended as a comment, so no two
submissions share bytes (or a sha256), as in a real class. Besides throughput and latency it prints where the
machine's CPU went (workers, their sandboxes, PostgreSQL, Redis, this script, the rest) and the load average.
The last line is exactly `regrade: N submissions, R subs/s warm, C subs/s cold, ratio X`.
"""

import argparse
import hashlib
import os
import shlex
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cpu_parts  # bench/ is on sys.path when run as a script
import psycopg
import redis
from celery import Celery
from sqlalchemy import Engine, make_url, select
from sqlalchemy.orm import Session, sessionmaker

from grader.assignments.bundle import load_assignment
from grader.config import Settings
from grader.db import make_engine, make_session_factory, session_scope
from grader.migrate import upgrade
from grader.models import GradingRun, RunStatus, Submission
from grader.notebooks.reader import read_submission
from grader.notebooks.stored import stored_cells
from grader.services.queueing import dispatching_scope
from grader.services.regrade import RegradeRequest, start_batch

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLES = REPO_ROOT / "tests" / "data" / "submissions"
HOSTILE = REPO_ROOT / "tests" / "data" / "hostile"
MIX = (  # (file, share of the class): mostly correct, some partially wrong, a few failing, a couple looping
    (REPO_ROOT / "grader/assignments/layers/examples/student_solution.py", 0.465),
    (REPO_ROOT / "grader/assignments/layers/layers_dev.py", 0.15),
    (SAMPLES / "bias_ignored.py", 0.10),
    (SAMPLES / "missing_shape_check.py", 0.10),
    (SAMPLES / "wrong_matmul_index.py", 0.08),
    (SAMPLES / "release.py", 0.05),
    (SAMPLES / "syntax_error.py", 0.05),
    (HOSTILE / "loop_in_solution.py", 0.005),
)
ADMIN_URL = os.environ.get("GRADER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("GRADER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


@dataclass(frozen=True)
class PathFigures:
    """What one batch on one sandbox path measured."""

    pool: str
    submissions: int
    seconds: float
    latencies: list[float]
    service: list[float]
    cpu_s: float
    rss_start_mib: float
    rss_end_mib: float
    statuses: Counter[str]
    cpu_by_part: dict[str, float]
    load: tuple[float, float]
    rss_series: list[str]
    sandbox_starts: int | None = None  # runs whose job needed a new sandbox (None: the checkout does not record it)

    @property
    def rate(self) -> float:
        return self.submissions / self.seconds if self.seconds else 0.0


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _class_mix(size: int) -> list[Path]:
    """`size` files in the mix's proportions, interleaved so every kind is in flight at once."""
    files: list[Path] = []
    for path, share in MIX:
        files += [path] * max(1, round(size * share))
    files = files[:size] + [MIX[0][0]] * max(0, size - len(files))
    return [files[(i * 7919) % len(files)] for i in range(len(files))]


def _seed_class(factory: sessionmaker[Session], size: int) -> None:
    """Submissions whose current results were produced by an older rubric: exactly what a regrade is for.
    Each keeps the cells its upload parsed, as every submission that came through the API or CLI does."""
    contents = {path: path.read_bytes() for path, _ in MIX}
    with session_scope(factory) as session:
        for index, path in enumerate(_class_mix(size)):
            student = f"student-{index:05d}"
            content = contents[path] + f"\n# {student}\n".encode()
            cells = stored_cells(read_submission(content, "layers_dev.py", max_bytes=len(content)))
            submission = Submission(assignment="layers", student=student, filename="layers_dev.py", content=content,
                                    sha256=hashlib.sha256(content).hexdigest(), size_bytes=len(content),
                                    parsed_cells=cells)
            session.add(submission)
            session.add(GradingRun(submission=submission, rubric_version="rubric-before-the-fix",
                                   status=RunStatus.GRADED.value, is_current=True, score=0, max_score=90, attempt=1))


def _process_tree(root: int) -> list[int]:
    """`root` and every descendant, from /proc (the worker, its pool, and its sandboxes)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending += children.get(pid, [])
    return tree


def _rss_mib(roots: list[int]) -> float:
    total = 0
    for root in roots:
        for pid in _process_tree(root):
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
    return total / 1024


def _machine_cpu_s() -> float:
    """CPU seconds the whole machine spent (every process: workers, sandboxes, Postgres, Redis)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(v) for i, v in enumerate(fields) if i not in (3, 4))
    return busy / os.sysconf("SC_CLK_TCK")


def _start_workers(env: dict[str, str], args: argparse.Namespace, log_dir: Path) -> list[subprocess.Popen[bytes]]:
    workers = []
    for index in range(args.workers):
        side = Path(env["PYTHONPATH"]).name if "PYTHONPATH" in env else "this"
        log = (log_dir / f"worker-{side}-{env['GRADER_SANDBOX_POOL']}-{index}.log").open("ab")
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "grader", "worker", "--concurrency", str(args.concurrency),
             "--hostname", f"bench{index}@%h"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=log_dir))
    return workers


def _celery() -> Celery:
    from workers.app import create_app

    return create_app(Settings(broker_url=REDIS_URL))


def _wait_ready(log_dir: Path, count: int, timeout_s: float = 120) -> None:
    """Every worker answers a broadcast ping, so the batch measures grading, not start-up."""
    app = _celery()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=1.0) or []) >= count:
            return
    raise SystemExit(f"workers did not come up within {timeout_s:.0f} s; see {log_dir}")


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        try:
            os.killpg(worker.pid, 15)
            worker.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(worker.pid, 9)
            worker.wait()


def _run_batch(factory: sessionmaker[Session]) -> str:
    from workers.dispatch import celery_dispatcher

    with dispatching_scope(factory, celery_dispatcher(_celery())) as session:
        batch = start_batch(session, RegradeRequest(assignment="layers", requested_by="bench"))
        return batch.id


def _finished(connection: psycopg.Connection, batch_id: str) -> tuple[int, Counter[str]]:
    """Runs of the batch by status: one small query on a connection kept open, so polling costs next to nothing."""
    rows = connection.execute("SELECT status, count(*) FROM grading_runs WHERE batch_id = %s GROUP BY status",
                              (batch_id,)).fetchall()
    statuses = Counter({status: count for status, count in rows})
    return statuses["graded"] + statuses["error"], statuses


def _latencies(factory: sessionmaker[Session], batch_id: str) -> tuple[list[float], list[float]]:
    """Per run: queued->stored (includes the wait behind the rest of the batch) and claimed->stored (its own)."""
    with session_scope(factory) as session:
        rows = session.execute(select(GradingRun.dispatched_at, GradingRun.started_at, GradingRun.finished_at)
                               .where(GradingRun.batch_id == batch_id)).all()
    queued = sorted((done - sent).total_seconds() for sent, _, done in rows if sent and done)
    own = sorted((done - began).total_seconds() for _, began, done in rows if began and done)
    return queued, own


def _sandbox_starts(factory: sessionmaker[Session], batch_id: str) -> int | None:
    """How many of the batch's runs started a sandbox (and its zygote) for their job, as each run records it."""
    with session_scope(factory) as session:
        usages = session.execute(select(GradingRun.sandbox_usage).where(GradingRun.batch_id == batch_id)).scalars()
        flags = [usage.get("sandbox_started") for usage in usages if usage]
    return None if all(flag is None for flag in flags) else sum(1 for flag in flags if flag)


def _worker_env(url: str, pool: str, args: argparse.Namespace, log_dir: Path,
                checkout: Path | None = None) -> dict[str, str]:
    """The workers' environment; `checkout` (the base) goes first on their import path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_") and k != "PYTHONPATH"}
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)
    env.update(GRADER_DATABASE_URL=url, GRADER_BROKER_URL=REDIS_URL, GRADER_SANDBOX_POOL=pool,
               GRADER_HOME=str(log_dir / "home"), GRADER_LOG_LEVEL="WARNING",
               GRADER_SANDBOX_PER_TEST_CPU_S=str(args.per_test_cpu_s), GRADER_SANDBOX_PER_TEST_WALL_S="3")
    return env


@dataclass
class BatchRun:
    """What one batch measured while it ran."""

    batch_id: str = ""
    done: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    cpu_s: float = 0.0
    parts: dict[str, float] = field(default_factory=dict)
    rss: tuple[float, float] = (0.0, 0.0)
    load: tuple[float, float] = (0.0, 0.0)
    series: list[str] = field(default_factory=list)


def _graded_batch(url: str, factory: sessionmaker[Session], size: int, roots: list[int],
                  args: argparse.Namespace) -> BatchRun:
    """Start the batch and poll until every run is stored; what was measured on the way."""
    run = BatchRun(load=(os.getloadavg()[0], 0.0))
    rss_start, step = _rss_mib(roots), max(1, size // 10)
    parts_start, cpu_start, started = cpu_parts.snapshot(roots), _machine_cpu_s(), time.monotonic()
    run.batch_id = _run_batch(factory)
    next_sample = step
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        while run.done < size and time.monotonic() - started < args.timeout:
            time.sleep(args.poll)
            run.done, run.statuses = _finished(connection, run.batch_id)
            if run.done >= next_sample:
                run.series.append(f"{run.done}:{_rss_mib(roots):.0f}")
                next_sample += step
    run.seconds, run.cpu_s = time.monotonic() - started, _machine_cpu_s() - cpu_start
    run.parts = cpu_parts.spent(parts_start, cpu_parts.snapshot(roots), run.cpu_s)
    run.rss, run.load = (rss_start, _rss_mib(roots)), (run.load[0], os.getloadavg()[0])
    return run


def measure(pool: str, size: int, args: argparse.Namespace, log_dir: Path, checkout: Path | None = None,
            label: str = "") -> PathFigures:
    """One fresh database, one class, workers on one sandbox path (of `checkout`, by default this one), one
    regrade batch timed to the last result."""
    url = _create_database()
    engine: Engine = make_engine(url)
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        _seed_class(factory, size)
        redis.Redis.from_url(REDIS_URL).flushdb()
        workers = _start_workers(_worker_env(url, pool, args, log_dir, checkout), args, log_dir)
        try:
            _wait_ready(log_dir, args.workers)
            run = _graded_batch(url, factory, size, [w.pid for w in workers], args)
        finally:
            _stop(workers)
        done = max(run.done, 1)
        return PathFigures(label or pool, size, run.seconds, *_latencies(factory, run.batch_id), run.cpu_s / done,
                           *run.rss, run.statuses, {part: value / done for part, value in run.parts.items()}, run.load,
                           run.series, _sandbox_starts(factory, run.batch_id))
    finally:
        engine.dispose()
        _drop_database(url)


def _create_database() -> str:
    name = f"grader_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(ADMIN_URL), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _drop_database(url: str) -> None:
    with psycopg.connect(_libpq(ADMIN_URL), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(share * len(values)))]


def report(figures: PathFigures) -> None:
    ms = 1000.0
    print(f"[{figures.pool}] {figures.submissions} submissions in {figures.seconds:.1f} s = "
          f"{figures.rate:.1f} subs/s; statuses {dict(figures.statuses)}; load {figures.load[0]:.2f} at start, "
          f"{figures.load[1]:.2f} at end; sandbox starts "
          f"{'not recorded' if figures.sandbox_starts is None else figures.sandbox_starts}")
    own = [_percentile(figures.service, share) * ms for share in (0.5, 0.95)]
    queued = [_percentile(figures.latencies, share) * ms for share in (0.5, 0.95)]
    print(f"[{figures.pool}] per-submission latency claimed->stored p50 {own[0]:.0f} ms, p95 {own[1]:.0f} ms; "
          f"queued->stored (the whole batch is queued at once) p50 {queued[0]:.0f} ms, p95 {queued[1]:.0f} ms")
    parts = ", ".join(f"{part} {value * ms:.0f}" for part, value in figures.cpu_by_part.items())
    print(f"[{figures.pool}] machine CPU {figures.cpu_s * ms:.0f} ms per submission ({parts}; a warm sandbox "
          f"replaced after its jobs counts under workers, which reap it, as does every cold one)")
    print(f"[{figures.pool}] worker RSS (workers, pool processes and sandboxes) {figures.rss_start_mib:.0f} MiB at "
          f"start, {figures.rss_end_mib:.0f} MiB at end; by stored runs {' '.join(figures.rss_series)}")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--submissions", type=int, default=1000, help="class size on the warm path")
    parser.add_argument("--cold-submissions", type=int, default=100,
                        help="class size on the cold path (it is ~10x slower; the rate is what is compared)")
    parser.add_argument("--memory-run", type=int, default=0, metavar="N",
                        help="warm path only, N submissions: worker RSS at start and end (and along the way)")
    parser.add_argument("--workers", type=int, default=1, help="`grader worker` processes")
    parser.add_argument("--concurrency", type=int, default=2, help="pool processes of each worker")
    parser.add_argument("--per-test-cpu-s", type=float, default=1.0,
                        help="CPU limit per locked test/probe (the layers suite needs ~10 ms; a loop costs this)")
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between progress queries")
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up on a batch after this many seconds")
    parser.add_argument("--base", type=Path, default=None,
                        help="a checkout to compare with (warm path only, alternating with this checkout)")
    parser.add_argument("--rounds", type=int, default=1, help="with --base: batches per side, alternating")
    return parser.parse_args()


def _imported_from(checkout: Path) -> Path:
    """The grader a worker with PYTHONPATH=checkout really imports (a wrong path would measure one side twice)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(checkout)}
    probe = subprocess.run([sys.executable, "-c", "import grader; print(grader.__file__)"], env=env, cwd="/",
                           capture_output=True, text=True, check=True)
    found = Path(probe.stdout.strip()).resolve()
    if not found.is_relative_to(checkout.resolve()):
        raise SystemExit(f"PYTHONPATH={checkout} imports {found}, not that checkout")
    return found.parent


def side_by_side(args: argparse.Namespace, log_dir: Path) -> None:
    """Warm path, base checkout and this one alternately; the ratio of their summed rates."""
    base = args.base.resolve()
    print(f"base: {_imported_from(base)} at {_head(base)}; this: {_imported_from(REPO_ROOT)} at {_head(REPO_ROOT)}")
    sides: dict[str, list[PathFigures]] = {"base": [], "this": []}
    for _ in range(args.rounds):
        for name, checkout in (("base", base), ("this", REPO_ROOT)):
            figures = measure("warm", args.submissions, args, log_dir, checkout, label=f"{name} warm")
            report(figures)
            sides[name].append(figures)
    rates = {name: sum(f.submissions for f in runs) / sum(f.seconds for f in runs) for name, runs in sides.items()}
    cpu = {name: statistics.mean(f.cpu_s for f in runs) for name, runs in sides.items()}
    ratio = rates["this"] / rates["base"] if rates["base"] else float("inf")
    print(f"this/base: throughput {ratio:.2f}x, machine CPU per submission {cpu['this'] * 1000:.0f} ms this, "
          f"{cpu['base'] * 1000:.0f} ms base; per round: "
          f"{', '.join(f'{b.rate:.1f}/{t.rate:.1f}' for b, t in zip(sides['base'], sides['this'], strict=True))} "
          "subs/s (base/this)")
    print(f"regrade: {args.submissions} submissions, {rates['this']:.1f} subs/s this, {rates['base']:.1f} subs/s "
          f"base, ratio {ratio:.2f}")


def _head(checkout: Path) -> str:
    return subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip() or "?"


def main() -> None:
    args = _arguments()
    load_assignment("layers")
    log_dir = Path(f"/tmp/grader-bench-{uuid.uuid4().hex[:8]}")
    log_dir.mkdir(parents=True)
    print(f"command: {shlex.join([sys.executable, *sys.argv])}  (logs in {log_dir}; {os.cpu_count()} cores; "
          f"{args.workers} worker(s) x {args.concurrency} pool process(es))")
    if args.base is not None:
        side_by_side(args, log_dir)
        return
    if args.memory_run:
        memory = measure("warm", args.memory_run, args, log_dir)
        report(memory)
        print(f"memory: {args.memory_run} submissions, worker RSS {memory.rss_start_mib:.0f} MiB at start, "
              f"{memory.rss_end_mib:.0f} MiB at end, {memory.rate:.1f} subs/s")
        return
    warm = measure("warm", args.submissions, args, log_dir)
    report(warm)
    cold = measure("cold", args.cold_submissions, args, log_dir)
    report(cold)
    ratio = warm.rate / cold.rate if cold.rate else float("inf")
    print(f"warm/cold: throughput {ratio:.1f}x, machine CPU per submission "
          f"{cold.cpu_s / warm.cpu_s if warm.cpu_s else float('nan'):.1f}x less warm")
    print(f"regrade: {args.submissions} submissions, {warm.rate:.1f} subs/s warm, {cold.rate:.1f} subs/s cold, "
          f"ratio {ratio:.1f}")


if __name__ == "__main__":
    main()
