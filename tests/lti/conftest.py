"""LTI fixtures: the grader served over loopback HTTP, a test platform on lti1p3platform, a browser between them."""

import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from grader.api.app import create_app
from grader.config import Settings
from grader.db import session_scope
from grader.models import GradingRun, Passback, Submission, TokenRole
from grader.models.base import utcnow
from grader.runtime_context import session_factory
from grader.sandbox.runner import SandboxRunner
from grader.services.courses import create_course
from grader.services.jobs import JobContext, grade_queued_run
from grader.services.outbox import Courier, PassbackOutcome, courier_from_settings, deliver_due_passbacks
from grader.services.tokens import create_token
from tests.api.conftest import RecordingDispatcher, api_settings, migrated_database
from tests.conftest import EXAMPLE_SOLUTION
from tests.lti.platform import TestPlatform
from tests.stack.processes import RedisServer, free_port, wait_until

HIDDEN = re.compile(r'<input type="hidden" name="(?P<name>[a-z_]+)" value="(?P<value>[^"]*)">')
SUBMISSION_ID = re.compile(r'<code id="submission-id">(?P<id>[0-9a-f]+)</code>')
ACTION = re.compile(r'<form[^>]* action="(?P<action>[^"]+)"')


@pytest.fixture(scope="module")
def lti_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis of our own: the token cache is what the tests count, so no other test may flush it."""
    server = RedisServer(tmp_path_factory.mktemp("lti-redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def lti_database(postgres_server_url: str) -> Iterator[str]:
    with migrated_database(postgres_server_url) as url:
        yield url


@contextmanager
def serve_tool(settings: Settings, dispatcher: RecordingDispatcher, port: int) -> Iterator[None]:
    app = create_app(settings, dispatcher=dispatcher)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout_s=30, what="the grader API listening")
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def form_fields(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the first form of a page, unescaped as a browser would."""
    import html

    action = ACTION.search(page)
    assert action is not None, page
    return html.unescape(action["action"]), {m["name"]: html.unescape(m["value"]) for m in HIDDEN.finditer(page)}


@dataclass
class LtiWorld:
    """The grader and a platform that knows it, a browser, and the worker's units of work."""

    settings: Settings
    factory: sessionmaker[Session]
    dispatcher: RecordingDispatcher
    platform: TestPlatform
    browser: httpx.Client
    tool_base: str
    course: str
    instructor_token: str
    courier: Courier
    runner: SandboxRunner

    def register(self, **overrides: Any) -> httpx.Response:
        body = {**{k: v for k, v in self.platform.urls.items()}, "deployment_ids": [self.platform.deployment_id],
                **overrides}
        return self.browser.post(f"{self.tool_base}/api/v1/lti/platforms", json=body,
                                 headers={"Authorization": f"Bearer {self.instructor_token}"})

    def launch_form(self, user: str, **query: str) -> httpx.Response:
        """Click the link in the LMS: platform -> tool login -> platform authorization -> the signed form."""
        return self.browser.get(f"{self.platform.base_url}/launch", params={"user": user, **query})

    def post_launch(self, form_page: str, **replace: str) -> httpx.Response:
        action, fields = form_fields(form_page)
        return self.browser.post(action, data={**fields, **replace})

    def launch(self, user: str, **query: str) -> httpx.Response:
        form = self.launch_form(user, **query)
        assert form.status_code == 200, form.text
        return self.post_launch(form.text)

    def submit(self, launch_page: str, content: bytes | None = None) -> httpx.Response:
        action, fields = form_fields(launch_page)
        files = {"file": ("layers_dev.py", EXAMPLE_SOLUTION.read_bytes() if content is None else content)}
        return self.browser.post(action, data=fields, files=files)

    def submit_and_grade(self, user: str, content: bytes | None = None, **query: str) -> str:
        """Launch as `user`, upload, and let the worker grade it; the submission id."""
        page = self.launch(user, **query)
        assert page.status_code == 200 and 'id="lti-upload"' in page.text, page.text
        receipt = self.submit(page.text, content)
        assert receipt.status_code == 202, receipt.text
        found = SUBMISSION_ID.search(receipt.text)
        assert found is not None
        assert self.grade_queued()
        return found["id"]

    def grade_queued(self) -> list[str]:
        """What a worker does for each grade message: claim, run in the sandbox, store (with the outbox row)."""
        context = JobContext(settings=self.settings, factory=self.factory, runner=lambda: self.runner,
                             dispatch=self.dispatcher)
        graded = []
        while (messages := [m for m in self.dispatcher.messages if m.kind == "grade"]):
            for message in messages:
                self.dispatcher.messages.remove(message)
                grade_queued_run(context, message.run_id, worker="lti-test", token=uuid.uuid4().hex)
                graded.append(message.run_id)
        return graded

    def deliver_due(self, *, after_s: float = 0, at: datetime | None = None) -> list[PassbackOutcome]:
        """The relay's pass, as if run `after_s` from now (or at `at`): the outbox's clock, not the wall's."""
        with session_scope(self.factory) as session:
            return deliver_due_passbacks(session, courier=self.courier, limit=500,
                                         now=at or utcnow() + timedelta(seconds=after_s))

    def passbacks(self) -> list[Passback]:
        with session_scope(self.factory) as session:
            rows = list(session.scalars(select(Passback).join(Submission, Submission.id == Passback.submission_id)
                                        .where(Submission.course == self.course).order_by(Passback.created_at)))
            session.expunge_all()
            return rows

    def current_run(self, submission_id: str) -> GradingRun:
        with session_scope(self.factory) as session:
            run = session.scalar(select(GradingRun).where(GradingRun.submission_id == submission_id,
                                                          GradingRun.is_current))
            assert run is not None
            session.expunge(run)
            return run


def lti_settings(database_url: str, tool_base: str, redis: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"lti_public_url": tool_base, "lti_jwks_cooldown_s": 0.0, "broker_url": redis,
                              "lti_token_cache_url": redis, "passback_max_attempts": 5,
                              "passback_retry_base_s": 10.0}
    values.update(overrides)
    return api_settings(database_url, **values)


@pytest.fixture
def lti_world(lti_database: str, lti_redis: str, runner: SandboxRunner) -> Iterator[LtiWorld]:
    port = free_port()
    tool_base = f"http://127.0.0.1:{port}"
    settings = lti_settings(lti_database, tool_base, lti_redis)
    factory = session_factory(settings)
    course = f"lti-{uuid.uuid4().hex[:10]}"
    with session_scope(factory) as session:
        create_course(session, course)
        token = create_token(session, course=course, role=TokenRole.INSTRUCTOR).token
    dispatcher = RecordingDispatcher()
    platform = TestPlatform(tool_base=tool_base)
    with serve_tool(settings, dispatcher, port), platform.serving(), \
            httpx.Client(follow_redirects=True, timeout=60) as browser:
        world = LtiWorld(settings=settings, factory=factory, dispatcher=dispatcher, platform=platform,
                         browser=browser, tool_base=tool_base, course=course, instructor_token=token,
                         courier=courier_from_settings(settings), runner=runner)
        registered = world.register()
        assert registered.status_code == 201, registered.text
        yield world
