"""Read-only aggregate queries for people: assignments with counts by status, per-student scores, statistics."""

import csv
import io
import statistics
from collections import defaultdict
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from grader.assignments.bundle import load_assignment
from grader.models import GradingRun, ItemResult, Submission
from grader.services.courses import course_assignments, require_assignment
from grader.services.queries import newest_runs

HISTOGRAM_BINS = 10
ScorePolicy = Literal["latest", "best"]


class RubricItemView(BaseModel):
    """One rubric line as staff see it."""

    id: str
    name: str
    kind: str
    points: float
    visibility: str


class StatusCounts(BaseModel):
    """Submissions by the status of their newest run."""

    queued: int = 0
    running: int = 0
    graded: int = 0
    error: int = 0


class AssignmentSummary(BaseModel):
    """An assignment of the caller's course: its id in URLs is `name`."""

    id: str
    title: str
    course: str
    max_score: float
    rubric_version: str
    submissions: int
    students: int
    counts: StatusCounts


class AssignmentDetail(AssignmentSummary):
    rubric: list[RubricItemView]


class ScoreRow(BaseModel):
    """One student: latest and best graded scores, how many submissions, and every integrity flag raised."""

    student: str
    submissions: int
    graded: int
    latest_score: float | None
    best_score: float | None
    max_score: float
    latest_submission_id: str
    latest_submitted_at: datetime
    flags: list[str]


class HistogramBin(BaseModel):
    lower: float
    upper: float
    count: int


class ItemStats(BaseModel):
    """How the class did on one rubric item."""

    id: str
    name: str
    points: float
    visibility: str
    graded: int
    passed: int
    pass_rate: float | None


class AssignmentStats(BaseModel):
    """Over each student's latest graded submission, so resubmissions do not weigh twice."""

    assignment: str
    students: int
    max_score: float
    mean: float | None
    median: float | None
    histogram: list[HistogramBin] = Field(description="equal-width bins over [0, max_score], the last one closed")
    items: list[ItemStats]


def _counts(session: Session, course: str, assignment: str) -> tuple[StatusCounts, int, int]:
    """Statuses of each submission's newest run (a preview or cancelled run changes nothing), plus the totals."""
    newest = newest_runs(Submission.course == course, Submission.assignment == assignment)
    by_status: dict[str, int] = dict(session.execute(select(newest.c.status, func.count())
                                                     .group_by(newest.c.status)).all())
    totals = session.execute(select(func.count(Submission.id), func.count(func.distinct(Submission.student)))
                             .where(Submission.course == course, Submission.assignment == assignment)).one()
    return StatusCounts(**{key: by_status.get(key, 0) for key in StatusCounts.model_fields}), totals[0], totals[1]


def _summary(session: Session, course: str, name: str) -> AssignmentSummary:
    bundle = load_assignment(name)
    counts, submissions, students = _counts(session, course, name)
    return AssignmentSummary(id=name, title=bundle.title, course=course, max_score=bundle.rubric.max_score,
                             rubric_version=bundle.rubric.version, submissions=submissions, students=students,
                             counts=counts)


def list_assignments(session: Session, *, course: str) -> list[AssignmentSummary]:
    return [_summary(session, course, name) for name in course_assignments(session, course)]


def assignment_detail(session: Session, *, course: str, assignment: str) -> AssignmentDetail:
    require_assignment(session, course, assignment)
    rubric = [RubricItemView(id=item.id, name=item.name, kind=item.kind, points=item.points,
                             visibility=item.visibility) for item in load_assignment(assignment).rubric.items]
    return AssignmentDetail(**_summary(session, course, assignment).model_dump(), rubric=rubric)


def _graded_join() -> ColumnElement[bool]:
    return and_(GradingRun.submission_id == Submission.id, GradingRun.holds_current_score)


