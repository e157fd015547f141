"""The passback outbox: written with the result, signed, retried with backoff, given up visibly, resent by hand."""

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from grader.assignments.bundle import load_assignment
from grader.db import session_scope
from grader.models import Passback
from grader.models.base import utcnow
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner
from grader.services.claim import claim_run, record_claimed
from grader.services.outbox import Courier, PassbackOutcome, deliver_due_passbacks, deliver_run_passbacks
from grader.services.settle import evaluate_settled
from tests.api.conftest import PASSBACK_SECRET, ApiWorld, build_world, grade_now, migrated_database, submit

CALLBACK = "https://lms.example/api/grades"


class FakeLms:
    """An LMS behind httpx.MockTransport: answers with the given statuses in turn (the last one repeats)."""

    def __init__(self, *statuses: int | Exception) -> None:
        self.statuses = list(statuses) or [200]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.statuses[min(len(self.requests), len(self.statuses)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer, json={"ok": answer < 300})

    def courier(self, *, max_attempts: int = 3, base_s: float = 10.0) -> Courier:
        return Courier(secret=PASSBACK_SECRET.encode(), client=httpx.Client(transport=httpx.MockTransport(self)),
                       retry_base_s=base_s, retry_max_s=3600.0, max_attempts=max_attempts)


def verify(request: httpx.Request, secret: str, *, now: int, tolerance_s: int = 300) -> dict[str, object]:
    """What the README tells an LMS to do: recompute the HMAC over `timestamp.body`, check the age."""
    timestamp = request.headers["X-Grader-Timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request.content, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-Grader-Signature"], f"sha256={expected}")
    assert abs(now - int(timestamp)) <= tolerance_s
    body: dict[str, object] = json.loads(request.content)
    return body


@pytest.fixture
def api_database(postgres_server_url: str) -> Iterator[str]:
    """A database per test here: the relay's pass is global, so no other test's rows may be due in it."""
    with migrated_database(postgres_server_url) as url:
        yield url


@pytest.fixture
def graded(api_database: str, runner: SandboxRunner, limits: SandboxLimits) -> Iterator[tuple[ApiWorld, str]]:
    """A world whose first submission (with a callback_url) is graded; yields it and the submission id."""
    world = build_world(api_database)
    with world.client:
        submission_id = submit(world.client, world.tokens["lms"], callback_url=CALLBACK).json()["id"]
        grade_now(world.factory, world.dispatcher.messages[0].run_id, runner, limits)
        yield world, submission_id


def _rows(factory: sessionmaker[Session], submission_id: str) -> list[Passback]:
    with session_scope(factory) as session:
        return list(session.scalars(select(Passback).where(Passback.submission_id == submission_id)
                                    .order_by(Passback.created_at)))


def _deliver_due(factory: sessionmaker[Session], courier: Courier, *, after_s: float = 0) -> list[PassbackOutcome]:
    with session_scope(factory) as session:
        return deliver_due_passbacks(session, courier=courier, now=utcnow() + timedelta(seconds=after_s))


def test_the_result_and_its_outbox_row_commit_together(world: ApiWorld, runner: SandboxRunner,
                                                       limits: SandboxLimits) -> None:
    with_callback = submit(world.client, world.tokens["lms"], callback_url=CALLBACK).json()["id"]
    without = submit(world.client, world.tokens["lms"]).json()["id"]
    first, second = (m.run_id for m in world.dispatcher.messages)
    with session_scope(world.factory) as session:
        claim = claim_run(session, first, worker="w", token="t", lease_s=600, max_attempts=3)
    assert claim is not None
    bundle = load_assignment("layers")
    evaluation = evaluate_settled(bundle, claim.content, claim.filename, runner, limits, max_bytes=512 * 1024)
    with pytest.raises(RuntimeError), session_scope(world.factory) as session:
        record_claimed(session, claim, evaluation, rubric_version=bundle.rubric.version)
        assert session.scalars(select(Passback)).first() is not None
        raise RuntimeError("the storing transaction fails after the result was written")
    assert _rows(world.factory, with_callback) == []
    with session_scope(world.factory) as session:
        assert record_claimed(session, claim, evaluation, rubric_version=bundle.rubric.version) is not None
    grade_now(world.factory, second, runner, limits)
    rows = _rows(world.factory, with_callback)
    assert [(row.status, row.run_id, row.callback_url) for row in rows] == [("pending", first, CALLBACK)]
    assert _rows(world.factory, without) == []


