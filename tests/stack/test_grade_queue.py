"""`grader grade --queue` answers when it cannot be graded: the broker is down, or no worker takes the run."""

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_SOLUTION
from tests.stack.processes import GRADER, RedisServer, free_port


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _grade_queued(tmp_path: Path, broker_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(GRADER_HOME=str(tmp_path / "home"), GRADER_BROKER_URL=broker_url)
    return subprocess.run([*GRADER, "grade", str(EXAMPLE_SOLUTION), "--queue", "--json", *extra], env=env,
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)


def _stored_runs(tmp_path: Path) -> list[tuple[str, str | None]]:
    database = tmp_path / "home" / "grader.db"
    if not database.exists():
        return []
    with sqlite3.connect(database) as connection:
        return list(connection.execute("SELECT status, course FROM grading_runs JOIN submissions "
                                       "ON submissions.id = grading_runs.submission_id"))


def test_an_unreachable_broker_is_named_at_once_and_nothing_is_stored(tmp_path: Path) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    done = _grade_queued(tmp_path, closed, "--timeout", "600")
    assert done.returncode == 1 and done.stdout == ""
    assert "the broker at GRADER_BROKER_URL" in done.stderr and "is unreachable" in done.stderr
    assert "nothing was stored" in done.stderr and "internal error" not in done.stderr
    assert _stored_runs(tmp_path) == []


def test_no_worker_is_a_timeout_that_says_so_and_the_run_stays_queued(tmp_path: Path,
                                                                     redis_server: RedisServer) -> None:
    done = _grade_queued(tmp_path, redis_server.url, "--timeout", "8")
    assert done.returncode == 1 and done.stdout == "", done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: run ") and "was not graded within 8 s (--timeout)" in last
    assert "no worker answered on the broker; start one with `grader worker`" in last
    assert _stored_runs(tmp_path) == [("queued", None)]


def test_grade_help_says_where_course_less_grades_live() -> None:
    done = subprocess.run([*GRADER, "grade", "--help"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "200"})
    text = " ".join(done.stdout.split())
    assert "--timeout" in text and "stored without a course" in text and "the dashboard" in text
