"""Shared fixtures: settings in a temp home, migrated databases (SQLite and a fresh Postgres database), a sandbox."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from grader.config import SandboxSettings, Settings
from grader.db import make_engine, make_session_factory
from grader.migrate import upgrade
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner, limits_from_settings, make_runner

REPO_ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = REPO_ROOT / "tests" / "data" / "submissions"
EXAMPLE_SOLUTION = REPO_ROOT / "grader" / "assignments" / "layers" / "examples" / "student_solution.py"
POSTGRES_ADMIN_URL = os.environ.get("GRADER_TEST_POSTGRES_URL",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _libpq(url: str) -> str:
    """SQLAlchemy URL to a libpq connection string."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The admin URL of the shared server; tests that need it fail (never skip) when it is down."""
    try:
        with psycopg.connect(_libpq(POSTGRES_ADMIN_URL), connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required at {POSTGRES_ADMIN_URL} (start it with .ci/services): {exc}")
    return POSTGRES_ADMIN_URL


def create_postgres_database(admin_url: str) -> str:
    """A fresh, empty database of our own, so parallel sessions never see each other's rows."""
    name = f"grader_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(admin_url), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(_libpq(admin_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each storage test runs on the embedded default and on Postgres."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'grader.db'}"
        return
    admin = request.getfixturevalue("postgres_server_url")
    url = create_postgres_database(admin)
    try:
        yield url
    finally:
        drop_postgres_database(admin, url)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded-default settings in a temp home; the sandbox is the real bubblewrap one."""
    return Settings(home=tmp_path / "home", sandbox=SandboxSettings())


@pytest.fixture(scope="session", autouse=True)
def _shipped_packages_staged() -> None:
    """Every shipped assignment's package staged before any test, as a worker's first job of it would: a suite that
    compares the staged runtime before and after itself (tests/hostile) then sees only what its jobs changed."""
    from grader.assignments.bundle import available_assignments, load_assignment
    from grader.sandbox.runtime import build_runtime

    runtime = build_runtime(Path(SandboxSettings().runtime_dir))
    for name in available_assignments():
        runtime.package(load_assignment(name).package)


@pytest.fixture(scope="session")
def runner() -> Iterator[SandboxRunner]:
    """One real bubblewrap runner of the default (warm) pool for the whole session: the runtime is staged and
    the sandbox started once. tests/sandbox and tests/hostile run their tests on both pools."""
    runner = make_runner(Settings())
    yield runner
    getattr(runner, "close", lambda: None)()


@pytest.fixture(scope="session")
def limits() -> SandboxLimits:
    return limits_from_settings(Settings())
