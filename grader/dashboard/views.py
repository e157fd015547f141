"""Queries the dashboard pages need beyond the API's; every score number comes from grader.services.scores."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from grader.dashboard.flags import tampers
from grader.models import GradingRun, RegradeBatch, RunStatus, Submission
from grader.services.batch_states import BatchState, batch_state
from grader.services.queries import newest_runs, unfinished_runs
from grader.services.scores import (
    AssignmentStats,
    AssignmentSummary,
    ItemStats,
    ScoreRow,
    assignment_stats,
    list_assignments,
    student_scores,
)

SortKey = Literal["student", "latest", "best", "submissions", "flags", "errors"]
SORT_KEYS: tuple[SortKey, ...] = ("student", "latest", "best", "submissions", "flags", "errors")
RECENT_BATCHES = 5


@dataclass(frozen=True)
class AssignmentLine:
    """One row of the assignments table: the API's summary and statistics, plus the last activity."""

    summary: AssignmentSummary
    mean: float | None
    median: float | None
    last_activity: datetime | None


@dataclass(frozen=True)
class StudentLine:
    """One student of the table: the API's score row and how many of their submissions ended in error."""

    row: ScoreRow
    errors: int

    def value(self, key: SortKey) -> str | float | int | None:
        row = self.row
        values: dict[str, str | float | int | None] = {
            "student": row.student, "latest": row.latest_score, "best": row.best_score,
            "submissions": row.submissions, "flags": len(tampers(row.flags)), "errors": self.errors}
        return values[key]


@dataclass(frozen=True)
class ItemLine:
    """A rubric item's pass rate, and whether it alone is below every other item (a tie marks none)."""

    item: ItemStats
    weakest: bool


@dataclass(frozen=True)
class ItemRates:
    """The items' lines, and the lowest pass rate when several items share it (said in text, not badged)."""

    lines: list[ItemLine]
    lowest: float | None
    tied_at_lowest: int


def _last_activity(session: Session, course: str, assignment: str) -> datetime | None:
    """The newest submission or finished run of the assignment in the course."""
    where = and_(Submission.course == course, Submission.assignment == assignment)
    submitted = session.scalar(select(func.max(Submission.created_at)).where(where))
    finished = session.scalar(select(func.max(GradingRun.finished_at))
                              .join(Submission, Submission.id == GradingRun.submission_id).where(where))
    moments = [moment for moment in (submitted, finished) if moment is not None]
    return max(moments) if moments else None


def assignment_lines(session: Session, *, course: str) -> list[AssignmentLine]:
    lines = []
    for summary in list_assignments(session, course=course):
        stats = assignment_stats(session, course=course, assignment=summary.id)
        lines.append(AssignmentLine(summary=summary, mean=stats.mean, median=stats.median,
                                    last_activity=_last_activity(session, course, summary.id)))
    return lines


def item_lines(stats: AssignmentStats) -> ItemRates:
    """"Weakest" only for an item strictly below all the others: 9 of 11 items tied at 67% are not 9 weakest."""
    rates = [item.pass_rate for item in stats.items if item.pass_rate is not None]
    lowest = min(rates) if rates else None
    tied = rates.count(lowest) if lowest is not None else 0
    unique = tied == 1 and len(rates) > 1
    lines = [ItemLine(item=item, weakest=unique and item.pass_rate == lowest) for item in stats.items]
    return ItemRates(lines=lines, lowest=lowest, tied_at_lowest=tied if tied > 1 else 0)


def _errors_by_student(session: Session, course: str, assignment: str) -> dict[str, int]:
    """Per student, the submissions whose newest run (previews and cancelled runs aside) ended `error`."""
    newest = newest_runs(Submission.course == course, Submission.assignment == assignment)
    rows = session.execute(select(newest.c.student, func.count()).where(newest.c.status == RunStatus.ERROR)
                           .group_by(newest.c.student)).all()
    return {student: count for student, count in rows}


def _sorted(lines: list[StudentLine], key: SortKey, descending: bool) -> list[StudentLine]:
    """Sorted by the column; students without a value (nothing graded) always come last."""
    present = [line for line in lines if line.value(key) is not None]
    missing = [line for line in lines if line.value(key) is None]
    by_student = sorted(present, key=lambda line: line.row.student)
    ordered = sorted(by_student, key=lambda line: line.value(key), reverse=descending)  # type: ignore[arg-type,return-value]
    return ordered + sorted(missing, key=lambda line: line.row.student)


def student_lines(session: Session, *, course: str, assignment: str, sort: SortKey = "student",
                  descending: bool = False, query: str = "", flagged: bool = False) -> list[StudentLine]:
    """The API's per-student rows, filtered by a case-insensitive id substring and flags (a cell of an earlier
    release is not one: grader.dashboard.flags), then sorted."""
    errors = _errors_by_student(session, course, assignment)
    needle = query.casefold()
    lines = [StudentLine(row=row, errors=errors.get(row.student, 0))
             for row in student_scores(session, course=course, assignment=assignment)
             if needle in row.student.casefold() and (tampers(row.flags) or not flagged)]
    return _sorted(lines, sort, descending)


@dataclass(frozen=True)
class RecentBatch:
    """A line of "Recent regrades": the batch and its state, labelled as the batch page labels it."""

    batch: RegradeBatch
    state: BatchState


def recent_batches(session: Session, *, course: str, assignment: str) -> list[RecentBatch]:
    batches = session.scalars(select(RegradeBatch).where(RegradeBatch.assignment == assignment,
                                                         RegradeBatch.course == course)
                              .order_by(RegradeBatch.created_at.desc()).limit(RECENT_BATCHES))
    return [RecentBatch(batch, batch_state(batch, unfinished_runs=unfinished_runs(session, batch.id)))
            for batch in batches]
