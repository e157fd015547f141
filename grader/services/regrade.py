"""Regrade batches: grade an assignment's submissions again under the current rubric, preview, publish, roll back."""

import enum
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true, update
from sqlalchemy.orm import Session

from grader.assignments.bundle import load_assignment
from grader.errors import NotFound
from grader.logs import log_event
from grader.models import CourseAssignment, GradingRun, RegradeBatch, RunStatus, Submission
from grader.models.base import utcnow
from grader.services.courses import Conflict, require_assignment
from grader.services.grade import make_current
from grader.services.outbox import record_passback, supersede_pending
from grader.services.queueing import queue_run, request_passback
from grader.services.regrade_summary import (
    CANCELLED_REASON,
    BatchProgress,
    BatchSummary,
    batch_progress,
    finish_if_ended,
)

logger = logging.getLogger(__name__)
UNFINISHED = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)


class Scope(enum.StrEnum):
    """Which submissions of each student are graded again."""

    LATEST = "latest"
    BEST = "best"
    ALL = "all"


class OnlyStatus(enum.StrEnum):
    """`error`: the newest run ended error; `failed`: the current result is short of full marks."""

    ERROR = "error"
    FAILED = "failed"


@dataclass(frozen=True)
class RegradeRequest:
    """What to grade again; the CLI and the API build one from their arguments."""

    assignment: str
    course: str | None = None
    only_status: OnlyStatus | None = None
    since: datetime | None = None
    students: tuple[str, ...] = ()
    scope: Scope = Scope.LATEST
    preview: bool = False
    requested_by: str = ""


class BatchView(BaseModel):
    """A batch as staff see it: request, derived progress, state, and the change summary once it has ended."""

    id: str
    assignment: str
    course: str | None
    rubric_version: str
    scope: str
    filters: dict[str, Any]
    preview: bool
    state: str
    publication: str
    progress: BatchProgress
    created_at: datetime
    finished_at: datetime | None
    summary: BatchSummary | None


@dataclass(frozen=True)
class _Candidate:
    submission_id: str
    student: str
    created_at: datetime
    current_run: str | None
    score: float | None
    max_score: float | None
    newest_status: str


def _a_result() -> ColumnElement[bool]:
    """Runs that say how a submission was graded: not previews, not runs cancelled before they started."""
    return and_(GradingRun.preview.is_(False), or_(GradingRun.error.is_(None), GradingRun.error != CANCELLED_REASON))


def _candidates(session: Session, request: RegradeRequest) -> list[_Candidate]:
    """Submissions the filters keep, with their current result and the status of their newest run."""
    newest = (select(GradingRun.submission_id.label("sid"), GradingRun.status.label("status"),
                     func.row_number().over(partition_by=GradingRun.submission_id,
                                            order_by=(GradingRun.queued_at.desc(), GradingRun.id.desc()))
                     .label("rank")).join(Submission, Submission.id == GradingRun.submission_id)
              .where(Submission.assignment == request.assignment, _a_result()).subquery())
    current = and_(GradingRun.submission_id == Submission.id, GradingRun.is_current)
    query = (select(Submission.id, Submission.student, Submission.created_at, GradingRun.id, GradingRun.score,
                    GradingRun.max_score, newest.c.status)
             .outerjoin(GradingRun, current).join(newest, and_(newest.c.sid == Submission.id, newest.c.rank == 1))
             .where(Submission.assignment == request.assignment)
             .order_by(Submission.student, Submission.created_at, Submission.id))
    if request.course is not None:
        query = query.where(Submission.course == request.course)
    if request.since is not None:
        query = query.where(Submission.created_at >= request.since)
    if request.students:
        query = query.where(Submission.student.in_(request.students))
    return [_Candidate(*row) for row in session.execute(query)]


def _in_scope(candidates: list[_Candidate], scope: Scope) -> list[_Candidate]:
    """Latest: each student's newest submission; best: the one with the highest current score (newest on ties)."""
    if scope == Scope.ALL:
        return candidates
    picked: dict[str, _Candidate] = {}
    for candidate in candidates:
        held = picked.get(candidate.student)
        better = scope == Scope.LATEST or held is None or (candidate.score or -1.0) >= (held.score or -1.0)
        if better:
            picked[candidate.student] = candidate
    return list(picked.values())


