"""The passback outbox: a signed score per stored result, delivered at least once with backoff, given up visibly."""

import hashlib
import hmac
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import httpx
from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.orm import Session

from grader.config import Settings
from grader.logs import log_event
from grader.models import GradingRun, Passback, PassbackReason, PassbackStatus, RunStatus, Submission
from grader.models.base import new_id, utcnow
from grader.services.callback_guard import CallbackPolicy, CallbackRefused, PinnedTransport
from grader.services.results import ItemView, student_items

SIGNATURE_HEADER = "X-Grader-Signature"
TIMESTAMP_HEADER = "X-Grader-Timestamp"
DELIVERY_HEADER = "X-Grader-Delivery"
RETRYABLE_CODES = frozenset({408, 425, 429})
logger = logging.getLogger(__name__)


class PassbackBody(BaseModel):
    """The JSON an LMS receives at its callback_url; the same bytes on every retry of one delivery."""

    event: Literal["submission.graded"] = "submission.graded"
    delivery_id: str
    submission_id: str
    external_id: str | None
    course: str | None
    assignment: str
    student: str
    run_id: str
    score: float
    max_score: float
    rubric_version: str
    graded_at: datetime | None
    tests: list[ItemView]


@dataclass(frozen=True)
class Courier:
    """How deliveries go out: the signing key, an HTTP client (swapped in tests), and the retry bound."""

    secret: bytes
    client: httpx.Client
    retry_base_s: float
    retry_max_s: float
    max_attempts: int


@dataclass(frozen=True)
class PassbackOutcome:
    """What one delivery attempt left behind."""

    delivery_id: str
    status: str
    attempts: int
    status_code: int | None
    error: str | None


