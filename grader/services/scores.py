"""Read-only aggregate queries for people: assignments with counts by status, per-student scores, statistics."""

import csv
import io
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from grader.models import GradingRun, ItemResult, Submission
from grader.services.bundles import current_bundle
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
    """One student: latest and best graded scores, how many submissions, and every integrity flag raised.

    Each score comes with the maximum of the run that produced it, never today's rubric's: during a preview of
    a rubric worth 95, a result graded out of 90 is still out of 90.
    """

    student: str
    submissions: int
    graded: int
    latest_score: float | None
    best_score: float | None
    max_score: float = Field(description="the maximum of the latest score's run (the current rubric's when "
                                         "nothing is graded yet)")
    best_max_score: float = Field(description="the maximum of the best score's run")
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
    max_score: float = Field(description="the maximum of the runs these scores come from (the largest, if a "
                                         "regrade left several); the current rubric's when nothing is graded")
    max_scores: list[float] = Field(description="every maximum among those runs, ascending: one, unless some "
                                                "students were graded under a rubric worth another total")
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
    bundle = current_bundle(session, course, name)
    counts, submissions, students = _counts(session, course, name)
    return AssignmentSummary(id=name, title=bundle.title, course=course, max_score=bundle.rubric.max_score,
                             rubric_version=bundle.rubric.version, submissions=submissions, students=students,
                             counts=counts)


def list_assignments(session: Session, *, course: str) -> list[AssignmentSummary]:
    return [_summary(session, course, name) for name in course_assignments(session, course)]


def assignment_detail(session: Session, *, course: str, assignment: str) -> AssignmentDetail:
    require_assignment(session, course, assignment)
    items = current_bundle(session, course, assignment).rubric.items
    rubric = [RubricItemView(id=item.id, name=item.name, kind=item.kind, points=item.points,
                             visibility=item.visibility) for item in items]
    return AssignmentDetail(**_summary(session, course, assignment).model_dump(), rubric=rubric)


def _graded_join() -> ColumnElement[bool]:
    return and_(GradingRun.submission_id == Submission.id, GradingRun.holds_current_score)


def student_scores(session: Session, *, course: str, assignment: str) -> list[ScoreRow]:
    """One row per student who submitted, ordered by student id; blobs are never loaded."""
    require_assignment(session, course, assignment)
    rubric_max = current_bundle(session, course, assignment).rubric.max_score
    rows = session.execute(
        select(Submission.id, Submission.student, Submission.created_at, GradingRun.score, GradingRun.max_score,
               GradingRun.integrity_flags)
        .outerjoin(GradingRun, _graded_join())
        .where(Submission.course == course, Submission.assignment == assignment)
        .order_by(Submission.student, Submission.created_at, Submission.id)).all()
    by_student: dict[str, list[_Scored]] = defaultdict(list)
    for submission_id, student, created_at, score, top, flags in rows:
        by_student[student].append(_Scored(submission_id, created_at, score, top, flags or []))
    return [_score_row(student, subs, rubric_max) for student, subs in by_student.items()]


@dataclass(frozen=True)
class _Scored:
    """A submission of a student with its current graded run's score and maximum (None: nothing graded)."""

    submission_id: str
    created_at: datetime
    score: float | None
    max_score: float | None
    flags: list[str]


def _score_row(student: str, subs: list[_Scored], rubric_max: float) -> ScoreRow:
    graded = [sub for sub in subs if sub.score is not None]
    latest = graded[-1] if graded else None
    best = max(reversed(graded), key=lambda sub: sub.score or 0.0) if graded else None
    return ScoreRow(student=student, submissions=len(subs), graded=len(graded),
                    latest_score=latest.score if latest else None, best_score=best.score if best else None,
                    max_score=_top(latest, rubric_max), best_max_score=_top(best, rubric_max),
                    latest_submission_id=subs[-1].submission_id, latest_submitted_at=subs[-1].created_at,
                    flags=sorted({flag for sub in subs for flag in sub.flags}))


def _top(scored: _Scored | None, rubric_max: float) -> float:
    return scored.max_score if scored is not None and scored.max_score is not None else rubric_max


CSV_HEADER = ("student_id", "score", "max_score")
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def gradebook_rows(rows: list[ScoreRow], policy: ScorePolicy) -> list[tuple[str, str, str]]:
    """(student id, score, max) for a gradebook import; a student with nothing graded yet has an empty score."""
    picked = [(row.student, row.latest_score, row.max_score) if policy == "latest"
              else (row.student, row.best_score, row.best_max_score) for row in rows]
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
    ranked = (select(GradingRun.id.label("run_id"), GradingRun.score.label("score"),
                     GradingRun.max_score.label("max_score"), func.row_number().over(
        partition_by=Submission.student, order_by=(Submission.created_at.desc(), Submission.id.desc())).label("rank"))
        .join(GradingRun, _graded_join())
        .where(Submission.course == course, Submission.assignment == assignment).subquery())
    return select(ranked.c.run_id, ranked.c.score, ranked.c.max_score).where(ranked.c.rank == 1).subquery()


def assignment_stats(session: Session, *, course: str, assignment: str) -> AssignmentStats:
    require_assignment(session, course, assignment)
    rubric = current_bundle(session, course, assignment).rubric
    latest = _latest_graded_runs(course, assignment)
    population = session.execute(select(latest.c.score, latest.c.max_score)).all()  # type: ignore[attr-defined]
    scores = [float(score or 0) for score, _ in population]
    maxima = sorted({float(top) for _, top in population if top is not None}) or [rubric.max_score]
    per_item = {item_id: (graded, passed or 0) for item_id, graded, passed in session.execute(
        select(ItemResult.item_id, func.count(), func.sum(case((ItemResult.status == "passed", 1), else_=0)))
        .where(ItemResult.run_id.in_(select(latest.c.run_id)))  # type: ignore[attr-defined]
        .group_by(ItemResult.item_id))}
    items = []
    for item in rubric.items:
        graded, passed = per_item.get(item.id, (0, 0))
        items.append(ItemStats(id=item.id, name=item.name, points=item.points, visibility=item.visibility,
                               graded=graded, passed=int(passed), pass_rate=passed / graded if graded else None))
    return AssignmentStats(assignment=assignment, students=len(scores), max_score=maxima[-1], max_scores=maxima,
                           mean=statistics.fmean(scores) if scores else None,
                           median=statistics.median(scores) if scores else None,
                           histogram=_histogram(scores, maxima[-1]), items=items)
