"""What a regrade batch changed: progress derived from its runs' states, and the change summary when it ends."""

from collections import defaultdict
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from grader.models import GradingRun, ItemResult, RegradeBatch, RunStatus, Submission

LARGEST_CHANGES = 10


class ScoreChange(BaseModel):
    """One submission whose score moved; `old_score` is None when it had no graded result before."""

    submission_id: str
    student: str
    run_id: str
    old_score: float | None
    new_score: float
    delta: float


class ItemFlips(BaseModel):
    """How many students' status of one rubric item changed, and in which direction."""

    id: str
    name: str
    flipped: int
    now_passed: int
    no_longer_passed: int


class BatchSummary(BaseModel):
    """The change report of an ended batch, stored with it so it never has to be recomputed."""

    rubric_version: str
    up: int
    down: int
    unchanged: int
    new: int
    errored: int
    cancelled: int
    largest_changes: list[ScoreChange]
    items: list[ItemFlips]


class BatchProgress(BaseModel):
    """Counts by the state of the batch's runs, read from the runs themselves."""

    total: int
    queued: int
    running: int
    done: int
    failed: int
    cancelled: int
    changed: int


def score_changed(session: Session, run: GradingRun) -> bool:
    """A regraded result is passed back only when it differs from the one it replaces: its score, or its maximum
    (the rubric's maximum changed, so the same points are another grade)."""
    previous = session.get(GradingRun, run.replaces_run_id) if run.replaces_run_id else None
    return (previous is None or previous.status != RunStatus.GRADED
            or (previous.score, previous.max_score) != (run.score, run.max_score))


def batch_progress(session: Session, batch_id: str) -> BatchProgress:
    """Every count comes from the runs, so a restart of any component cannot leave it out of step."""
    by_status: dict[str, int] = dict(session.execute(
        select(GradingRun.status, func.count()).where(GradingRun.batch_id == batch_id)
        .group_by(GradingRun.status)).all())
    old = aliased(GradingRun)
    changed = session.scalar(
        select(func.count()).select_from(GradingRun).outerjoin(old, old.id == GradingRun.replaces_run_id)
        .where(GradingRun.batch_id == batch_id, GradingRun.status == RunStatus.GRADED,
               or_(old.id.is_(None), old.score.is_(None), old.score != GradingRun.score))) or 0
    count = {status: by_status.get(status, 0) for status in RunStatus}
    return BatchProgress(total=sum(count.values()), queued=count[RunStatus.QUEUED], running=count[RunStatus.RUNNING],
                         done=count[RunStatus.GRADED] + count[RunStatus.ERROR], failed=count[RunStatus.ERROR],
                         cancelled=count[RunStatus.CANCELLED], changed=changed)


def _pairs(session: Session, batch_id: str) -> list[tuple[str, str, str, float | None, str | None, float | None]]:
    """(submission, student, new run, new score, old run, old score) of every graded run of the batch."""
    old = aliased(GradingRun)
    rows = session.execute(
        select(GradingRun.submission_id, Submission.student, GradingRun.id, GradingRun.score, old.id, old.score)
        .join(Submission, Submission.id == GradingRun.submission_id)
        .outerjoin(old, old.id == GradingRun.replaces_run_id)
        .where(GradingRun.batch_id == batch_id, GradingRun.status == RunStatus.GRADED)
        .order_by(GradingRun.id)).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _item_statuses(session: Session, run_ids: set[str]) -> dict[str, dict[str, tuple[str, str]]]:
    """run id -> item id -> (name, status), for the runs given."""
    found: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    ids = sorted(run_ids)
    for start in range(0, len(ids), 1000):
        rows = session.execute(select(ItemResult.run_id, ItemResult.item_id, ItemResult.name, ItemResult.status)
                               .where(ItemResult.run_id.in_(ids[start:start + 1000])))
        for run_id, item_id, name, status in rows:
            found[run_id][item_id] = (name, status)
    return found


def _item_flips(session: Session, pairs: list[tuple[str, str, str, float | None, str | None, float | None]]
                ) -> list[ItemFlips]:
    """Per rubric item, the students whose status of it differs between the replaced and the new run."""
    items = _item_statuses(session, {p[2] for p in pairs} | {p[4] for p in pairs if p[4]})
    flipped: dict[str, set[str]] = defaultdict(set)
    gained: dict[str, set[str]] = defaultdict(set)
    lost: dict[str, set[str]] = defaultdict(set)
    names: dict[str, str] = {}
    for _sub, student, new_id, _new, old_id, _old in pairs:
        before = items.get(old_id or "", {})
        for item_id, (name, status) in items.get(new_id, {}).items():
            names[item_id] = name
            old_status = before.get(item_id, ("", None))[1]
            if old_id is None or old_status == status:
                continue
            flipped[item_id].add(student)
            if status == "passed":
                gained[item_id].add(student)
            elif old_status == "passed":
                lost[item_id].add(student)
    return [ItemFlips(id=item_id, name=names[item_id], flipped=len(flipped[item_id]),
                      now_passed=len(gained[item_id]), no_longer_passed=len(lost[item_id])) for item_id in names]


def compute_summary(session: Session, batch: RegradeBatch) -> BatchSummary:
    """Up, down, unchanged and new scores, the largest moves, and item flips, against the runs each replaced."""
    pairs = _pairs(session, batch.id)
    changes = [ScoreChange(submission_id=sub, student=student, run_id=new_id, old_score=old,
                           new_score=new or 0.0, delta=(new or 0.0) - (old or 0.0))
               for sub, student, new_id, new, old_id, old in pairs]
    had_old = [change for change, pair in zip(changes, pairs, strict=True) if pair[5] is not None]
    progress = batch_progress(session, batch.id)
    moved = sorted((c for c in had_old if c.delta), key=lambda c: (-abs(c.delta), c.student))
    return BatchSummary(rubric_version=batch.rubric_version, up=sum(c.delta > 0 for c in had_old),
                        down=sum(c.delta < 0 for c in had_old), unchanged=sum(c.delta == 0 for c in had_old),
                        new=len(changes) - len(had_old), errored=progress.failed, cancelled=progress.cancelled,
                        largest_changes=moved[:LARGEST_CHANGES], items=_item_flips(session, pairs))


def finish_if_ended(session: Session, batch: RegradeBatch, progress: BatchProgress, now: datetime) -> None:
    """Store the summary of a batch whose runs have all finished (the sweeper does; reads only compute it)."""
    if progress.queued or progress.running or batch.summary is not None:
        return
    batch.summary = compute_summary(session, batch).model_dump(mode="json")
    batch.finished_at = now
    session.flush()


def finish_ended_batches(session: Session, now: datetime) -> list[str]:
    """The sweeper's pass: a batch nobody is watching still gets its summary stored soon after it ends."""
    open_batches = session.scalars(select(RegradeBatch).where(RegradeBatch.summary.is_(None))
                                   .order_by(RegradeBatch.created_at).with_for_update(skip_locked=True))
    finished = []
    for batch in open_batches:
        finish_if_ended(session, batch, batch_progress(session, batch.id), now)
        if batch.summary is not None:
            finished.append(batch.id)
    return finished