def _wanted(candidate: _Candidate, only: OnlyStatus | None) -> bool:
    """A submission already waiting for a grade is left alone: that grade uses the current rubric anyway."""
    if candidate.newest_status in UNFINISHED:
        return False
    if only == OnlyStatus.ERROR:
        return candidate.newest_status == RunStatus.ERROR.value
    if only == OnlyStatus.FAILED:
        return candidate.score is not None and candidate.score < (candidate.max_score or 0.0)
    return True


def _refuse_overlap(session: Session, request: RegradeRequest) -> None:
    """One unfinished batch per assignment and course, so two batches never race for the same current pointer;
    the course's assignment row is locked so two concurrent starts are serialized."""
    if request.course is not None:
        session.execute(select(CourseAssignment).where(CourseAssignment.course_id == request.course,
                                                       CourseAssignment.assignment == request.assignment)
                        .with_for_update())
    overlapping = (true() if request.course is None
                   else or_(RegradeBatch.course.is_(None), RegradeBatch.course == request.course))
    running = session.scalar(select(RegradeBatch.id).where(
        RegradeBatch.assignment == request.assignment, overlapping, RegradeBatch.cancelled_at.is_(None),
        exists().where(GradingRun.batch_id == RegradeBatch.id, GradingRun.status.in_(UNFINISHED))).limit(1))
    if running is not None:
        raise Conflict(f"regrade batch {running} of {request.assignment} is still running; wait or cancel it")


def _filters(request: RegradeRequest) -> dict[str, Any]:
    return {"only_status": request.only_status.value if request.only_status else None,
            "since": request.since.isoformat() if request.since else None, "students": list(request.students)}


def start_batch(session: Session, request: RegradeRequest) -> RegradeBatch:
    """Create the batch and one queued run per selected submission; all are sent in one dispatch after commit."""
    bundle = load_assignment(request.assignment)
    if request.course is not None:
        require_assignment(session, request.course, request.assignment)
    _refuse_overlap(session, request)
    now = utcnow()
    batch = RegradeBatch(assignment=bundle.name, course=request.course, rubric_version=bundle.rubric.version,
                         scope=request.scope.value, filters=_filters(request), preview=request.preview,
                         requested_by=request.requested_by[:255], created_at=now,
                         published_at=None if request.preview else now)
    session.add(batch)
    session.flush()
    selected = [c for c in _in_scope(_candidates(session, request), request.scope) if _wanted(c, request.only_status)]
    runs = [GradingRun(submission_id=c.submission_id, rubric_version=bundle.rubric.version, batch_id=batch.id,
                       preview=request.preview, replaces_run_id=c.current_run, status=RunStatus.QUEUED.value,
                       queued_at=now) for c in selected]
    session.add_all(runs)
    session.flush()
    for run in runs:
        queue_run(session, run, now=now)
    session.flush()
    log_event(logger, "regrade_started", batch_id=batch.id, assignment=batch.assignment, course=batch.course,
              runs=len(runs), preview=batch.preview, scope=batch.scope)
    return batch


def load_batch(session: Session, batch_id: str, *, lock: bool = False) -> RegradeBatch:
    query = select(RegradeBatch).where(RegradeBatch.id == batch_id)
    batch = session.scalar(query.with_for_update() if lock else query)
    if batch is None:
        raise NotFound(f"no regrade batch {batch_id}")
    return batch


def batch_view(session: Session, batch: RegradeBatch) -> BatchView:
    """Progress from the runs; the first view after the last run finished stores the change summary."""
    progress = batch_progress(session, batch.id)
    finish_if_ended(session, batch, progress, utcnow())
    ended = not (progress.queued or progress.running)
    state = "running" if not ended else "cancelled" if batch.cancelled_at else "done"
    publication = ("rolled_back" if batch.rolled_back_at else "published" if batch.published_at else "preview")
    summary = BatchSummary.model_validate(batch.summary) if batch.summary is not None else None
    return BatchView(id=batch.id, assignment=batch.assignment, course=batch.course,
                     rubric_version=batch.rubric_version, scope=batch.scope, filters=dict(batch.filters),
                     preview=batch.preview, state=state, publication=publication, progress=progress,
                     created_at=batch.created_at, finished_at=batch.finished_at, summary=summary)


