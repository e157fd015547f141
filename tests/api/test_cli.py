"""`grader courses` and `grader tokens`: the token printed alone on the last line, stored only as its hash."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from typer.testing import CliRunner

from grader.assignments.registry import shipped_assignments
from grader.cli import app
from grader.config import Settings, get_settings
from grader.db import session_scope
from grader.errors import NotFound, Unauthenticated
from grader.models import ApiToken, CourseAssignment, TokenRole
from grader.runtime_context import session_factory
from grader.services.tokens import authenticate, create_token
from tests.api.conftest import api_settings


def _grader(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(GRADER_DATABASE_URL=database_url, GRADER_HOME=str(tmp_path))
    return subprocess.run([sys.executable, "-m", "grader", *args], env=env, capture_output=True, text=True,
                          timeout=60)


def test_course_and_token_lifecycle(api_database: str, tmp_path: Path) -> None:
    factory = session_factory(api_settings(api_database))
    for _ in range(2):
        created = _grader(api_database, tmp_path, "courses", "create", "cli-course")
        assert created.returncode == 0 and "layers" in created.stdout
    with session_scope(factory) as session:
        assert session.scalars(select(CourseAssignment.assignment)
                               .where(CourseAssignment.course_id == "cli-course")).all() == shipped_assignments()
    made = _grader(api_database, tmp_path, "tokens", "create", "--course", "cli-course", "--role", "instructor")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("tg_") and " " not in token and len(token) > 40
    with session_scope(factory) as session:
        principal = authenticate(session, token)
        assert (principal.course, principal.role) == ("cli-course", TokenRole.INSTRUCTOR)
        stored = session.get(ApiToken, principal.token_id)
        assert stored is not None and stored.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
        assert token not in {stored.id, stored.label, stored.token_sha256}
    second = _grader(api_database, tmp_path, "tokens", "create", "--course", "cli-course", "--role", "lms")
    second_token = second.stdout.strip().splitlines()[-1]
    assert _grader(api_database, tmp_path, "tokens", "revoke", token).returncode == 0
    assert _grader(api_database, tmp_path, "tokens", "revoke", principal.token_id).returncode == 0
    with session_scope(factory) as session:
        with pytest.raises(Unauthenticated):
            authenticate(session, token)
        assert authenticate(session, second_token).role == TokenRole.LMS


@pytest.mark.parametrize("args", [
    ("tokens", "create", "--course", "no-such-course", "--role", "lms"),
    ("tokens", "create", "--course", "cli-course", "--role", "admin"),
    ("tokens", "revoke", "tg_never-issued"),
    ("courses", "create", "bad course id!"),
    ("courses", "create", "cli-course", "--assignment", "pooling"),
    ("passback", "resend", "no-such-submission"),
])
def test_bad_requests_exit_2_with_a_reason(api_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           args: tuple[str, ...]) -> None:
    """In-process (the lifecycle test above covers the real entry point), with settings read from this env."""
    monkeypatch.setenv("GRADER_DATABASE_URL", api_database)
    monkeypatch.setenv("GRADER_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        done = CliRunner().invoke(app, list(args))
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 2, done.output
    assert done.stderr.strip().startswith("error:")


def test_a_placeholder_passback_secret_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="GRADER_PASSBACK_SECRET"):
        Settings(environment="production")
    with pytest.raises(ValidationError):
        Settings(environment="production", passback_secret="changethis")
    assert Settings(environment="production", passback_secret="k" * 32).passback_secret == "k" * 32


def test_unknown_token_course_is_not_found(api_database: str) -> None:
    with pytest.raises(NotFound), session_scope(session_factory(api_settings(api_database))) as session:
        create_token(session, course="never-registered", role=TokenRole.LMS)
