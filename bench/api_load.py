"""Load benchmark of the HTTP API: N submissions from C concurrent LMS clients on loopback, then until all graded.

It starts its own `grader serve` and `grader worker` against the running Postgres (a fresh database it drops at
the end) and Redis (a database number of its own), prints the command to reproduce, and its figures.
"""

import argparse
import contextlib
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import redis
from sqlalchemy import func, make_url, select

from grader.db import make_engine, make_session_factory
from grader.migrate import upgrade
from grader.models import GradingRun

REPO = Path(__file__).resolve().parent.parent
SOLUTION = REPO / "grader" / "assignments" / "layers" / "examples" / "student_solution.py"
GRADER = [sys.executable, "-m", "grader"]


@dataclass
class Figures:
    """What the POST phase measured."""

    latencies_s: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies_s.append(seconds)
            self.statuses[status] = self.statuses.get(status, 0) + 1


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    name = f"grader_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with psycopg.connect(libpq_url(admin_url), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Processes:
    """The `grader` processes this benchmark started; each is stopped by its own process group, and only those."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir, self.started = env, log_dir, list[subprocess.Popen[bytes]]()

    def run(self, *args: str) -> str:
        done = subprocess.run([*GRADER, *args], env=self.env, capture_output=True, text=True, check=True)
        return done.stdout

    def start(self, name: str, *args: str) -> None:
        with (self.log_dir / f"{name}.log").open("ab") as log:
            self.started.append(subprocess.Popen([*GRADER, *args], env=self.env, stdout=log,
                                                 stderr=subprocess.STDOUT, start_new_session=True))

    def stop(self) -> None:
        for process in self.started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)


def wait_ready(base_url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise SystemExit(f"the API did not become ready at {base_url}")


@dataclass(frozen=True)
class Deployment:
    """What a benchmark talks to: the API's address, an LMS token, and the database it can read results from."""

    base_url: str
    token: str
    database_url: str


@contextmanager
def api_deployment(admin_url: str, redis_db: int, *, port: int, burst: int, worker_args: tuple[str, ...],
                   api_args: tuple[str, ...] = (), extra_env: dict[str, str] | None = None) -> Iterator[Deployment]:
    """A fresh database and an emptied Redis database, a course with an LMS token, one `grader worker` and
    `grader serve`, ready; every process stopped and the database dropped at the end."""
    broker = f"{os.environ.get('GRADER_TEST_REDIS_URL', 'redis://127.0.0.1:6379').rstrip('/')}/{redis_db}"
    redis.Redis.from_url(broker).flushdb()
    with fresh_database(admin_url) as database_url, tempfile.TemporaryDirectory() as home:
        upgrade(make_engine(database_url))
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
        env.update(GRADER_DATABASE_URL=database_url, GRADER_BROKER_URL=broker, GRADER_HOME=home,
                   GRADER_SUBMIT_BURST=str(burst), GRADER_SUBMIT_RATE_PER_MINUTE="1000000",
                   GRADER_LOG_LEVEL="WARNING", **(extra_env or {}))
        processes = Processes(env, Path(home))
        try:
            processes.run("courses", "create", "bench")
            token = processes.run("tokens", "create", "--course", "bench", "--role", "lms").strip().splitlines()[-1]
            processes.start("worker", "worker", *worker_args)
            processes.start("api", "serve", "--port", str(port), *api_args)
            wait_ready(f"http://127.0.0.1:{port}")
            yield Deployment(base_url=f"http://127.0.0.1:{port}", token=token, database_url=database_url)
        finally:
            processes.stop()


def _client_loop(base_url: str, token: str, indices: list[int], figures: Figures, content: bytes) -> None:
    """One LMS client: its share of the submissions, one after another, on one keep-alive connection."""
    with httpx.Client(base_url=base_url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
        for index in indices:
            data = {"assignment": "layers", "student": f"s{index:05d}", "external_id": f"bench-{index}"}
            started = time.perf_counter()
            response = client.post("/api/v1/submissions", data=data, files={"file": ("layers_dev.py", content)})
            figures.record(response.status_code, time.perf_counter() - started)


def post_all(base_url: str, token: str, submissions: int, clients: int) -> tuple[Figures, float]:
    figures, content = Figures(), SOLUTION.read_bytes()
    shares = [list(range(offset, submissions, clients)) for offset in range(clients)]
    threads = [threading.Thread(target=_client_loop, args=(base_url, token, share, figures, content))
               for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return figures, time.perf_counter() - started


def wait_graded(database_url: str, expected: int, timeout_s: float) -> tuple[float, dict[str, int]]:
    """Seconds until every run is finished (graded or error), counted in SQL; the counts at the end."""
    factory = make_session_factory(make_engine(database_url))
    started, counts = time.perf_counter(), dict[str, int]()
    while time.perf_counter() - started < timeout_s:
        with factory() as session:
            counts = dict(session.execute(select(GradingRun.status, func.count())
                                          .group_by(GradingRun.status)).all())
        if counts.get("graded", 0) + counts.get("error", 0) >= expected:
            break
        time.sleep(2)
    return time.perf_counter() - started, counts


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report_posts(args: argparse.Namespace, figures: Figures, post_s: float) -> None:
    """Printed as soon as the POST phase ends, so a long grading phase does not hide it."""
    accepted = figures.statuses.get(202, 0)
    ms = [value * 1000 for value in figures.latencies_s]
    print(f"reproduce: {shlex.join([sys.executable, *sys.argv])}")
    print(f"submissions: {args.submissions} from {args.clients} concurrent clients; "
          f"api processes: {args.api_workers}; worker concurrency: {args.worker_concurrency}; cores: {os.cpu_count()}")
    print(f"POST statuses: {dict(sorted(figures.statuses.items()))}")
    print(f"accepted: {accepted} in {post_s:.1f} s = {accepted / post_s:.1f} accepted/s")
    print(f"POST latency: p50 {_percentile(ms, 0.5):.1f} ms, p99 {_percentile(ms, 0.99):.1f} ms, "
          f"max {max(ms):.1f} ms, mean {statistics.fmean(ms):.1f} ms", flush=True)


def report_grading(accepted: int, post_s: float, grade_s: float, counts: dict[str, int]) -> None:
    done = counts.get("graded", 0) + counts.get("error", 0)
    print(f"grading: {counts} {post_s + grade_s:.0f} s after the first POST "
          f"({'all finished' if done >= accepted else 'NOT all finished'}); "
          f"{done / (post_s + grade_s):.2f} finished/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--api-workers", type=int, default=1)
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--grade-timeout", type=float, default=3600.0, help="seconds to wait for all graded")
    parser.add_argument("--redis-db", type=int, default=14)
    parser.add_argument("--postgres", default=os.environ.get(
        "GRADER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    with api_deployment(args.postgres, args.redis_db, port=18000 + os.getpid() % 1000, burst=args.submissions,
                        worker_args=("--concurrency", str(args.worker_concurrency)),
                        api_args=("--workers", str(args.api_workers))) as deployment:
        figures, post_s = post_all(deployment.base_url, deployment.token, args.submissions, args.clients)
        report_posts(args, figures, post_s)
        accepted = figures.statuses.get(202, 0)
        grade_s, counts = wait_graded(deployment.database_url, accepted, args.grade_timeout)
        report_grading(accepted, post_s, grade_s, counts)


if __name__ == "__main__":
    main()
