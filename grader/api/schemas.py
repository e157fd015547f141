"""Response models of the submission endpoints, and how stored rows are shaped into them for each role."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from grader.models import GradingRun, Passback, RunStatus, Submission
from grader.services.courses import Intake
from grader.services.queries import current_graded_run, newest_status_run
from grader.services.results import ItemView, student_items

API_PREFIX = "/api/v1"


class SubmissionLinks(BaseModel):
    """Where to poll the submission and read its assignment."""

    self: str
    assignment: str


def _links(submission: Submission) -> SubmissionLinks:
    return SubmissionLinks(self=f"{API_PREFIX}/submissions/{submission.id}",
                           assignment=f"{API_PREFIX}/assignments/{submission.assignment}")


def submission_status(submission: Submission) -> str:
    """The status of the newest run that tells it: `queued`, `running`, `graded` or `error`."""
    run = newest_status_run(submission)
    return run.status if run is not None else RunStatus.QUEUED


class SubmissionAccepted(BaseModel):
    """The answer to a submission post: poll `links.self` until `status` is `graded` (or `error`)."""

    id: str
    course: str
    assignment: str
    student: str
    external_id: str
    status: str
    duplicate: bool = Field(description="true when this external_id was already submitted: nothing new was stored")
    created_at: datetime
    links: SubmissionLinks

    @classmethod
    def build(cls, intake: Intake) -> "SubmissionAccepted":
        submission = intake.submission
        return cls(id=submission.id, course=submission.course or "", assignment=submission.assignment,
                   student=submission.student, external_id=submission.external_id or "",
                   status=submission_status(submission), duplicate=intake.duplicate, created_at=submission.created_at,
                   links=_links(submission))


class StudentSubmissionView(BaseModel):
    """What an LMS may show the student: score, max and per-item results once graded."""

    view: Literal["student"] = "student"
    id: str
    course: str
    assignment: str
    student: str
    external_id: str | None
    status: str
    created_at: datetime
    graded_at: datetime | None = None
    score: float | None = None
    max_score: float | None = None
    rubric_version: str | None = None
    tests: list[ItemView] = Field(default_factory=list)
    links: SubmissionLinks


class InstructorItemView(ItemView):
    detail: str = Field(description="the instructor-only cause (the hidden comparison, the traceback)")


class SandboxUsage(BaseModel):
    """Resources the run used; `killed` names the limit that stopped it, if one did."""

    wall_s: float = 0.0
    cpu_s: float = 0.0
    max_rss_mib: float = 0.0
    killed: str | None = None
    backend: str | None = None


class RunView(BaseModel):
    """One grading run, as staff see it."""

    id: str
    status: str
    is_current: bool
    rubric_version: str
    score: float | None
    max_score: float | None
    queued_at: datetime
    dispatched_at: datetime | None = Field(description="when the run id was last sent to the workers")
    dispatches: int = Field(description="how many times it was sent (the sweeper resends a lost message)")
    started_at: datetime | None
    finished_at: datetime | None
    attempt: int
    worker: str | None
    error: str | None
    locked_cells_modified: bool
    integrity_flags: list[str]
    sandbox: SandboxUsage
    output: str
    tests: list[InstructorItemView]


class PassbackView(BaseModel):
    """One delivery of a score to the LMS: `failed` means it was given up; `last_error` says why."""

    id: str
    run_id: str
    reason: str
    channel: str = Field(description="webhook (signed POST to callback_url) or lti_ags (callback_url is the AGS "
                                     "line item, or the line items container before the item is found)")
    callback_url: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def build(cls, row: Passback) -> "PassbackView":
        return cls.model_validate(row, from_attributes=True)


class InstructorSubmissionView(BaseModel):
    """Everything about a submission: its file's identity, every run, and every passback delivery."""

    view: Literal["instructor"] = "instructor"
    id: str
    course: str
    assignment: str
    student: str
    external_id: str | None
    status: str
    created_at: datetime
    score: float | None
    max_score: float | None
    current_run_id: str | None
    filename: str
    sha256: str
    size_bytes: int
    callback_url: str | None
    runs: list[RunView]
    passbacks: list[PassbackView]
    links: SubmissionLinks


def _items(run: GradingRun, *, instructor: bool) -> list[Any]:
    if instructor:
        return [InstructorItemView(id=i.item_id, name=i.name, points=i.points, max_points=i.max_points,
                                   status=i.status, visibility=i.visibility, message=i.message, detail=i.detail)
                for i in run.items]
    return student_items(run)


def student_view(submission: Submission) -> StudentSubmissionView:
    view = StudentSubmissionView(id=submission.id, course=submission.course or "", assignment=submission.assignment,
                                 student=submission.student, external_id=submission.external_id,
                                 status=submission_status(submission), created_at=submission.created_at,
                                 links=_links(submission))
    run = current_graded_run(submission)
    if run is not None:
        view.graded_at, view.score, view.max_score = run.finished_at, run.score, run.max_score
        view.rubric_version, view.tests = run.rubric_version, _items(run, instructor=False)
    return view


def _run_view(run: GradingRun) -> RunView:
    usage = {key: value for key, value in (run.sandbox_usage or {}).items() if key in SandboxUsage.model_fields}
    return RunView(id=run.id, status=run.status, is_current=run.is_current, rubric_version=run.rubric_version,
                   score=run.score, max_score=run.max_score, queued_at=run.queued_at,
                   dispatched_at=run.dispatched_at, dispatches=run.dispatches or 0, started_at=run.started_at,
                   finished_at=run.finished_at, attempt=run.attempt, worker=run.worker, error=run.error,
                   locked_cells_modified=run.locked_cells_modified, integrity_flags=list(run.integrity_flags or []),
                   sandbox=SandboxUsage.model_validate(usage), output=run.output,
                   tests=_items(run, instructor=True))


def instructor_view(submission: Submission, passbacks: list[Passback]) -> InstructorSubmissionView:
    run = current_graded_run(submission)
    return InstructorSubmissionView(
        id=submission.id, course=submission.course or "", assignment=submission.assignment,
        student=submission.student, external_id=submission.external_id, status=submission_status(submission),
        created_at=submission.created_at, score=run.score if run else None, max_score=run.max_score if run else None,
        current_run_id=run.id if run else None, filename=submission.filename, sha256=submission.sha256,
        size_bytes=submission.size_bytes, callback_url=submission.callback_url,
        runs=[_run_view(r) for r in submission.runs], passbacks=[PassbackView.build(p) for p in passbacks],
        links=_links(submission))
