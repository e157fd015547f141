"""The pages people read: assignments, one assignment, a regrade batch, one submission."""

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from grader.api.deps import SessionDep, SettingsDep
from grader.api.routes.assignments import AssignmentId
from grader.api.routes.batches import BatchId
from grader.api.routes.submissions import SubmissionId
from grader.dashboard.charts import histogram
from grader.dashboard.deps import SignedIn, Viewer
from grader.dashboard.render import render
from grader.dashboard.submission import submission_page
from grader.dashboard.views import (
    SortKey,
    assignment_lines,
    item_lines,
    recent_batches,
    student_lines,
)
from grader.models import RegradeBatch
from grader.services.queries import unfinished_batch
from grader.services.regrade import batch_view, load_batch
from grader.services.scores import assignment_stats, gradebook_csv, student_scores

router = APIRouter()
Search = Annotated[str, Query(max_length=255)]


class TableState(BaseModel):
    """The students table's query string: sort column and order, search text, flagged-only filter."""

    sort: SortKey = "student"
    order: Literal["asc", "desc"] = "asc"
    q: str = ""
    flagged: bool = False

    def href(self, **changes: str | bool) -> str:
        """This table's query string with some values changed; `flagged` appears only when on."""
        state = self.model_copy(update=changes)
        values = {"sort": state.sort, "order": state.order, "q": state.q}
        return "?" + urlencode({**values, "flagged": "1"} if state.flagged else values)


@router.get("", response_class=HTMLResponse, summary="The assignments of the course")
def index(request: Request, viewer: SignedIn, session: SessionDep) -> HTMLResponse:
    lines = assignment_lines(session, course=viewer.course)
    return render(request, "index.html", {"viewer": viewer, "lines": lines})


@router.get("/assignments/{assignment_id}", response_class=HTMLResponse, summary="One assignment")
def assignment(request: Request, assignment_id: AssignmentId, viewer: SignedIn, session: SessionDep,
               sort: SortKey = "student", order: Literal["asc", "desc"] = "asc", q: Search = "",
               flagged: bool = False) -> HTMLResponse:
    state = TableState(sort=sort, order=order, q=q, flagged=flagged)
    stats = assignment_stats(session, course=viewer.course, assignment=assignment_id)
    students = student_lines(session, course=viewer.course, assignment=assignment_id, sort=sort,
                             descending=order == "desc", query=q, flagged=flagged)
    context = {"viewer": viewer, "assignment": assignment_id, "stats": stats, "items": item_lines(stats),
               "chart": histogram(stats.histogram, students=stats.students), "students": students,
               "state": state, "running": unfinished_batch(session, course=viewer.course, assignment=assignment_id),
               "batches": recent_batches(session, course=viewer.course, assignment=assignment_id)}
    return render(request, "assignment.html", context)


@router.get("/assignments/{assignment_id}/scores.csv", summary="The gradebook CSV, exactly as the API serves it")
def scores_csv(assignment_id: AssignmentId, viewer: SignedIn, session: SessionDep) -> Response:
    rows = student_scores(session, course=viewer.course, assignment=assignment_id)
    filename = f"{viewer.course}-{assignment_id}-scores.csv"
    return Response(gradebook_csv(rows, "latest"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _owned_batch(session: Session, viewer: Viewer, batch_id: str) -> RegradeBatch:
    batch = load_batch(session, batch_id)
    viewer.principal.require_course(batch.course)
    return batch


@router.get("/batches/{batch_id}", response_class=HTMLResponse, summary="A regrade batch")
def batch(request: Request, batch_id: BatchId, viewer: SignedIn, session: SessionDep) -> HTMLResponse:
    view = batch_view(session, _owned_batch(session, viewer, batch_id))
    return render(request, "batch.html", {"viewer": viewer, "batch": view})


class ProgressDoc(BaseModel):
    """What the page's poller needs to update the progress bar."""

    state: str
    done: int
    total: int
    failed: int
    changed: int


@router.get("/batches/{batch_id}/progress.json", response_model=ProgressDoc, summary="A batch's progress")
def batch_progress_json(batch_id: BatchId, viewer: SignedIn, session: SessionDep) -> ProgressDoc:
    view = batch_view(session, _owned_batch(session, viewer, batch_id))
    progress = view.progress
    return ProgressDoc(state=view.state, done=progress.done, total=progress.total, failed=progress.failed,
                       changed=progress.changed)


@router.get("/submissions/{submission_id}", response_class=HTMLResponse, summary="One submission")
def submission(request: Request, submission_id: SubmissionId, viewer: SignedIn, session: SessionDep,
               settings: SettingsDep) -> HTMLResponse:
    page = submission_page(session, principal=viewer.principal, submission_id=submission_id,
                           max_bytes=settings.max_upload_kib * 1024)
    return render(request, "submission.html", {"viewer": viewer, "page": page})
