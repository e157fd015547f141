"""Storing a run's outcome: its items, score, status and current pointer, or its failure, in the caller's transaction.

The claim that must precede it (grader.services.claim) is the only way a run is taken, in a worker and in-process.
"""

from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session

from grader.errors import NotFound
from grader.models import GradingRun, ItemResult, RunStatus
from grader.models.base import utcnow
from grader.scoring.score import Score
from grader.services.evaluate import Evaluation
from grader.services.outbox import record_passback
from grader.services.regrade_summary import score_changed


def load_run(session: Session, run_id: str) -> GradingRun:
    run = session.get(GradingRun, run_id)
    if run is None:
        raise NotFound(f"no grading run {run_id}")
    return run


def record_evaluation(session: Session, run: GradingRun, evaluation: Evaluation) -> None:
    """Items, score, status and the current pointer change together, in the caller's transaction.

    A regrade preview run never becomes current here (publishing its batch does that), and a regrade run
    is passed back to the LMS only when its score differs from the result it replaces. The run is written
    with one UPDATE and its items with one INSERT: a worker stores a result per submission.
    """
    run.score = evaluation.score.total
    run.max_score = evaluation.score.max_total
    run.locked_cells_modified = evaluation.locked_cells_modified
    run.integrity_flags = evaluation.flags
    run.sandbox_usage = dict(evaluation.usage)
    run.output = evaluation.output[:200_000]
    run.status = RunStatus.GRADED
    run.finished_at = utcnow()
    if not run.preview:
        make_current(session, run)
    replace_items(session, run, evaluation.score)
    record_passback(session, run, score_changed=run.batch_id is None or score_changed(session, run))


def replace_items(session: Session, run: GradingRun, scored: Score) -> None:
    """The run's item results become exactly these (any earlier ones go), in bulk rather than object by object."""
    session.execute(delete(ItemResult).where(ItemResult.run_id == run.id))
    rows = [{"run_id": run.id, "position": position, "item_id": line.item.id, "name": line.item.name,
             "status": line.verdict.status, "points": line.points, "max_points": line.item.points,
             "visibility": line.item.visibility, "message": line.verdict.message, "detail": line.verdict.detail}
            for position, line in enumerate(scored.items)]
    if rows:
        session.execute(insert(ItemResult), rows)
    session.expire(run, ["items"])


def make_current(session: Session, run: GradingRun) -> None:
    """Exactly one current run per submission: the newest finished one. The others are cleared first, without
    flushing this run's pending changes, so the unique current index never sees two current runs."""
    with session.no_autoflush:
        session.execute(update(GradingRun).where(GradingRun.submission_id == run.submission_id,
                                                 GradingRun.id != run.id).values(is_current=False))
    run.is_current = True


def record_failure(session: Session, run: GradingRun, reason: str) -> None:
    """An internal failure: the run ends `error` with the cause visible to staff, never a student score."""
    run.status = RunStatus.ERROR
    run.error = reason[:4000]
    run.finished_at = utcnow()
    session.flush()
