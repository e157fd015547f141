"""Everything the submission page shows, gathered from the API's instructor view and the stored file."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.api.schemas import InstructorSubmissionView, RunView, instructor_view
from grader.assignments.loaded import AssignmentBundle
from grader.dashboard.charts import Sparkline, sparkline
from grader.dashboard.code import CodeListing, code_listing
from grader.dashboard.versions import versions_by_rubric
from grader.models import AssignmentVersion, GradingRun, RunStatus, Submission
from grader.notebooks.stored import cells_from_store
from grader.services.bundles import bundle_for, current_bundle
from grader.services.courses import submission_record
from grader.services.tokens import Principal

STUDENT_HISTORY_LIMIT = 50


@dataclass(frozen=True)
class SiblingSubmission:
    """Another submission of the same student and assignment, for their history at a glance."""

    id: str
    created_at: datetime
    status: str
    score: float | None


@dataclass(frozen=True)
class SubmissionPage:
    """The submission, the run whose results are shown (current graded, else newest), and what to draw."""

    view: InstructorSubmissionView
    shown: RunView | None
    runs_newest_first: list[RunView]
    code: CodeListing
    history: Sparkline
    siblings: list[SiblingSubmission]
    can_resend: bool
    versions: dict[str, AssignmentVersion] = field(default_factory=dict)

    def version_of(self, run: RunView | None) -> AssignmentVersion | None:
        """The course's stored version that graded `run`; None means the shipped bundle did."""
        return self.versions.get(run.rubric_version) if run is not None else None


def _siblings(session: Session, submission: Submission) -> list[SiblingSubmission]:
    """The student's submissions of this assignment in the course, newest first, with their current score."""
    rows = session.execute(
        select(Submission.id, Submission.created_at, GradingRun.status, GradingRun.score)
        .outerjoin(GradingRun, (GradingRun.submission_id == Submission.id) & GradingRun.holds_current_score)
        .where(Submission.course == submission.course, Submission.assignment == submission.assignment,
               Submission.student == submission.student)
        .order_by(Submission.created_at.desc(), Submission.id.desc()).limit(STUDENT_HISTORY_LIMIT)).all()
    return [SiblingSubmission(id=sid, created_at=created, status=status or "not graded", score=score)
            for sid, created, status, score in rows]


def submission_bundle(session: Session, submission: Submission, shown: RunView | None) -> AssignmentBundle:
    """The bundle the shown run was graded with (its cells frame the code), else what grades it now."""
    if shown is not None or submission.course is None:
        return bundle_for(session, course=submission.course, assignment=submission.assignment,
                          rubric_version=shown.rubric_version if shown is not None else "")
    return current_bundle(session, submission.course, submission.assignment)


def submission_page(session: Session, *, principal: Principal, submission_id: str, max_bytes: int) -> SubmissionPage:
    record = submission_record(session, principal=principal, submission_id=submission_id)
    submission = record.submission
    view = instructor_view(submission, record.passbacks)
    by_id = {run.id: run for run in view.runs}
    shown = by_id.get(view.current_run_id or "") or (view.runs[-1] if view.runs else None)
    bundle = submission_bundle(session, submission, shown)
    graded = [(run.id, run.score) for run in view.runs
              if run.status == RunStatus.GRADED and run.score is not None]
    return SubmissionPage(
        view=view, shown=shown, runs_newest_first=list(reversed(view.runs)),
        code=code_listing(submission.content, submission.filename, bundle, max_bytes=max_bytes,
                          cells=cells_from_store(submission.parsed_cells)),
        history=sparkline(graded, max_score=max((run.max_score or 0.0 for run in view.runs
                                                 if run.status == RunStatus.GRADED), default=bundle.rubric.max_score)),  # type: ignore[arg-type]
        siblings=_siblings(session, submission),
        can_resend=record.passback_channel is not None and view.current_run_id is not None,
        versions=versions_by_rubric(session, course=submission.course, assignment=submission.assignment,
                                    rubric_versions={run.rubric_version for run in view.runs}))
