"""Regrade benchmark: a realistic class regraded end to end through Celery, Redis, Postgres and the sandbox.

It seeds N submissions (correct, partially wrong, failing, a few that time out) with an old current result,
starts its own `grader worker` processes against the running Redis and Postgres, starts a regrade batch and
times it until every run is stored, once on the warm path and once on the cold path, side by side.

    .venv/bin/python bench/regrade.py --submissions 1000

The last line is exactly `regrade: N submissions, R subs/s warm, C subs/s cold, ratio X`.
"""

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis
from celery import Celery
from sqlalchemy import Engine, func, make_url, select
from sqlalchemy.orm import Session, sessionmaker

from grader.assignments.bundle import load_assignment
from grader.config import Settings
from grader.db import make_engine, make_session_factory, session_scope
from grader.migrate import upgrade
from grader.models import GradingRun, RunStatus, Submission
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
    cpu_s: float
    rss_start_mib: float
    rss_end_mib: float
    statuses: Counter[str]

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
    """Submissions whose current results were produced by an older rubric: exactly what a regrade is for."""
    contents = {path: path.read_bytes() for path, _ in MIX}
    with session_scope(factory) as session:
        for index, path in enumerate(_class_mix(size)):
            submission = Submission(assignment="layers", student=f"student-{index:05d}", filename="layers_dev.py",
                                    content=contents[path], sha256=uuid.uuid4().hex, size_bytes=len(contents[path]))
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


def _start_workers(env: dict[str, str], count: int, log_dir: Path) -> list[subprocess.Popen[bytes]]:
    workers = []
    for index in range(count):
        log = (log_dir / f"worker-{env['GRADER_SANDBOX_POOL']}-{index}.log").open("ab")
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "grader", "worker", "--concurrency", "1", "--hostname", f"bench{index}@%h"],
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


def _finished(factory: sessionmaker[Session], batch_id: str) -> tuple[int, Counter[str]]:
    with session_scope(factory) as session:
        rows = session.execute(select(GradingRun.status, func.count()).where(GradingRun.batch_id == batch_id)
                               .group_by(GradingRun.status)).all()
    statuses = Counter({status: count for status, count in rows})
    return statuses["graded"] + statuses["error"], statuses


def _latencies(factory: sessionmaker[Session], batch_id: str) -> list[float]:
    with session_scope(factory) as session:
        rows = session.execute(select(GradingRun.dispatched_at, GradingRun.finished_at)
                               .where(GradingRun.batch_id == batch_id)).all()
    return sorted((done - sent).total_seconds() for sent, done in rows if sent and done)


def measure(pool: str, size: int, args: argparse.Namespace, log_dir: Path) -> PathFigures:
    """One fresh database, one class, workers on one sandbox path, one regrade batch timed to the last result."""
    url = _create_database()
    engine: Engine = make_engine(url)
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        _seed_class(factory, size)
        redis.Redis.from_url(REDIS_URL).flushdb()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
        env.update(GRADER_DATABASE_URL=url, GRADER_BROKER_URL=REDIS_URL, GRADER_SANDBOX_POOL=pool,
                   GRADER_HOME=str(log_dir / "home"), GRADER_LOG_LEVEL="WARNING",
                   GRADER_SANDBOX_PER_TEST_CPU_S=str(args.per_test_cpu_s), GRADER_SANDBOX_PER_TEST_WALL_S="3")
        workers = _start_workers(env, args.workers, log_dir)
        try:
            _wait_ready(log_dir, args.workers)
            rss_start = _rss_mib([w.pid for w in workers])
            cpu_start, started = _machine_cpu_s(), time.monotonic()
            batch_id = _run_batch(factory)
            done, statuses = 0, Counter[str]()
            while done < size and time.monotonic() - started < args.timeout:
                time.sleep(0.2)
                done, statuses = _finished(factory, batch_id)
            seconds, cpu = time.monotonic() - started, _machine_cpu_s() - cpu_start
            rss_end = _rss_mib([w.pid for w in workers])
        finally:
            _stop(workers)
        return PathFigures(pool, size, seconds, _latencies(factory, batch_id), cpu / max(done, 1), rss_start,
                           rss_end, statuses)
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
    print(f"[{figures.pool}] {figures.submissions} submissions in {figures.seconds:.1f} s = "
          f"{figures.rate:.1f} subs/s; statuses {dict(figures.statuses)}")
    print(f"[{figures.pool}] queued->stored latency p50 {_percentile(figures.latencies, 0.5) * 1000:.0f} ms, "
          f"p95 {_percentile(figures.latencies, 0.95) * 1000:.0f} ms; machine CPU {figures.cpu_s * 1000:.0f} ms "
          f"per submission; worker RSS {figures.rss_start_mib:.0f} MiB at start, {figures.rss_end_mib:.0f} MiB "
          f"at end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--submissions", type=int, default=1000, help="class size on the warm path")
    parser.add_argument("--cold-submissions", type=int, default=100,
                        help="class size on the cold path (it is ~10x slower; the rate is what is compared)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (one pool process each)")
    parser.add_argument("--per-test-cpu-s", type=float, default=1.0,
                        help="CPU limit per locked test/probe (the layers suite needs ~10 ms; a loop costs this)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up on a batch after this many seconds")
    args = parser.parse_args()
    load_assignment("layers")
    log_dir = Path(f"/tmp/grader-bench-{uuid.uuid4().hex[:8]}")
    log_dir.mkdir(parents=True)
    print(f"command: {shlex.join([sys.executable, *sys.argv])}  (logs in {log_dir})")
    warm = measure("warm", args.submissions, args, log_dir)
    report(warm)
    cold = measure("cold", args.cold_submissions, args, log_dir)
    report(cold)
    ratio = warm.rate / cold.rate if cold.rate else float("inf")
    warm_median = statistics.median(warm.latencies) if warm.latencies else float("nan")
    cold_median = statistics.median(cold.latencies) if cold.latencies else float("nan")
    print(f"median queued->stored latency: warm {warm_median * 1000:.0f} ms, cold {cold_median * 1000:.0f} ms")
    print(f"regrade: {args.submissions} submissions, {warm.rate:.1f} subs/s warm, {cold.rate:.1f} subs/s cold, "
          f"ratio {ratio:.1f}")


if __name__ == "__main__":
    main()