def test_delivery_is_signed_and_carries_the_student_view(graded: tuple[ApiWorld, str]) -> None:
    world, submission_id = graded
    lms = FakeLms(200)
    run_id = world.dispatcher.messages[0].run_id
    with session_scope(world.factory) as session:
        outcomes = deliver_run_passbacks(session, run_id, courier=lms.courier())
    assert [o.status for o in outcomes] == ["delivered"]
    request = lms.requests[0]
    assert str(request.url) == CALLBACK and request.headers["content-type"] == "application/json"
    body = verify(request, PASSBACK_SECRET, now=int(utcnow().timestamp()))
    assert body["submission_id"] == submission_id and body["run_id"] == run_id and body["score"] == 90
    assert body["max_score"] == 90 and body["course"] == world.course and body["event"] == "submission.graded"
    assert request.headers["X-Grader-Delivery"] == body["delivery_id"]
    hidden = [item for item in body["tests"] if item["visibility"] == "hidden"]  # type: ignore[attr-defined]
    assert hidden and all(item["message"] == "" for item in hidden)
    with pytest.raises(AssertionError):
        verify(request, "another-secret-entirely", now=int(utcnow().timestamp()))
    with pytest.raises(AssertionError):
        verify(request, PASSBACK_SECRET, now=int(utcnow().timestamp()) + 3600)


def test_an_lms_that_fails_twice_then_recovers_gets_the_score_once(graded: tuple[ApiWorld, str]) -> None:
    world, submission_id = graded
    lms = FakeLms(503, httpx.ConnectError("refused"), 200)
    courier = lms.courier(max_attempts=5)
    assert [o.status for o in _deliver_due(world.factory, courier)] == ["pending"]
    assert _deliver_due(world.factory, courier) == [], "not due again before its backoff"
    first_retry = _rows(world.factory, submission_id)[0].next_attempt_at
    assert [o.status for o in _deliver_due(world.factory, courier, after_s=3600)] == ["pending"]
    second_retry = _rows(world.factory, submission_id)[0].next_attempt_at
    assert first_retry and second_retry and second_retry - first_retry >= timedelta(seconds=3600)
    assert [o.status for o in _deliver_due(world.factory, courier, after_s=7200)] == ["delivered"]
    assert _deliver_due(world.factory, courier, after_s=99999) == []
    row = _rows(world.factory, submission_id)[0]
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 3, 200)
    assert len({request.content for request in lms.requests}) == 1, "every retry sends the same bytes"


def test_given_up_after_the_bound_and_visible_to_instructors(graded: tuple[ApiWorld, str]) -> None:
    world, submission_id = graded
    courier = FakeLms(500).courier(max_attempts=3)
    for step in range(4):
        _deliver_due(world.factory, courier, after_s=step * 100_000)
    row = _rows(world.factory, submission_id)[0]
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 3, None)
    view = world.client.get(f"/api/v1/submissions/{submission_id}", headers=world.headers("instructor")).json()
    passback = view["passbacks"][0]
    assert passback["status"] == "failed" and passback["last_status_code"] == 500
    assert "gave up after 3 attempts" in passback["last_error"]
    student = world.client.get(f"/api/v1/submissions/{submission_id}", headers=world.headers("lms")).json()
    assert "passbacks" not in student


def test_a_refusal_is_final_at_once(graded: tuple[ApiWorld, str]) -> None:
    world, submission_id = graded
    _deliver_due(world.factory, FakeLms(404).courier())
    row = _rows(world.factory, submission_id)[0]
    assert (row.status, row.attempts) == ("failed", 1) and "not retried" in (row.last_error or "")


def test_resend_by_hand_sends_a_fresh_delivery(graded: tuple[ApiWorld, str]) -> None:
    world, submission_id = graded
    _deliver_due(world.factory, FakeLms(500).courier(max_attempts=1))
    response = world.client.post(f"/api/v1/submissions/{submission_id}/passback",
                                 headers=world.headers("instructor"))
    assert response.status_code == 202 and response.json()["status"] == "pending"
    assert response.json()["reason"] == "resend"
    message = world.dispatcher.messages[-1]
    assert message.kind == "passback"
    lms = FakeLms(200)
    with session_scope(world.factory) as session:
        assert [o.status for o in deliver_run_passbacks(session, message.run_id, courier=lms.courier())] == [
            "delivered"]
    assert [row.status for row in _rows(world.factory, submission_id)] == ["failed", "delivered"]


def test_resend_without_a_callback_or_a_result_is_a_conflict(world: ApiWorld) -> None:
    no_callback = submit(world.client, world.tokens["lms"]).json()["id"]
    not_graded = submit(world.client, world.tokens["lms"], callback_url=CALLBACK).json()["id"]
    for submission_id in (no_callback, not_graded):
        response = world.client.post(f"/api/v1/submissions/{submission_id}/passback",
                                     headers=world.headers("instructor"))
        assert response.status_code == 409 and response.json()["error"] == "conflict"


def test_a_late_regrade_delivers_the_new_score_and_never_the_stale_one(
        graded: tuple[ApiWorld, str], runner: SandboxRunner, limits: SandboxLimits) -> None:
    world, submission_id = graded
    regrade = world.client.post(f"/api/v1/submissions/{submission_id}/regrade", headers=world.headers("instructor"))
    new_run = regrade.json()["run_id"]
    grade_now(world.factory, new_run, runner, limits)
    lms = FakeLms(200)
    _deliver_due(world.factory, lms.courier())
    statuses = [(row.run_id == new_run, row.status) for row in _rows(world.factory, submission_id)]
    assert statuses == [(False, "superseded"), (True, "delivered")]
    assert [json.loads(r.content)["run_id"] for r in lms.requests] == [new_run]