def cancel_batch(session: Session, batch_id: str) -> RegradeBatch:
    """Queued runs end `error` (claims and the sweeper skip them); runs already taken finish normally."""
    batch = load_batch(session, batch_id, lock=True)
    now = utcnow()
    batch.cancelled_at = batch.cancelled_at or now
    session.execute(update(GradingRun).where(GradingRun.batch_id == batch.id,
                                             GradingRun.status == RunStatus.QUEUED.value)
                    .values(status=RunStatus.ERROR.value, error=CANCELLED_REASON, finished_at=now)
                    .execution_options(synchronize_session=False))
    session.flush()
    log_event(logger, "regrade_cancelled", batch_id=batch.id)
    return batch


def _require_ended(session: Session, batch: RegradeBatch, action: str) -> None:
    unfinished = session.scalar(select(func.count()).select_from(GradingRun).where(
        GradingRun.batch_id == batch.id, GradingRun.status.in_(UNFINISHED))) or 0
    if unfinished:
        raise Conflict(f"batch {batch.id} still has {unfinished} runs to grade; {action} it once it has ended")


def _switch(session: Session, submission_id: str, to: GradingRun | None, reason: str) -> None:
    """Point the submission at `to` (or at nothing) and pass the score back when it differs from the old one."""
    previous = session.scalar(select(GradingRun).where(GradingRun.submission_id == submission_id,
                                                       GradingRun.is_current).with_for_update())
    if to is None:
        if previous is not None:
            previous.is_current = False
        return
    make_current(session, to)
    session.flush()
    if previous is None or previous.score != to.score:
        supersede_pending(session, submission_id)
        if record_passback(session, to, reason=reason) is not None:
            request_passback(session, to)


def _batch_runs(session: Session, batch_id: str, condition: ColumnElement[bool]) -> list[GradingRun]:
    return list(session.scalars(select(GradingRun).where(GradingRun.batch_id == batch_id, condition)
                                .order_by(GradingRun.id)))


def publish_batch(session: Session, batch_id: str) -> RegradeBatch:
    """A preview's graded runs become current; each changed score is passed back, after commit, in one dispatch."""
    batch = load_batch(session, batch_id, lock=True)
    if batch.published_at is not None or batch.rolled_back_at is not None:
        raise Conflict(f"batch {batch.id} is already published")
    _require_ended(session, batch, "publish")
    for run in _batch_runs(session, batch.id, GradingRun.status == RunStatus.GRADED.value):
        current = session.scalar(select(GradingRun.id).where(GradingRun.submission_id == run.submission_id,
                                                             GradingRun.is_current))
        run.replaces_run_id = current
        _switch(session, run.submission_id, run, "regraded")
    batch.published_at = utcnow()
    session.flush()
    log_event(logger, "regrade_published", batch_id=batch.id)
    return batch


def rollback_batch(session: Session, batch_id: str) -> RegradeBatch:
    """The batch's runs that are current give way to the runs they replaced; every run stays stored."""
    batch = load_batch(session, batch_id, lock=True)
    if batch.published_at is None or batch.rolled_back_at is not None:
        raise Conflict(f"batch {batch.id} is not published, so there is nothing to roll back")
    _require_ended(session, batch, "roll back")
    for run in _batch_runs(session, batch.id, GradingRun.is_current.is_(True)):
        previous = session.get(GradingRun, run.replaces_run_id) if run.replaces_run_id else None
        _switch(session, run.submission_id, previous, "rolled_back")
    batch.rolled_back_at = utcnow()
    session.flush()
    log_event(logger, "regrade_rolled_back", batch_id=batch.id)
    return batch
