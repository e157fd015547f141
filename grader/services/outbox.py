"""The passback outbox: a score per stored result, delivered through its channel at least once with backoff,
given up visibly."""

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from grader.config import Settings
from grader.logs import log_event
from grader.models import (
    GradingRun,
    Passback,
    PassbackChannelName,
    PassbackReason,
    PassbackStatus,
    Submission,
)
from grader.models.base import new_id, utcnow
from grader.passback import ags_score, webhook
from grader.passback.channel import Answer, BodyBuilder, Channel, PassbackTarget
from grader.passback.rule import result_passback_target

if TYPE_CHECKING:  # httpx is imported by the code that delivers: recording a passback (every grade) needs none
    import httpx

logger = logging.getLogger(__name__)
BODY_BUILDERS: dict[str, BodyBuilder] = {PassbackChannelName.WEBHOOK.value: webhook.build_body,
                                         PassbackChannelName.LTI_AGS.value: ags_score.build_body}


@dataclass(frozen=True)
class Courier:
    """How deliveries go out: the webhook's signing key and HTTP client (swapped in tests), the AGS channel
    (None where LTI is not set up: its rows wait), and the retry bound."""

    secret: bytes
    client: "httpx.Client"
    retry_base_s: float
    retry_max_s: float
    max_attempts: int
    ags: Channel | None = None

    def channel(self, name: str) -> Channel | None:
        if name == PassbackChannelName.LTI_AGS.value:
            return self.ags
        return webhook.WebhookChannel(self.secret, self.client)


@dataclass(frozen=True)
class PassbackOutcome:
    """What one delivery attempt left behind."""

    delivery_id: str
    status: str
    attempts: int
    status_code: int | None
    error: str | None


def courier_from_settings(settings: Settings, client: "httpx.Client | None" = None) -> Courier:
    """Redirects are never followed: a score goes to the URL the LMS gave, or nowhere. The AGS channel (and its
    JOSE imports) is loaded here, on first use, so importing the outbox stays cheap for the CLI."""
    import httpx

    from grader.lti.access_tokens import AccessTokens, token_store_for
    from grader.passback.ags import AgsChannel
    from grader.services.callback_guard import CallbackPolicy, PinnedTransport
    from grader.user_agent import user_agent

    policy = CallbackPolicy.from_cidrs(settings.passback_allowed_networks)
    client = client or httpx.Client(timeout=settings.passback_timeout_s, follow_redirects=False,
                                    transport=PinnedTransport(policy),
                                    headers={"User-Agent": user_agent("passback")})
    tokens = AccessTokens(settings=settings, store=token_store_for(settings), client=client)
    return Courier(secret=settings.passback_secret.encode("utf-8"), client=client,
                   retry_base_s=settings.passback_retry_base_s, retry_max_s=settings.passback_retry_max_s,
                   max_attempts=settings.passback_max_attempts, ags=AgsChannel(tokens=tokens, client=client))


def new_passback(session: Session, submission: Submission, run: GradingRun, reason: PassbackReason,
                 target: PassbackTarget) -> Passback:
    """The row and its body are written now, in the caller's transaction; sending happens after commit."""
    delivery_id = new_id()
    body = BODY_BUILDERS[target.channel](session, delivery_id=delivery_id, submission=submission, run=run,
                                         target=target)
    row = Passback(id=delivery_id, submission_id=submission.id, run_id=run.id, reason=reason,
                   channel=target.channel, callback_url=target.url, lti_launch_id=target.lti_launch_id, body=body,
                   status=PassbackStatus.PENDING, attempts=0, next_attempt_at=utcnow())
    session.add(row)
    session.flush()
    log_event(logger, "passback_recorded", delivery_id=row.id, submission_id=submission.id, run_id=run.id,
              reason=reason, channel=target.channel)
    return row


def record_passback(session: Session, run: GradingRun, *, score_changed: bool = True,
                    reason: PassbackReason = PassbackReason.GRADED) -> Passback | None:
    """Called where a result is stored, in that transaction: the score and its outbox row commit together."""
    target = result_passback_target(session, run, score_changed=score_changed)
    if target is None:
        return None
    return new_passback(session, run.submission, run, reason, target)


def has_pending_passback(session: Session, run_id: str) -> bool:
    """Whether this run left a delivery to send: what decides if a passback message is worth dispatching."""
    return session.scalar(select(Passback.id).where(Passback.run_id == run_id,
                                                    Passback.status == PassbackStatus.PENDING)
                          .limit(1)) is not None


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


def _send(session: Session, courier: Courier, row: Passback) -> Answer:
    channel = courier.channel(row.channel)
    if channel is None:
        return Answer(None, f"no {row.channel} channel is configured in this process", retryable=True)
    try:
        return channel.send(session, row)
    except SQLAlchemyError:
        raise
    except Exception as exc:  # a bug in one delivery must not stop the pass for every other score
        logger.exception("passback channel failed", extra={"delivery_id": row.id})
        return Answer(None, f"internal error: {type(exc).__name__}: {exc}"[:500], retryable=True)


def _settle(courier: Courier, row: Passback, answer: Answer, now: datetime) -> None:
    """Delivered when the channel says so; retried while it says another try could help, until the bound (after
    the wait the receiver asked for, else the backoff); any other answer is final."""
    code, error, retryable = answer.code, answer.error, answer.retryable
    if not answer.sent:
        row.last_error = error
        row.next_attempt_at = now + timedelta(seconds=answer.retry_after_s or _retry_delay_s(courier, 1))
        return
    row.attempts += 1
    row.last_attempt_at = now
    row.last_status_code = code
    row.last_error = error
    if error is None:
        row.status, row.delivered_at, row.next_attempt_at = PassbackStatus.DELIVERED, now, None
        return
    if retryable and row.attempts < courier.max_attempts:
        delay = answer.retry_after_s if answer.retry_after_s is not None else _retry_delay_s(courier, row.attempts)
        row.next_attempt_at = now + timedelta(seconds=delay)
        return
    row.status, row.next_attempt_at = PassbackStatus.FAILED, None
    row.last_error = (f"gave up after {row.attempts} attempts: {error}" if retryable
                      else f"{error}; not retried (fix the cause and resend by hand)")


def _outcome(row: Passback) -> PassbackOutcome:
    return PassbackOutcome(delivery_id=row.id, status=row.status, attempts=row.attempts,
                           status_code=row.last_status_code, error=row.last_error)


def _deliver_locked(session: Session, row: Passback, courier: Courier, now: datetime) -> PassbackOutcome:
    """Send one pending row that this transaction holds; a result that is no longer current is never sent."""
    run = session.get(GradingRun, row.run_id)
    if run is None or not run.holds_current_score:
        row.status, row.next_attempt_at = PassbackStatus.SUPERSEDED, None
    else:
        _settle(courier, row, _send(session, courier, row), now)
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
