"""API fixtures: a migrated Postgres database per module, an app per test with its own course and tokens."""

import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from grader.api.app import create_app
from grader.config import Settings
from grader.db import make_engine, session_scope
from grader.migrate import upgrade
from grader.models import TokenRole
from grader.runtime_context import session_factory
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner, limits_from_settings
from grader.services.courses import create_course
from grader.services.jobs import grade_in_process, in_process_context
from grader.services.queueing import Dispatch
from grader.services.ratelimit import Buckets, MemoryBuckets
from grader.services.tokens import create_token
from tests.conftest import EXAMPLE_SOLUTION, create_postgres_database, drop_postgres_database

API_REDIS_DB = 13
PASSBACK_SECRET = "test-passback-secret-0123456789"
MAX_BYTES = 512 * 1024


def redis_url(db: int) -> str:
    """A Redis database number of our own on the shared server."""
    base = os.environ.get("GRADER_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
    return f"{base}/{db}"


class RecordingDispatcher:
    """Stands in for the Celery sender: records what the unit of work sent after commit."""

    def __init__(self) -> None:
        self.messages: list[Dispatch] = []
        self._lock = threading.Lock()

    def __call__(self, messages: Sequence[Dispatch]) -> None:
        with self._lock:
            self.messages.extend(messages)


@contextmanager
def migrated_database(admin_url: str) -> Iterator[str]:
    """A fresh database at the newest revision, dropped afterwards."""
    url = create_postgres_database(admin_url)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        drop_postgres_database(admin_url, url)


@pytest.fixture(scope="module")
def api_database(postgres_server_url: str) -> Iterator[str]:
    """One per test module; tests stay apart by using courses of their own."""
    with migrated_database(postgres_server_url) as url:
        yield url


LOCAL_LMS_NETWORK = "127.0.0.0/8"


def api_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"database_url": database_url, "broker_url": redis_url(API_REDIS_DB),
                              "passback_secret": PASSBACK_SECRET, "submit_rate_per_minute": 60_000.0,
                              "submit_burst": 10_000, "passback_retry_base_s": 0.01, "passback_max_attempts": 3,
                              "passback_allowed_networks": [LOCAL_LMS_NETWORK]}
    values.update(overrides)
    return Settings(**values)


@dataclass
class ApiWorld:
    """An app with two courses: `course` (the caller's) and `other`, each with an lms and an instructor token."""

    settings: Settings
    app: FastAPI
    client: TestClient
    dispatcher: RecordingDispatcher
    factory: sessionmaker[Session]
    course: str
    other: str
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who in self.tokens else {}


def build_world(database_url: str, *, buckets: Buckets | None = None, **overrides: Any) -> ApiWorld:
    settings = api_settings(database_url, **overrides)
    dispatcher = RecordingDispatcher()
    app = create_app(settings, dispatcher=dispatcher, buckets=buckets or MemoryBuckets())
    factory = session_factory(settings)
    course, other = f"c-{uuid.uuid4().hex[:10]}", f"o-{uuid.uuid4().hex[:10]}"
    tokens = {}
    with session_scope(factory) as session:
        for name in (course, other):
            create_course(session, name)
        for key, name, role in (("lms", course, TokenRole.LMS), ("instructor", course, TokenRole.INSTRUCTOR),
                                ("other_lms", other, TokenRole.LMS),
                                ("other_instructor", other, TokenRole.INSTRUCTOR)):
            tokens[key] = create_token(session, course=name, role=role).token
    return ApiWorld(settings=settings, app=app, client=TestClient(app), dispatcher=dispatcher, factory=factory,
                    course=course, other=other, tokens=tokens)


@pytest.fixture
def world(api_database: str) -> Iterator[ApiWorld]:
    built = build_world(api_database)
    with built.client:
        yield built


def submit(client: TestClient | httpx.Client, token: str, *, external_id: str | None = None, student: str = "s1",
           content: bytes | None = None, filename: str = "layers_dev.py", assignment: str = "layers",
           callback_url: str | None = None) -> httpx.Response:
    """POST a submission the way an LMS would (multipart), keyword-only overrides."""
    data = {"assignment": assignment, "student": student, "external_id": external_id or uuid.uuid4().hex}
    if callback_url is not None:
        data["callback_url"] = callback_url
    files = {"file": (filename, EXAMPLE_SOLUTION.read_bytes() if content is None else content)}
    return client.post("/api/v1/submissions", headers={"Authorization": f"Bearer {token}"}, data=data, files=files)


def grade_now(factory: sessionmaker[Session], run_id: str, runner: SandboxRunner, limits: SandboxLimits) -> None:
    """Grade a queued run in-process with the real sandbox, as a worker would, storing it in one transaction."""
    assert limits == limits_from_settings(Settings()), "the worker's path reads its limits from the settings"
    grade_in_process(in_process_context(Settings(), factory, runner), run_id, worker="test")
