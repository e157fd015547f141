"""One deployment under test: a fresh Postgres database, its Redis, `grader` worker and beat processes, and the
checks that every submission ended graded exactly once."""

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, func, make_url, select
from sqlalchemy.orm import Session

from grader.config import Settings
from grader.db import make_engine, make_session_factory
from grader.migrate import upgrade
from grader.models import GradingRun, ItemResult, RunStatus
from grader.services.accept import Upload
from grader.services.queueing import accept_and_queue, dispatching_scope
from tests.conftest import create_postgres_database, drop_postgres_database
from tests.stack.ledger import install_ledger, stored_once_problems
from tests.stack.processes import GraderProcesses, RedisServer, wait_until
from workers.app import create_app
from workers.dispatch import celery_dispatcher

RUBRIC_ITEMS = 11


@dataclass(kw_only=True)
class Stack(GraderProcesses):
    """Processes and database of one test."""

    engine: Engine
    redis: RedisServer
    expected: dict[str, float] = field(default_factory=dict)

    @classmethod
    def build(cls, engine: Engine, log_dir: Path, *, redis: RedisServer, worker_database_url: str,
              lease_s: int, sweep_s: float, worker_broker_url: str | None = None) -> "Stack":
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
        env.update(GRADER_BROKER_URL=worker_broker_url or redis.url, GRADER_DATABASE_URL=worker_database_url,
                   GRADER_HOME=str(log_dir / "home"), GRADER_RUN_LEASE_S=str(lease_s),
                   GRADER_SWEEP_INTERVAL_S=str(sweep_s), GRADER_TASK_RETRY_BACKOFF_S="1",
                   GRADER_TASK_RETRY_BACKOFF_MAX_S="4", GRADER_TASK_MAX_RETRIES="12")
        return cls(engine=engine, log_dir=log_dir, redis=redis, env=env)

    def start_worker(self, name: str, *, concurrency: int, on: Sequence[str] = (),
                     env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        return self.start(name, "worker", "--concurrency", str(concurrency), "--hostname", f"{name}@%h", on=on,
                          env=env)

    def start_beat(self, *, on: Sequence[str] = ()) -> subprocess.Popen[bytes]:
        return self.start("beat", "beat", on=on)

    def kill(self, name: str) -> None:
        """SIGKILL a whole process group, as when its machine dies; it is no longer expected to be alive."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def wait_for(self, condition: Callable[[], bool], *, timeout_s: float, what: str) -> None:
        def alive_and(condition_met: Callable[[], bool] = condition) -> bool:
            self.check_alive()
            return condition_met()

        wait_until(alive_and, timeout_s=timeout_s, what=what, poll_s=0.5)

    def submit(self, files: list[Path], *, scores: dict[Path, float]) -> None:
        """Each upload in its own unit of work, sent after its commit, the way the API and the CLI do it."""
        settings = Settings(database_url=self.engine.url.render_as_string(hide_password=False),
                            broker_url=self.redis.url, home=self.log_dir / "home")
        factory = make_session_factory(self.engine)
        app = create_app(settings)
        try:
            dispatch = celery_dispatcher(app)
            for index, path in enumerate(files):
                with dispatching_scope(factory, dispatch) as session:
                    _, run = accept_and_queue(session, Upload(path.read_bytes(), path.name, f"s{index:04d}", "layers"),
                                              max_bytes=settings.max_upload_kib * 1024)
                    self.expected[run.id] = scores[path]
        finally:
            app.close()

    def status_counts(self) -> Counter[str]:
        with Session(self.engine) as session:
            rows = session.execute(select(GradingRun.status, func.count()).group_by(GradingRun.status))
            return Counter({status: count for status, count in rows})

    def running_runs(self) -> dict[str, str | None]:
        """Run id -> worker of every run the database shows in flight now."""
        with Session(self.engine) as session:
            rows = session.execute(select(GradingRun.id, GradingRun.worker)
                                   .where(GradingRun.status == RunStatus.RUNNING.value))
            return {run_id: worker for run_id, worker in rows}

    def resent_runs(self) -> dict[str, str | None]:
        """Run id -> worker that stored it, of runs sent more than once: after the upload's own send, only the
        sweeper sends a run again, and the database counts every send it committed."""
        with Session(self.engine) as session:
            rows = session.execute(select(GradingRun.id, GradingRun.worker).where(GradingRun.dispatches > 1))
            return {run_id: worker for run_id, worker in rows}

    def graded_count(self) -> int:
        return self.status_counts()["graded"]

    def wait_finished(self, *, timeout_s: float) -> float:
        """Seconds until every run is graded or errored; fails with the counts when that takes too long."""
        started = time.monotonic()
        deadline = started + timeout_s
        while time.monotonic() < deadline:
            self.check_alive()
            counts = self.status_counts()
            if counts["graded"] + counts["error"] == len(self.expected):
                return time.monotonic() - started
            time.sleep(1)
        raise AssertionError(f"not all {len(self.expected)} runs finished in {timeout_s:.0f} s: {dict(counts)}")

    def log_events(self, event: str) -> list[dict[str, object]]:
        """Structured events from every process log (one JSON object per line)."""
        found = []
        for path in sorted(self.log_dir.glob("*.log")):
            for line in path.read_text(errors="replace").splitlines():
                if line.startswith("{") and f'"event": "{event}"' in line:
                    found.append(json.loads(line))
        return found

    def assert_graded_exactly_once(self) -> None:
        """Every submission: one run, graded, current, with one set of items and the embedded path's score;
        and the database committed exactly one store of each run (its store ledger, not the workers' logs)."""
        with Session(self.engine) as session:
            runs = {run.id: run for run in session.scalars(select(GradingRun))}
            per_submission = Counter(run.submission_id for run in runs.values())
            items = Counter(session.scalars(select(ItemResult.run_id)))
        assert set(runs) == set(self.expected), "runs appeared or vanished"
        assert max(per_submission.values()) == 1
        bad = {rid: (run.status, run.error) for rid, run in runs.items() if run.status != "graded"}
        assert not bad, f"runs not graded: {bad}"
        assert all(run.is_current for run in runs.values())
        assert all(items[rid] == RUBRIC_ITEMS for rid in runs), "a run has a missing or doubled set of items"
        wrong = {rid: (run.score, self.expected[rid]) for rid, run in runs.items() if run.score != self.expected[rid]}
        assert not wrong, f"scores differ from the embedded path: {wrong}"
        problems = stored_once_problems(self.engine, {rid: run.attempt for rid, run in runs.items()},
                                        self.log_events("run_graded"))
        assert not problems, f"not stored exactly once: {problems[:5]}"
        assert all(run.started_at and run.finished_at and run.worker and run.attempt >= 1 for run in runs.values())


def mixed_batch(scores: dict[Path, float], size: int) -> list[Path]:
    """`size` uploads cycling through every gradable sample, so scores of all kinds are in flight together."""
    files = sorted(scores)
    return [files[index % len(files)] for index in range(size)]


@contextmanager
def deployment(admin_url: str, log_dir: Path, *, lease_s: int, sweep_s: float,
               database_port: int | None = None) -> Iterator[Stack]:
    """A migrated fresh database with the store ledger, our own Redis, and cleanup of every process whatever the
    test did.

    `database_port` points the workers (not the test) at another port, e.g. a proxy the test can cut.
    """
    url = create_postgres_database(admin_url)
    engine = make_engine(url)
    redis_server = RedisServer(log_dir)
    stack: Stack | None = None
    try:
        upgrade(engine)
        install_ledger(engine)
        redis_server.start()
        worker_url = url if database_port is None else make_url(url).set(port=database_port).render_as_string(
            hide_password=False)
        stack = Stack.build(engine, log_dir, redis=redis_server, worker_database_url=worker_url,
                            lease_s=lease_s, sweep_s=sweep_s)
        yield stack
    finally:
        if stack is not None:
            stack.stop_all()
        redis_server.stop()
        engine.dispose()
        drop_postgres_database(admin_url, url)
