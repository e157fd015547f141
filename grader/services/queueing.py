"""Enqueue after commit: services mark what to send, and the unit of work sends it only once it has committed."""

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy.orm import Session, sessionmaker

from grader.db import session_scope
from grader.errors import NotRetryable
from grader.logs import log_event
from grader.models import AssignmentVersion, GradingRun, RunStatus, Submission
from grader.models.base import utcnow
from grader.services.accept import Upload, accept_submission
from grader.services.grade import load_run

PENDING_KEY = "grader.pending_dispatches"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dispatch:
    """One message to send once the transaction that asked for it has committed; `run_id` is the id of the row
    the message is about (a grading run, or for `check` an assignment version)."""

    kind: Literal["grade", "passback", "check"]
    run_id: str


class Dispatcher(Protocol):
    """Sends messages to the broker; the transport (Celery) provides it, the domain never imports it."""

    def __call__(self, messages: Sequence[Dispatch]) -> None: ...


def _pending(session: Session) -> list[Dispatch]:
    pending: list[Dispatch] = session.info.setdefault(PENDING_KEY, [])
    return pending


def queue_run(session: Session, run: GradingRun, *, now: datetime | None = None) -> None:
    """Stamp the send on the run and send it after commit; the sweeper trusts `dispatched_at`."""
    run.dispatched_at = now or utcnow()
    run.dispatches = (run.dispatches or 0) + 1
    _pending(session).append(Dispatch("grade", run.id))


def queue_check(session: Session, version: AssignmentVersion, *, now: datetime | None = None) -> None:
    """Send a stored version to the workers' check after commit; the sweeper backs off on `dispatched_at`."""
    version.dispatched_at = now or utcnow()
    version.dispatches = (version.dispatches or 0) + 1
    _pending(session).append(Dispatch("check", version.id))


def request_passback(session: Session, run: GradingRun) -> None:
    """Ask for the LMS passback of a stored result, sent once that result is committed."""
    _pending(session).append(Dispatch("passback", run.id))


@contextmanager
def dispatching_scope(factory: sessionmaker[Session], dispatch: Dispatcher) -> Iterator[Session]:
    """A unit of work that sends what it queued after its commit: never before, and never after a rollback."""
    with session_scope(factory) as session:
        yield session
    messages = session.info.pop(PENDING_KEY, [])
    if messages:
        dispatch(messages)


def accept_and_queue(session: Session, upload: Upload, *, max_bytes: int) -> tuple[Submission, GradingRun]:
    """Accept an upload and queue its run; a repeated LMS upload that is already queued is not sent twice."""
    submission, run = accept_submission(session, upload, max_bytes=max_bytes)
    if run.status == RunStatus.QUEUED and run.dispatched_at is None:
        queue_run(session, run)
        session.flush()
        log_event(logger, "run_queued", run_id=run.id, submission_id=submission.id)
    return submission, run


def requeue_run(session: Session, run_id: str) -> GradingRun:
    """Staff re-queue an errored run by hand, with a fresh attempt budget."""
    run = load_run(session, run_id)
    if run.status != RunStatus.ERROR:
        raise NotRetryable(f"run {run_id} is {run.status}; only a run that ended `error` can be re-queued")
    log_event(logger, "run_requeued", run_id=run.id, previous_attempts=run.attempt)
    run.status = RunStatus.QUEUED
    run.error = None
    run.finished_at = None
    run.attempt = 0
    run.lease_expires_at = None
    run.claim_token = None
    queue_run(session, run)
    session.flush()
    return run
