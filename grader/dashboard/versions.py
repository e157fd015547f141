"""An assignment's versions page (who uploaded each, when, its status and its check table), and which stored
version graded a run, for the submission page."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.api.deps import SessionDep
from grader.api.routes.assignments import AssignmentId
from grader.api.version_schemas import CurrentVersion, VersionView, current_of
from grader.dashboard.deps import CheckedForm, SignedIn
from grader.dashboard.render import render
from grader.errors import NotFound
from grader.models import AssignmentVersion, VersionStatus
from grader.services import assignment_versions

router = APIRouter()
SHIPPED = "shipped"


@dataclass(frozen=True)
class VersionsPage:
    """The course's current choice for the assignment and every uploaded version, newest first."""

    assignment: str
    title: str
    current: CurrentVersion
    versions: list[VersionView]


def versions_page(session: Session, *, course: str, assignment: str) -> VersionsPage:
    lines = {line.assignment: line for line in assignment_versions.list_assignments(session, course=course)}
    if assignment not in lines:
        raise NotFound(f"the course has no assignment {assignment!r}")
    current = current_of(lines[assignment])
    rows = assignment_versions.versions(session, course=course, assignment=assignment)
    return VersionsPage(assignment=assignment, title=lines[assignment].title, current=current,
                        versions=[VersionView.build(row, current_id=current.version_id) for row in rows])


def versions_by_rubric(session: Session, *, course: str | None, assignment: str,
                       rubric_versions: Iterable[str]) -> dict[str, AssignmentVersion]:
    """The course's published version each rubric version came from (the newest, if several share it); a rubric
    version missing here was graded by the shipped bundle."""
    wanted = set(rubric_versions)
    if course is None or not wanted:
        return {}
    rows = session.scalars(select(AssignmentVersion).where(
        AssignmentVersion.course_id == course, AssignmentVersion.assignment == assignment,
        AssignmentVersion.status == VersionStatus.PUBLISHED, AssignmentVersion.rubric_version.in_(wanted))
        .order_by(AssignmentVersion.created_at))
    return {row.rubric_version: row for row in rows}


@router.get("/assignments/{assignment_id}/versions", response_class=HTMLResponse,
            summary="An assignment's uploaded versions and their checks")
def versions(request: Request, assignment_id: AssignmentId, viewer: SignedIn, session: SessionDep) -> HTMLResponse:
    page = versions_page(session, course=viewer.course, assignment=assignment_id)
    return render(request, "versions.html", {"viewer": viewer, "page": page})


@router.post("/assignments/{assignment_id}/current", summary="Grade with another published version")
def use_version(assignment_id: AssignmentId, viewer: CheckedForm, session: SessionDep,
                version: Annotated[str, Form(pattern=r"^[A-Za-z0-9_-]{1,32}$")]) -> RedirectResponse:
    assignment_versions.set_current(session, course=viewer.course, assignment=assignment_id,
                                    version_id=None if version == SHIPPED else version)
    return RedirectResponse(f"/dashboard/assignments/{assignment_id}/versions?done=current", status_code=303)
