"""The forms that change something: regrade, batch cancel/publish/rollback, run retry, passback resend.

Each calls the same domain function as the API inside the same unit of work, so Celery messages leave only after
the commit; an expected refusal becomes a redirect back with an alert code, never an error page.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Path
from fastapi.responses import RedirectResponse

from grader.api.deps import SessionDep
from grader.api.routes.assignments import AssignmentId
from grader.api.routes.batches import BatchId
from grader.api.routes.submissions import SubmissionId
from grader.dashboard.deps import CheckedForm
from grader.errors import Conflict, NotRetryable, PassbackUnavailable
from grader.services.batch_states import BatchAction
from grader.services.courses import resend_passback
from grader.services.grade import load_run
from grader.services.queueing import requeue_run
from grader.services.regrade import RegradeRequest, Scope, act_on_batch, load_batch, start_batch

router = APIRouter()
RunId = Annotated[str, Path(pattern=r"^[0-9a-f]{1,32}$", description="a grading run of the course")]
BATCH_NOTICES = {BatchAction.CANCEL: "cancelled", BatchAction.PUBLISH: "published", BatchAction.ROLLBACK: "rolled-back"}


def _back(path: str, **flash: str) -> RedirectResponse:
    query = "&".join(f"{key}={value}" for key, value in flash.items())
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


@router.post("/assignments/{assignment_id}/regrade", summary="Start a regrade batch")
def regrade(assignment_id: AssignmentId, viewer: CheckedForm, session: SessionDep,
            scope: Annotated[Scope, Form()] = Scope.LATEST,
            preview: Annotated[bool, Form()] = False) -> RedirectResponse:
    request = RegradeRequest(assignment=assignment_id, course=viewer.course, scope=scope, preview=preview,
                             requested_by=f"token:{viewer.principal.token_id}")
    try:
        batch = start_batch(session, request)
    except Conflict:
        return _back(f"/dashboard/assignments/{assignment_id}", error="regrade-running")
    return _back(f"/dashboard/batches/{batch.id}")


@router.post("/batches/{batch_id}/{action}", summary="Cancel, publish or roll back a batch")
def batch_action(batch_id: BatchId, action: BatchAction, viewer: CheckedForm, session: SessionDep) -> RedirectResponse:
    viewer.principal.require_course(load_batch(session, batch_id).course)
    try:
        act_on_batch(session, batch_id, action)
    except Conflict:
        return _back(f"/dashboard/batches/{batch_id}", error="batch-conflict")
    return _back(f"/dashboard/batches/{batch_id}", done=BATCH_NOTICES[action])


@router.post("/runs/{run_id}/retry", summary="Queue a run that ended in error again")
def retry(run_id: RunId, viewer: CheckedForm, session: SessionDep) -> RedirectResponse:
    run = load_run(session, run_id)
    viewer.principal.require_course(run.submission.course)
    page = f"/dashboard/submissions/{run.submission_id}"
    try:
        requeue_run(session, run_id)
    except NotRetryable:
        return _back(page, error="not-retryable")
    return _back(page, done="retried")


@router.post("/submissions/{submission_id}/passback", summary="Send the current score to the LMS again")
def resend(submission_id: SubmissionId, viewer: CheckedForm, session: SessionDep) -> RedirectResponse:
    page = f"/dashboard/submissions/{submission_id}"
    try:
        resend_passback(session, course=viewer.course, submission_id=submission_id, dispatch=True)
    except PassbackUnavailable:
        return _back(page, error="no-passback")
    return _back(page, done="passback")
