"""Response models of an assignment's versions: what an upload answers, a version with its check table, and
the course's assignments with the version each one grades with."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from grader.api.schemas import API_PREFIX
from grader.assignments.check_report import CheckItem, CheckReport
from grader.models import AssignmentVersion
from grader.services.assignment_versions import AssignmentCurrent
from grader.services.scores import AssignmentDetail, AssignmentSummary


def version_url(version: AssignmentVersion) -> str:
    return f"{API_PREFIX}/assignments/{version.assignment}/versions/{version.id}"


class VersionLinks(BaseModel):
    """Where to poll the version and read its assignment."""

    self: str
    assignment: str


class CheckItemView(BaseModel):
    """One rubric item as the check saw it: the solution's pass rate over the full gradings, the locked test's
    rate over many seeds (a failing seed when it is flaky), and whether the student release passes it (then it
    tests nothing)."""

    id: str
    name: str
    kind: str
    points: float
    solution_passes: int
    solution_runs: int
    solution_rate: float
    solution_message: str
    locked_passes: int
    locked_runs: int = Field(description="seeds the locked test ran under on the solution; 0 for hidden items")
    locked_rate: float | None
    failing_seed: int | None
    failing_message: str
    sweep_error: str = Field(description="why the locked test has no count (the sweep ran out of time, say)")
    flaky: bool
    release_passes: bool

    @classmethod
    def build(cls, item: CheckItem) -> "CheckItemView":
        sweep = item.sweep
        return cls(id=item.id, name=item.name, kind=item.kind, points=item.points,
                   solution_passes=item.solution_passes, solution_runs=item.solution_runs,
                   solution_rate=item.solution_rate, solution_message=item.solution_message,
                   locked_passes=sweep.passed if sweep else 0, locked_runs=sweep.runs if sweep else 0,
                   locked_rate=sweep.rate if sweep else None,
                   failing_seed=sweep.failing_seed if sweep else None,
                   failing_message=sweep.failing_message if sweep else "", sweep_error=sweep.error if sweep else "",
                   flaky=item.flaky, release_passes=item.release_passes)


class CheckTable(BaseModel):
    """The stored check report: `passed` is true when the solution earned full marks in every graded run."""

    passed: bool
    runs: int = Field(description="seeds each locked test ran under on the solution")
    full_runs: int = Field(description="full gradings of the solution")
    seed: int = Field(description="the check's seed: the same seed repeats the same check")
    cost_s: float
    max_score: float
    solution_scores: list[float]
    release_score: float
    flaky: list[str] = Field(description="locked items that failed on the solution under some seeds")
    tests_nothing: list[str] = Field(description="items the student release already passes")
    items: list[CheckItemView]

    @classmethod
    def from_stored(cls, stored: dict[str, Any] | None) -> "CheckTable | None":
        if not stored:
            return None
        report = CheckReport.model_validate(stored)
        return cls(passed=report.passed, runs=report.runs, full_runs=report.full_runs, seed=report.seed,
                   cost_s=report.cost_s, max_score=report.max_score, solution_scores=list(report.solution_scores),
                   release_score=report.release_score, flaky=list(report.flaky),
                   tests_nothing=list(report.tests_nothing), items=[CheckItemView.build(i) for i in report.items])


class VersionView(BaseModel):
    """One uploaded version: `checking` until a worker has checked it, then `published` (and made current) or
    `rejected` with the check table that says why; `forced` records that the upload asked to publish anyway."""

    id: str
    course: str
    assignment: str
    title: str
    status: str
    forced: bool
    current: bool = Field(description="whether the course grades this assignment with this version now")
    content_hash: str
    rubric_version: str
    published_by: str
    created_at: datetime
    published_at: datetime | None
    check: CheckTable | None = Field(description="null while checking")
    links: VersionLinks

    @classmethod
    def build(cls, version: AssignmentVersion, *, current_id: str | None) -> "VersionView":
        return cls(id=version.id, course=version.course_id, assignment=version.assignment, title=version.title,
                   status=version.status, forced=version.forced, current=version.id == current_id,
                   content_hash=version.content_hash, rubric_version=version.rubric_version,
                   published_by=version.published_by, created_at=version.created_at,
                   published_at=version.published_at, check=CheckTable.from_stored(version.check_report),
                   links=VersionLinks(self=version_url(version),
                                      assignment=f"{API_PREFIX}/assignments/{version.assignment}"))


class VersionAccepted(BaseModel):
    """The answer to an upload: poll `links.self` until `status` is no longer `checking`."""

    id: str
    course: str
    assignment: str
    status: str
    forced: bool
    content_hash: str
    links: VersionLinks

    @classmethod
    def build(cls, version: AssignmentVersion) -> "VersionAccepted":
        return cls(id=version.id, course=version.course_id, assignment=version.assignment, status=version.status,
                   forced=version.forced, content_hash=version.content_hash,
                   links=VersionLinks(self=version_url(version),
                                      assignment=f"{API_PREFIX}/assignments/{version.assignment}"))


class CurrentVersion(BaseModel):
    """Which bundle the course grades an assignment with: a published version, or the shipped one (null)."""

    version_id: str | None = Field(description="null: the bundle shipped with the grader")
    rubric_version: str
    published_versions: int


class AssignmentListing(AssignmentSummary):
    current: CurrentVersion


class AssignmentVersionedDetail(AssignmentDetail):
    current: CurrentVersion


def current_of(line: AssignmentCurrent) -> CurrentVersion:
    return CurrentVersion(version_id=line.version.id if line.version else None, rubric_version=line.rubric_version,
                          published_versions=line.published_versions)


class CurrentChange(BaseModel):
    """The version to grade with from now on: one of this course's published versions, or null for the shipped
    bundle of that id."""

    version: str | None = Field(max_length=32, pattern=r"^[A-Za-z0-9_-]{1,32}$")
