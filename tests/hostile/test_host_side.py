"""What only the host can check: the real Redis, the grader's own secrets, stored rows, the CLI's stdout."""

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session, sessionmaker

from grader.config import Settings, get_settings
from grader.db import session_scope
from grader.models import GradingRun
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner, limits_from_settings
from grader.services.accept import Upload, accept_submission
from grader.services.jobs import grade_in_process, in_process_context

from .conftest import HOSTILE_DIR, MAX_BYTES, Grade, sandbox_processes

REPO_ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("GRADER_TEST_REDIS_URL", "redis://127.0.0.1:6379")
REDIS_CANARY_KEY = "tinytorch-hostile-canary"


@pytest.fixture
def redis_canary() -> Iterator[str]:
    """A random value under the key the network attack tries to overwrite; Redis down is a failure, not a skip."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    value = f"canary-{uuid.uuid4().hex}"
    try:
        client.set(REDIS_CANARY_KEY, value, ex=600)
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is required at {REDIS_URL} (start it with .ci/services): {exc}")
    yield value
    client.delete(REDIS_CANARY_KEY)


def test_loopback_services_are_unreachable_and_the_redis_canary_survives(grade_file: Grade, table: dict[str, Any],
                                                                          redis_canary: str) -> None:
    evaluation = grade_file("network")
    assert evaluation.score.total == table["twins"]["honest"]["score"]
    assert "connected" not in evaluation.output
    assert redis.Redis.from_url(REDIS_URL).get(REDIS_CANARY_KEY) == redis_canary.encode()


def _grade_stored(factory: sessionmaker[Session], runner: SandboxRunner, limits: SandboxLimits, name: str) -> float:
    upload = Upload(content=(HOSTILE_DIR / f"{name}.py").read_bytes(), filename="layers_dev.py",
                    student=f"hostile-{name}", assignment="layers")
    with session_scope(factory) as session:
        _submission, run = accept_submission(session, upload, max_bytes=MAX_BYTES)
        run_id = run.id
    assert limits == limits_from_settings(Settings())
    assert grade_in_process(in_process_context(Settings(), factory, runner), run_id)
    with session_scope(factory) as session:
        run = session.get(GradingRun, run_id)
        assert run is not None and run.status == "graded" and len(run.items) == 11
        return float(run.score or 0)


def _every_stored_value(factory: sessionmaker[Session]) -> str:
    with session_scope(factory) as session:
        bind = session.get_bind()
        rows = [row for table in inspect(bind).get_table_names()
                for row in session.execute(text(f'SELECT * FROM "{table}"')).all()]
    return "\n".join(repr(tuple(row)) for row in rows)


@pytest.fixture
def secret_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Secrets in the grader's own environment, as a deployment has them; settings are re-read around the test."""
    canary = f"canary-{uuid.uuid4().hex}"
    get_settings.cache_clear()
    monkeypatch.setenv("GRADER_CANARY_SECRET", canary)
    monkeypatch.setenv("GRADER_DATABASE_URL", f"postgresql+psycopg://grader:{canary}@127.0.0.1:5432/grader")
    yield canary
    get_settings.cache_clear()


def test_secrets_never_reach_output_or_rows_and_forged_scores_never_stick(
        session_factory: sessionmaker[Session], runner: SandboxRunner, limits: SandboxLimits,
        secret_environment: str) -> None:
    canary = secret_environment
    scores = {name: _grade_stored(session_factory, runner, limits, name)
              for name in ("snoop", "fake_report", "nul_bytes", "honest")}
    assert scores == {"snoop": 90, "fake_report": 0, "nul_bytes": 40, "honest": 90}
    stored = _every_stored_value(session_factory)
    assert canary not in stored
    assert "HOSTILE: found []" in stored and '"score": 90.0' in stored
    assert sandbox_processes(runner) == []


def test_cli_prints_exactly_one_honest_json_object_for_a_fake_report(tmp_path: Path, pool: str) -> None:
    env = {**os.environ, "GRADER_HOME": str(tmp_path / "home"), "GRADER_SANDBOX_POOL": pool}
    env.pop("GRADER_DATABASE_URL", None)
    completed = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "grader"), "grade", str(HOSTILE_DIR / "fake_report.py"), "--json"],
        capture_output=True, env=env, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr.decode()[-2000:]
    document = json.loads(completed.stdout)
    assert completed.stdout.decode().count("\n") == 1
    assert document["status"] == "graded" and document["score"] == 0 and document["submission_id"] != "forged"
    assert {test["status"] for test in document["tests"]} == {"error"}
    assert "harness_channel_corrupted" in document["integrity"]["flags"]
