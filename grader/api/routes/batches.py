"""Regrade batches of the token's course: start one, follow it, cancel, publish or roll it back (instructor)."""

from typing import Annotated

from fastapi import APIRouter, Body, Path
from sqlalchemy.orm import Session

from grader.api.deps import Instructor, SessionDep
from grader.api.errors import error_responses
from grader.api.regrade_schemas import RegradeBody
from grader.api.routes.assignments import AssignmentId
from grader.models import RegradeBatch
from grader.services.batch_states import BatchAction
from grader.services.regrade import BatchView, RegradeRequest, act_on_batch, batch_view, load_batch, start_batch
from grader.services.tokens import Principal

router = APIRouter(tags=["regrade"])
BatchId = Annotated[str, Path(pattern=r"^[0-9a-f]{1,32}$", description="a regrade batch of the token's course")]


@router.post("/assignments/{assignment_id}/regrade", response_model=BatchView, status_code=202,
             summary="Grade the assignment's submissions again under the current rubric version",
             responses=error_responses(400, 401, 403, 404, 405, 409, 413, 422))
def start_regrade(assignment_id: AssignmentId, principal: Instructor, session: SessionDep,
                  body: Annotated[RegradeBody, Body()] | None = None) -> BatchView:
    body = body or RegradeBody()
    request = RegradeRequest(assignment=assignment_id, course=principal.course, only_status=body.only_status,
                             since=body.since, students=tuple(body.students), scope=body.scope,
                             preview=body.preview, requested_by=f"token:{principal.token_id}")
    return batch_view(session, start_batch(session, request))


def _owned(session: Session, principal: Principal, batch_id: str) -> RegradeBatch:
    batch = load_batch(session, batch_id)
    principal.require_course(batch.course)
    return batch


def _act(session: Session, principal: Principal, batch_id: str, action: BatchAction) -> BatchView:
    _owned(session, principal, batch_id)
    return batch_view(session, act_on_batch(session, batch_id, action))


@router.get("/batches/{batch_id}", response_model=BatchView, summary="Progress, state and change summary",
            responses=error_responses(401, 403, 404, 422))
def get_batch(batch_id: BatchId, principal: Instructor, session: SessionDep) -> BatchView:
    return batch_view(session, _owned(session, principal, batch_id))


@router.post("/batches/{batch_id}/cancel", response_model=BatchView, summary="Stop the batch's queued runs",
             responses=error_responses(401, 403, 404, 409, 422))
def cancel(batch_id: BatchId, principal: Instructor, session: SessionDep) -> BatchView:
    return _act(session, principal, batch_id, BatchAction.CANCEL)


@router.post("/batches/{batch_id}/publish", response_model=BatchView,
             summary="Make a preview's results current and pass the changed scores back",
             responses=error_responses(401, 403, 404, 409, 422))
def publish(batch_id: BatchId, principal: Instructor, session: SessionDep) -> BatchView:
    return _act(session, principal, batch_id, BatchAction.PUBLISH)


@router.post("/batches/{batch_id}/rollback", response_model=BatchView,
             summary="Restore the results a published batch replaced",
             responses=error_responses(401, 403, 404, 409, 422))
def rollback(batch_id: BatchId, principal: Instructor, session: SessionDep) -> BatchView:
    return _act(session, principal, batch_id, BatchAction.ROLLBACK)