def student_scores(session: Session, *, course: str, assignment: str) -> list[ScoreRow]:
    """One row per student who submitted, ordered by student id; blobs are never loaded."""
    require_assignment(session, course, assignment)
    max_score = load_assignment(assignment).rubric.max_score
    rows = session.execute(
        select(Submission.id, Submission.student, Submission.created_at, GradingRun.score, GradingRun.integrity_flags)
        .outerjoin(GradingRun, _graded_join())
        .where(Submission.course == course, Submission.assignment == assignment)
        .order_by(Submission.student, Submission.created_at, Submission.id)).all()
    by_student: dict[str, list[tuple[str, datetime, float | None, list[str] | None]]] = defaultdict(list)
    for submission_id, student, created_at, score, flags in rows:
        by_student[student].append((submission_id, created_at, score, flags))
    result = []
    for student, subs in by_student.items():
        scores = [score for _, _, score, _ in subs if score is not None]
        flags = sorted({flag for *_, run_flags in subs for flag in (run_flags or [])})
        latest_graded = next((score for _, _, score, _ in reversed(subs) if score is not None), None)
        result.append(ScoreRow(student=student, submissions=len(subs), graded=len(scores), latest_score=latest_graded,
                               best_score=max(scores) if scores else None, max_score=max_score,
                               latest_submission_id=subs[-1][0], latest_submitted_at=subs[-1][1], flags=flags))
    return result


CSV_HEADER = ("student_id", "score", "max_score")
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def gradebook_rows(rows: list[ScoreRow], policy: ScorePolicy) -> list[tuple[str, str, str]]:
    """(student id, score, max) for a gradebook import; a student with nothing graded yet has an empty score."""
    picked = [(row.student, row.latest_score if policy == "latest" else row.best_score, row.max_score)
              for row in rows]
    return [(inert_cell(student), "" if score is None else f"{score:g}", f"{top:g}") for student, score, top in picked]


def inert_cell(text: str) -> str:
    """A spreadsheet must show a student id, never evaluate it: a leading =, +, -, @ is quoted away."""
    return "'" + text if text.startswith(FORMULA_LEADS) else text


def gradebook_csv(rows: list[ScoreRow], policy: ScorePolicy) -> str:
    """The gradebook CSV the API and the dashboard both serve, byte for byte."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(gradebook_rows(rows, policy))
    return buffer.getvalue()


def _histogram(scores: list[float], max_score: float) -> list[HistogramBin]:
    width = max_score / HISTOGRAM_BINS if max_score > 0 else 1.0
    counts = [0] * HISTOGRAM_BINS
    for score in scores:
        counts[min(HISTOGRAM_BINS - 1, max(0, int(score // width)))] += 1
    return [HistogramBin(lower=round(i * width, 6), upper=round((i + 1) * width, 6), count=count)
            for i, count in enumerate(counts)]


def _latest_graded_runs(course: str, assignment: str) -> object:
    """Each student's latest graded submission's current run: the population of the statistics."""
    ranked = (select(GradingRun.id.label("run_id"), GradingRun.score.label("score"), func.row_number().over(
        partition_by=Submission.student, order_by=(Submission.created_at.desc(), Submission.id.desc())).label("rank"))
        .join(GradingRun, _graded_join())
        .where(Submission.course == course, Submission.assignment == assignment).subquery())
    return select(ranked.c.run_id, ranked.c.score).where(ranked.c.rank == 1).subquery()


def assignment_stats(session: Session, *, course: str, assignment: str) -> AssignmentStats:
    require_assignment(session, course, assignment)
    rubric = load_assignment(assignment).rubric
    latest = _latest_graded_runs(course, assignment)
    scores = [float(score or 0) for score in session.scalars(select(latest.c.score))]  # type: ignore[attr-defined]
    per_item = {item_id: (graded, passed or 0) for item_id, graded, passed in session.execute(
        select(ItemResult.item_id, func.count(), func.sum(case((ItemResult.status == "passed", 1), else_=0)))
        .where(ItemResult.run_id.in_(select(latest.c.run_id)))  # type: ignore[attr-defined]
        .group_by(ItemResult.item_id))}
    items = []
    for item in rubric.items:
        graded, passed = per_item.get(item.id, (0, 0))
        items.append(ItemStats(id=item.id, name=item.name, points=item.points, visibility=item.visibility,
                               graded=graded, passed=int(passed), pass_rate=passed / graded if graded else None))
    return AssignmentStats(assignment=assignment, students=len(scores), max_score=rubric.max_score,
                           mean=statistics.fmean(scores) if scores else None,
                           median=statistics.median(scores) if scores else None,
                           histogram=_histogram(scores, rubric.max_score), items=items)