def courier_from_settings(settings: Settings, client: httpx.Client | None = None) -> Courier:
    """Redirects are never followed: a score goes to the URL the LMS gave, or nowhere."""
    policy = CallbackPolicy.from_cidrs(settings.passback_allowed_networks)
    client = client or httpx.Client(timeout=settings.passback_timeout_s, follow_redirects=False,
                                    transport=PinnedTransport(policy),
                                    headers={"User-Agent": "tinytorch-grader-passback/1"})
    return Courier(secret=settings.passback_secret.encode("utf-8"), client=client,
                   retry_base_s=settings.passback_retry_base_s, retry_max_s=settings.passback_retry_max_s,
                   max_attempts=settings.passback_max_attempts)


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `timestamp.body`: the timestamp is signed too, so an old delivery cannot be replayed fresh."""
    return hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(secret: bytes, body: bytes, delivery_id: str, *, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {"Content-Type": "application/json", TIMESTAMP_HEADER: stamp, DELIVERY_HEADER: delivery_id,
            SIGNATURE_HEADER: f"sha256={sign(secret, stamp, body)}"}


def _body(delivery_id: str, submission: Submission, run: GradingRun) -> str:
    body = PassbackBody(delivery_id=delivery_id, submission_id=submission.id, external_id=submission.external_id,
                        course=submission.course, assignment=submission.assignment, student=submission.student,
                        run_id=run.id, score=run.score or 0.0, max_score=run.max_score or 0.0,
                        rubric_version=run.rubric_version, graded_at=run.finished_at, tests=student_items(run))
    return body.model_dump_json()


def new_passback(session: Session, submission: Submission, run: GradingRun, reason: PassbackReason) -> Passback:
    delivery_id = new_id()
    row = Passback(id=delivery_id, submission_id=submission.id, run_id=run.id, reason=reason,
                   callback_url=submission.callback_url or "", body=_body(delivery_id, submission, run),
                   status=PassbackStatus.PENDING, attempts=0, next_attempt_at=utcnow())
    session.add(row)
    session.flush()
    log_event(logger, "passback_recorded", delivery_id=row.id, submission_id=submission.id, run_id=run.id,
              reason=reason)
    return row


def record_passback(session: Session, run: GradingRun) -> Passback | None:
    """Called where a result is stored, in that transaction: the score and its outbox row commit together."""
    submission = run.submission
    if not submission.callback_url or run.status != RunStatus.GRADED:
        return None
    return new_passback(session, submission, run, PassbackReason.GRADED)


def supersede_pending(session: Session, submission_id: str) -> None:
    """Pending deliveries of a submission that a newer one replaces are never sent."""
    session.execute(update(Passback).where(Passback.submission_id == submission_id,
                                           Passback.status == PassbackStatus.PENDING)
                    .values(status=PassbackStatus.SUPERSEDED, next_attempt_at=None))


def passbacks_of(session: Session, submission_id: str) -> list[Passback]:
    return list(session.scalars(select(Passback).where(Passback.submission_id == submission_id)
                                .order_by(Passback.created_at)))


def _retry_delay_s(courier: Courier, attempts: int) -> float:
    """Exponential backoff with jitter, so a recovering LMS is not hit by every delivery at once."""
    ceiling = min(courier.retry_max_s, courier.retry_base_s * 2 ** max(attempts - 1, 0))
    return ceiling * random.uniform(0.5, 1.0)


@dataclass(frozen=True)
class _Answer:
    """What one POST got: an HTTP code, or none; an error unless 2xx; whether trying again could help."""

    code: int | None
    error: str | None
    retryable: bool


def _post(courier: Courier, row: Passback) -> _Answer:
    body = row.body.encode("utf-8")
    try:
        response = courier.client.post(row.callback_url, content=body,
                                       headers=signed_headers(courier.secret, body, row.id))
    except CallbackRefused as exc:
        return _Answer(None, f"refused: {exc}"[:500], retryable=False)
    except httpx.HTTPError as exc:
        return _Answer(None, f"{type(exc).__name__}: {exc}"[:500], retryable=True)
    code = response.status_code
    if response.is_success:
        return _Answer(code, None, retryable=False)
    return _Answer(code, f"the LMS answered HTTP {code}", retryable=code >= 500 or code in RETRYABLE_CODES)


def _settle(courier: Courier, row: Passback, answer: _Answer, now: datetime) -> None:
    """Delivered on 2xx; retried on no answer, 408/425/429 or 5xx until the bound; any other answer is final."""
    code, error, retryable = answer.code, answer.error, answer.retryable
    row.attempts += 1
    row.last_attempt_at = now
    row.last_status_code = code
    row.last_error = error
    if error is None:
        row.status, row.delivered_at, row.next_attempt_at = PassbackStatus.DELIVERED, now, None
        return
    if retryable and row.attempts < courier.max_attempts:
        row.next_attempt_at = now + timedelta(seconds=_retry_delay_s(courier, row.attempts))
        return
    row.status, row.next_attempt_at = PassbackStatus.FAILED, None
    row.last_error = (f"gave up after {row.attempts} attempts: {error}" if retryable
                      else f"{error}; not retried (fix the callback and resend by hand)")


def _outcome(row: Passback) -> PassbackOutcome:
    return PassbackOutcome(delivery_id=row.id, status=row.status, attempts=row.attempts,
                           status_code=row.last_status_code, error=row.last_error)


def _deliver_locked(session: Session, row: Passback, courier: Courier, now: datetime) -> PassbackOutcome:
    """Send one pending row that this transaction holds; a result that is no longer current is never sent."""
    run = session.get(GradingRun, row.run_id)
    if run is None or not run.holds_current_score:
        row.status, row.next_attempt_at = PassbackStatus.SUPERSEDED, None
    else:
        _settle(courier, row, _post(courier, row), now)
    session.flush()
    log_event(logger, "passback_attempt", level=logging.INFO if row.status != "failed" else logging.WARNING,
              delivery_id=row.id, run_id=row.run_id, status=row.status, attempts=row.attempts,
              status_code=row.last_status_code)
    return _outcome(row)


def _pending_rows(session: Session, condition: ColumnElement[bool], limit: int) -> list[Passback]:
    """Pending rows this transaction locks; rows another deliverer holds are skipped, never sent twice at once."""
    query = (select(Passback).where(Passback.status == PassbackStatus.PENDING, condition)
             .order_by(Passback.next_attempt_at).limit(limit).with_for_update(skip_locked=True))
    return list(session.scalars(query))


def deliver_passback(session: Session, delivery_id: str, *, courier: Courier,
                     now: datetime | None = None) -> PassbackOutcome | None:
    """Send one delivery now, whatever its schedule; None when it is unknown or another deliverer holds it."""
    rows = _pending_rows(session, Passback.id == delivery_id, 1)
    if rows:
        return _deliver_locked(session, rows[0], courier, now or utcnow())
    row = session.get(Passback, delivery_id)
    return None if row is None else _outcome(row)


def deliver_run_passbacks(session: Session, run_id: str, *, courier: Courier,
                          now: datetime | None = None) -> list[PassbackOutcome]:
    """The due deliveries of one run: what a worker sends right after the result commits."""
    now = now or utcnow()
    rows = _pending_rows(session, and_(Passback.run_id == run_id, Passback.next_attempt_at <= now), 10)
    return [_deliver_locked(session, row, courier, now) for row in rows]


def deliver_due_passbacks(session: Session, *, courier: Courier, limit: int = 20,
                          now: datetime | None = None) -> list[PassbackOutcome]:
    """Every delivery whose retry time has come, oldest first: the relay's (or beat's) periodic pass."""
    now = now or utcnow()
    rows = _pending_rows(session, Passback.next_attempt_at <= now, limit)
    return [_deliver_locked(session, row, courier, now) for row in rows]
