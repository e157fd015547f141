"""Queries several modules need, written once: each submission's newest run, its current graded run, the
unfinished regrade batch of an assignment. Read-only: nothing here writes."""

from sqlalchemy import ColumnElement, Subquery, exists, func, or_, select, true
from sqlalchemy.orm import Session

from grader.models import UNFINISHED, GradingRun, RegradeBatch, Submission


def newest_runs(*where: ColumnElement[bool]) -> Subquery:
    """Each submission's newest run that tells its status (previews and cancelled runs aside), one row per
    submission: `submission_id`, `student`, `status`. `where` narrows the submissions (course, assignment)."""
    ranked = (select(GradingRun.submission_id.label("submission_id"), Submission.student.label("student"),
                     GradingRun.status.label("status"),
                     func.row_number().over(partition_by=GradingRun.submission_id,
                                            order_by=(GradingRun.queued_at.desc(), GradingRun.id.desc()))
                     .label("rank"))
              .join(Submission, Submission.id == GradingRun.submission_id)
              .where(GradingRun.tells_status, *where).subquery())
    return select(ranked.c.submission_id, ranked.c.student, ranked.c.status).where(ranked.c.rank == 1).subquery()


def newest_status_run(submission: Submission) -> GradingRun | None:
    """The loaded-object form of `newest_runs`, for a submission whose runs are already in memory."""
    return next((run for run in reversed(submission.runs) if run.tells_status), None)


def current_graded_run(submission: Submission) -> GradingRun | None:
    """The run whose score the submission has now (`GradingRun.holds_current_score`), from its loaded runs."""
    return next((run for run in submission.runs if run.holds_current_score), None)


def current_run(session: Session, submission_id: str, *, lock: bool = False) -> GradingRun | None:
    """The submission's current run whatever its status (the pointer a publish or rollback moves)."""
    query = select(GradingRun).where(GradingRun.submission_id == submission_id, GradingRun.is_current)
    return session.scalar(query.with_for_update() if lock else query)


def unfinished_batch(session: Session, *, assignment: str, course: str | None) -> RegradeBatch | None:
    """The regrade batch of the assignment that still has runs to grade and was not cancelled, if any.

    A batch over every course (`course` None, from the CLI) overlaps each course's; two overlapping batches
    would race for the same current pointers, so one blocks the other.
    """
    overlapping = (true() if course is None
                   else or_(RegradeBatch.course.is_(None), RegradeBatch.course == course))
    return session.scalar(select(RegradeBatch).where(
        RegradeBatch.assignment == assignment, overlapping, RegradeBatch.cancelled_at.is_(None),
        exists().where(GradingRun.batch_id == RegradeBatch.id, GradingRun.status.in_(UNFINISHED)))
        .order_by(RegradeBatch.created_at).limit(1))


def unfinished_runs(session: Session, batch_id: str) -> int:
    """How many of the batch's runs are still queued or running."""
    return session.scalar(select(func.count()).select_from(GradingRun).where(
        GradingRun.batch_id == batch_id, GradingRun.status.in_(UNFINISHED))) or 0
