"""Submissions: an LMS posts one and polls it; staff read everything, regrade, and resend the passback."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Response, UploadFile
from pydantic import BaseModel

from grader.api.deps import AnyPrincipal, Instructor, SessionDep, SettingsDep, SubmittingLms
from grader.api.errors import error_responses
from grader.api.schemas import (
    API_PREFIX,
    InstructorSubmissionView,
    PassbackView,
    StudentSubmissionView,
    SubmissionAccepted,
    instructor_view,
    student_view,
)
from grader.models import TokenRole
from grader.services.accept import Upload
from grader.services.callback_guard import CallbackPolicy
from grader.services.courses import regrade_submission, resend_passback, submission_record, submit_to_course

router = APIRouter(prefix="/submissions", tags=["submissions"])
# Text that reaches the database: no control characters (PostgreSQL text cannot hold NUL, and logs stay one line).
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
ASSIGNMENT_ID = r"^[A-Za-z0-9_.-]{1,64}$"
SubmissionId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="a submission id from the POST")]


class RegradeQueued(BaseModel):
    """The run that will carry the new score; its passback follows when it is graded."""

    submission_id: str
    run_id: str
    status: str


@router.post("", status_code=202, response_model=SubmissionAccepted, summary="Submit a file for grading",
             responses=error_responses(400, 401, 403, 404, 409, 413, 415, 422, 429))
def post_submission(
    file: Annotated[UploadFile, File(description="layers_dev.py (jupytext percent) or layers_dev.ipynb")],
    assignment: Annotated[str, Form(pattern=ASSIGNMENT_ID, description="assignment id, e.g. `layers`")],
    student: Annotated[str, Form(max_length=255, pattern=PRINTABLE, description="the LMS user id")],
    external_id: Annotated[str, Form(max_length=255, pattern=PRINTABLE,
                                     description="the LMS submission id: the idempotency key")],
    principal: SubmittingLms, session: SessionDep, settings: SettingsDep, response: Response,
    callback_url: Annotated[str | None, Form(max_length=2048, pattern=PRINTABLE,
                                             description="where the signed score is POSTed when graded")] = None,
) -> SubmissionAccepted:
    max_bytes = settings.max_upload_kib * 1024
    upload = Upload(content=file.file.read(), filename=file.filename or "", student=student,
                    assignment=assignment, external_id=external_id)
    intake = submit_to_course(session, course=principal.course, upload=upload, callback_url=callback_url or None,
                              max_bytes=max_bytes,
                              callback_policy=CallbackPolicy.from_cidrs(settings.passback_allowed_networks))
    response.headers["Location"] = f"{API_PREFIX}/submissions/{intake.submission.id}"
    return SubmissionAccepted.build(intake)


@router.get("/{submission_id}", response_model=InstructorSubmissionView | StudentSubmissionView,
            summary="Status and, once graded, the score (student view for LMS tokens, everything for instructors)",
            responses=error_responses(401, 403, 404, 422))
def get_submission(submission_id: SubmissionId, principal: AnyPrincipal,
                   session: SessionDep) -> InstructorSubmissionView | StudentSubmissionView:
    record = submission_record(session, principal=principal, submission_id=submission_id)
    if principal.role == TokenRole.INSTRUCTOR:
        return instructor_view(record.submission, record.passbacks)
    return student_view(record.submission)


@router.post("/{submission_id}/passback", status_code=202, response_model=PassbackView,
             summary="Send the current score to the LMS again (instructor)",
             responses=error_responses(401, 403, 404, 409, 422))
def post_passback(submission_id: SubmissionId, principal: Instructor, session: SessionDep) -> PassbackView:
    return PassbackView.build(resend_passback(session, course=principal.course, submission_id=submission_id))


@router.post("/{submission_id}/regrade", status_code=202, response_model=RegradeQueued,
             summary="Grade the submission again under the current rubric (instructor)",
             responses=error_responses(401, 403, 404, 422))
def post_regrade(submission_id: SubmissionId, principal: Instructor, session: SessionDep) -> RegradeQueued:
    run = regrade_submission(session, course=principal.course, submission_id=submission_id)
    return RegradeQueued(submission_id=submission_id, run_id=run.id, status=run.status)
