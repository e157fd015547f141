"""Regrade batches: grade an assignment's submissions again under the current rubric, preview, publish, roll back."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.orm import Session

from grader.assignments.registry import find_assignment
from grader.errors import Conflict, NotFound
from grader.logs import log_event
from grader.models import UNFINISHED, CourseAssignment, GradingRun, PassbackReason, RegradeBatch, RunStatus, Submission
from grader.models.base import utcnow
from grader.services.batch_states import (
    TRANSITIONS,
    BatchAction,
    BatchState,
    Refusal,
    allowed_actions,
    batch_state,
)
from grader.services.bundles import current_bundle
from grader.services.courses import require_assignment
from grader.services.grade import make_current
from grader.services.outbox import record_passback, supersede_pending
from grader.services.queries import current_run, newest_runs, unfinished_batch, unfinished_runs
from grader.services.queueing import queue_run, request_passback
from grader.services.regrade_scope import OnlyStatus, Scope
from grader.services.regrade_summary import BatchProgress, BatchSummary, batch_progress, compute_summary

logger = logging.getLogger(__name__)


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
    """A batch as staff see it: request, derived progress, its state and the actions the transition table allows
    from it, and the change summary once it has ended. `state` and `publication` are the older two-field view
    of `phase` (running, done or cancelled; preview, published or rolled back)."""

    id: str
    assignment: str
    course: str | None
    rubric_version: str
    scope: str
    filters: dict[str, Any]
    preview: bool
    phase: BatchState
    actions: list[BatchAction]
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


def _candidates(session: Session, request: RegradeRequest) -> list[_Candidate]:
    """Submissions the filters keep, with their current result and the status of their newest run."""
    newest = newest_runs(Submission.assignment == request.assignment)
    current = and_(GradingRun.submission_id == Submission.id, GradingRun.holds_current_score)
    query = (select(Submission.id, Submission.student, Submission.created_at, GradingRun.id, GradingRun.score,
                    GradingRun.max_score, newest.c.status)
             .outerjoin(GradingRun, current).join(newest, newest.c.submission_id == Submission.id)
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
        return candidate.newest_status == RunStatus.ERROR
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
    running = unfinished_batch(session, assignment=request.assignment, course=request.course)
    if running is not None:
        raise Conflict(f"regrade batch {running.id} of {request.assignment} is still running; wait or cancel it")


def _filters(request: RegradeRequest) -> dict[str, Any]:
    return {"only_status": request.only_status,
            "since": request.since.isoformat() if request.since else None, "students": list(request.students)}


def start_batch(session: Session, request: RegradeRequest) -> RegradeBatch:
    """Create the batch and one queued run per selected submission; all are sent in one dispatch after commit."""
    if request.course is not None:
        require_assignment(session, request.course, request.assignment)
        bundle = current_bundle(session, request.course, request.assignment)
    else:
        bundle = find_assignment(request.assignment)
    _refuse_overlap(session, request)
    now = utcnow()
    batch = RegradeBatch(assignment=bundle.name, course=request.course, rubric_version=bundle.rubric.version,
                         scope=request.scope, filters=_filters(request), preview=request.preview,
                         requested_by=request.requested_by[:255], created_at=now,
                         published_at=None if request.preview else now)
    session.add(batch)
    session.flush()
    selected = [c for c in _in_scope(_candidates(session, request), request.scope) if _wanted(c, request.only_status)]
    runs = [GradingRun(submission_id=c.submission_id, rubric_version=bundle.rubric.version, batch_id=batch.id,
                       preview=request.preview, replaces_run_id=c.current_run, status=RunStatus.QUEUED,
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
    """Progress from the runs, the state from the transition table's point of view, and the change summary once
    the batch has ended. A read: the summary the sweeper has not stored yet is computed, never stored here."""
    progress = batch_progress(session, batch.id)
    state = batch_state(batch, unfinished_runs=progress.queued + progress.running)
    summary = None
    if state not in (BatchState.RUNNING, BatchState.CANCELLING):
        summary = (BatchSummary.model_validate(batch.summary) if batch.summary is not None
                   else compute_summary(session, batch))
    legacy = ("running" if state in (BatchState.RUNNING, BatchState.CANCELLING)
              else "cancelled" if batch.cancelled_at else "done")
    publication = ("rolled_back" if batch.rolled_back_at else "published" if batch.published_at else "preview")
    return BatchView(id=batch.id, assignment=batch.assignment, course=batch.course,
                     rubric_version=batch.rubric_version, scope=batch.scope, filters=dict(batch.filters),
                     preview=batch.preview, phase=state, actions=allowed_actions(state), state=legacy,
                     publication=publication, progress=progress, created_at=batch.created_at,
                     finished_at=batch.finished_at, summary=summary)


def act_on_batch(session: Session, batch_id: str, action: BatchAction) -> RegradeBatch:
    """The one door for cancel, publish and rollback: the batch is locked, its state read, and the action done
    only if the transition table allows it from there; otherwise a Conflict says why, and nothing changes."""
    batch = load_batch(session, batch_id, lock=True)
    state = batch_state(batch, unfinished_runs=unfinished_runs(session, batch.id))
    outcome = TRANSITIONS[state][action]
    if isinstance(outcome, Refusal):
        raise Conflict(f"batch {batch.id} {outcome.reason}")
    EFFECTS[action](session, batch)
    session.flush()
    log_event(logger, f"regrade_{action}", batch_id=batch.id, was=state, to=outcome.to)
    return batch


def cancel_batch(session: Session, batch_id: str) -> RegradeBatch:
    return act_on_batch(session, batch_id, BatchAction.CANCEL)


def publish_batch(session: Session, batch_id: str) -> RegradeBatch:
    return act_on_batch(session, batch_id, BatchAction.PUBLISH)


def rollback_batch(session: Session, batch_id: str) -> RegradeBatch:
    return act_on_batch(session, batch_id, BatchAction.ROLLBACK)


def _cancel(session: Session, batch: RegradeBatch) -> None:
    """Queued runs end `cancelled` (claims and the sweeper skip them); runs already taken finish normally."""
    now = utcnow()
    batch.cancelled_at = now
    session.execute(update(GradingRun).where(GradingRun.batch_id == batch.id, GradingRun.status == RunStatus.QUEUED)
                    .values(status=RunStatus.CANCELLED, finished_at=now)
                    .execution_options(synchronize_session=False))


def _switch(session: Session, submission_id: str, to: GradingRun | None, reason: PassbackReason) -> None:
    """Point the submission at `to` (or at nothing) and pass the result back when it differs from the old one
    (a score, or its maximum: 90 of 90 and 90 of 95 are different grades)."""
    previous = current_run(session, submission_id, lock=True)
    if to is None:
        if previous is not None:
            previous.is_current = False
        return
    make_current(session, to)
    session.flush()
    if previous is None or (previous.score, previous.max_score) != (to.score, to.max_score):
        supersede_pending(session, submission_id)
        if record_passback(session, to, reason=reason) is not None:
            request_passback(session, to)


def _batch_runs(session: Session, batch_id: str, condition: ColumnElement[bool]) -> list[GradingRun]:
    return list(session.scalars(select(GradingRun).where(GradingRun.batch_id == batch_id, condition)
                                .order_by(GradingRun.id)))


def _publish(session: Session, batch: RegradeBatch) -> None:
    """The batch's graded runs become current (again, after a rollback); each changed result is passed back,
    after commit, in one dispatch."""
    for run in _batch_runs(session, batch.id, GradingRun.status == RunStatus.GRADED):
        replaced = current_run(session, run.submission_id)
        if replaced is not None and replaced.id == run.id:
            continue
        run.replaces_run_id = replaced.id if replaced else None
        _switch(session, run.submission_id, run, PassbackReason.REGRADED)
    batch.published_at = utcnow()
    batch.rolled_back_at = None


def _rollback(session: Session, batch: RegradeBatch) -> None:
    """The batch's runs that are current give way to the runs they replaced; every run stays stored."""
    for run in _batch_runs(session, batch.id, GradingRun.is_current.is_(True)):
        previous = session.get(GradingRun, run.replaces_run_id) if run.replaces_run_id else None
        _switch(session, run.submission_id, previous, PassbackReason.ROLLED_BACK)
    batch.rolled_back_at = utcnow()


EFFECTS: dict[BatchAction, Callable[[Session, RegradeBatch], None]] = {
    BatchAction.CANCEL: _cancel, BatchAction.PUBLISH: _publish, BatchAction.ROLLBACK: _rollback}
