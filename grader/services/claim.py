"""Claiming a run for one worker and storing its result: compare-and-set on status and attempt, so a duplicate
or redelivered message never grades a run twice and never half-writes one."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from grader.errors import NotFound
from grader.logs import log_event
from grader.models import FINISHED, GradingRun, RunStatus, Submission
from grader.models.base import utcnow
from grader.notebooks.cells import StudentCell
from grader.notebooks.stored import cells_from_store
from grader.services.evaluate import Evaluation
from grader.services.grade import record_evaluation, record_failure

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """What a worker holds while it grades outside any transaction: the attempt it must still own to store."""

    run_id: str
    submission_id: str
    attempt: int
    assignment: str
    filename: str
    content: bytes
    cells: list[StudentCell] | None = None
    course: str | None = None
    rubric_version: str = ""


def _fresh(session: Session, run_id: str) -> GradingRun:
    """The run as the database has it now, whatever this session loaded before."""
    run = session.get(GradingRun, run_id, populate_existing=True)
    if run is None:
        raise NotFound(f"no grading run {run_id}")
    return run


def _claimable(run_id: str, token: str, now: datetime) -> ColumnElement[bool]:
    """Queued, or running under a lease that expired or that this very message (a Celery retry) holds."""
    lease_over = or_(GradingRun.lease_expires_at.is_(None), GradingRun.lease_expires_at < now)
    held_by_me = GradingRun.claim_token == token
    running = and_(GradingRun.status == RunStatus.RUNNING, or_(lease_over, held_by_me))
    return and_(GradingRun.id == run_id, or_(GradingRun.status == RunStatus.QUEUED, running))


def claim_run(session: Session, run_id: str, *, worker: str, token: str, lease_s: float, max_attempts: int,
              now: datetime | None = None) -> Claim | None:
    """Take the run for this attempt, or say why not (logged): done, held by another worker, or out of attempts."""
    now = now or utcnow()
    claimable = _claimable(run_id, token, now)
    taken = session.execute(
        update(GradingRun).where(claimable, GradingRun.attempt < max_attempts)
        .values(status=RunStatus.RUNNING, attempt=GradingRun.attempt + 1, started_at=now, worker=worker[:255],
                claim_token=token, lease_expires_at=now + timedelta(seconds=lease_s))
        .returning(GradingRun.attempt, GradingRun.submission_id, GradingRun.rubric_version)
        .execution_options(synchronize_session=False)).first()
    if taken is not None:
        log_event(logger, "run_claimed", run_id=run_id, attempt=taken.attempt, worker=worker)
        return _claim(session, run_id, taken.attempt, taken.submission_id, taken.rubric_version)
    run = _fresh(session, run_id)
    exhausted = session.execute(
        update(GradingRun).where(claimable, GradingRun.attempt >= max_attempts)
        .values(status=RunStatus.ERROR, finished_at=now, lease_expires_at=None, claim_token=None,
                error=f"gave up after {max_attempts} attempts: the workers grading it were lost or kept failing")
        .execution_options(synchronize_session=False))
    reason = "exhausted" if exhausted.rowcount == 1 else run.status  # type: ignore[attr-defined]
    log_event(logger, "run_not_claimed", run_id=run_id, reason=reason, attempt=run.attempt, worker=worker)
    return None


def _claim(session: Session, run_id: str, attempt: int, submission_id: str, rubric_version: str) -> Claim:
    """The claim's submission, read as plain columns: the worker needs its bytes, not a tracked object."""
    submission = session.execute(select(Submission.assignment, Submission.filename, Submission.content,
                                        Submission.parsed_cells, Submission.course)
                                 .where(Submission.id == submission_id)).one()
    return Claim(run_id=run_id, submission_id=submission_id, attempt=attempt, assignment=submission.assignment,
                 filename=submission.filename, content=submission.content,
                 cells=cells_from_store(submission.parsed_cells), course=submission.course,
                 rubric_version=rubric_version)


def record_claimed(session: Session, claim: Claim, evaluation: Evaluation, *, rubric_version: str) -> GradingRun | None:
    """Store items, score, status and the current pointer together, only if this attempt still owns the run."""
    submission = session.scalars(select(Submission).where(Submission.id == claim.submission_id)
                                 .with_for_update()).one()
    owned = session.execute(
        update(GradingRun)
        .where(GradingRun.id == claim.run_id, GradingRun.status == RunStatus.RUNNING,
               GradingRun.attempt == claim.attempt)
        .values(lease_expires_at=None, claim_token=None)
        .execution_options(synchronize_session=False))
    if owned.rowcount != 1:  # type: ignore[attr-defined]
        log_event(logger, "run_claim_lost", run_id=claim.run_id, attempt=claim.attempt)
        return None
    run = _fresh(session, claim.run_id)
    if run.submission_id == submission.id:  # the row locked above: what the passback reads, without a reload
        set_committed_value(run, "submission", submission)
    run.rubric_version = rubric_version
    record_evaluation(session, run, evaluation)
    session.flush()
    return run


def log_graded(run: GradingRun) -> None:
    """Called once the result is committed: a commit that fails (a database outage) must not log a store."""
    log_event(logger, "run_graded", run_id=run.id, submission_id=run.submission_id, attempt=run.attempt,
              worker=run.worker, score=run.score, max_score=run.max_score)


def fail_run(session: Session, run_id: str, reason: str) -> bool:
    """End an unfinished run `error` with its cause for staff; a run that finished meanwhile is left alone."""
    run = session.scalar(select(GradingRun).where(GradingRun.id == run_id).with_for_update())
    if run is None or run.status in FINISHED:
        return False
    run.lease_expires_at = None
    run.claim_token = None
    record_failure(session, run, reason)
    log_event(logger, "run_failed", level=logging.WARNING, run_id=run_id, attempt=run.attempt)
    return True
