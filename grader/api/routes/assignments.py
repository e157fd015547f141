"""Assignments of the token's course: rubric and counts, per-student scores (JSON or gradebook CSV), statistics,
and the versions instructors upload (checked by a worker, then published and made current, or rejected)."""

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile
from pydantic import BaseModel
from sqlalchemy.orm import Session

from grader.api.deps import Instructor, SessionDep, SettingsDep
from grader.api.errors import error_responses
from grader.api.version_schemas import (
    AssignmentListing,
    AssignmentVersionedDetail,
    CurrentChange,
    CurrentVersion,
    VersionAccepted,
    VersionView,
    current_of,
)
from grader.errors import NotFound
from grader.services import assignment_versions
from grader.services.check_jobs import store_for_check
from grader.services.scores import (
    AssignmentStats,
    ScorePolicy,
    ScoreRow,
    assignment_detail,
    assignment_stats,
    gradebook_csv,
    list_assignments,
    student_scores,
)

router = APIRouter(prefix="/assignments", tags=["assignments"])
AssignmentId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                                   description="an assignment of the token's course, e.g. `layers`")]
VersionId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="a version id from the upload")]


class ScoreTable(BaseModel):
    """One row per student who submitted, ordered by student id."""

    course: str
    assignment: str
    students: list[ScoreRow]


def _currents(session: Session, course: str) -> dict[str, CurrentVersion]:
    return {line.assignment: current_of(line)
            for line in assignment_versions.list_assignments(session, course=course)}


def _current_id(session: Session, course: str, assignment: str) -> str | None:
    return assignment_versions.current_version_id(session, course=course, assignment=assignment)


@router.get("", response_model=list[AssignmentListing], summary="The assignments of the token's course",
            responses=error_responses(401, 403))
def get_assignments(principal: Instructor, session: SessionDep) -> list[AssignmentListing]:
    currents = _currents(session, principal.course)
    return [AssignmentListing(**summary.model_dump(), current=currents[summary.id])
            for summary in list_assignments(session, course=principal.course)]


@router.post("", status_code=202, response_model=VersionAccepted,
             summary="Upload an assignment bundle: stored as `checking`, then checked by a worker and published",
             responses=error_responses(400, 401, 403, 404, 413, 422))
def post_assignment(
    bundle: Annotated[UploadFile, File(description="the bundle folder as a .zip or .tar.gz archive")],
    principal: Instructor, session: SessionDep, settings: SettingsDep, response: Response,
    force: Annotated[bool, Form(description="publish even if the check fails (recorded on the version)")] = False,
) -> VersionAccepted:
    max_bytes = settings.bundle_max_kib * 1024
    version = store_for_check(session, course=principal.course, bundle_bytes=bundle.file.read(max_bytes + 1),
                              archive_name=bundle.filename or "", published_by=f"api token {principal.token_id}",
                              force=force, max_bytes=max_bytes)
    accepted = VersionAccepted.build(version)
    response.headers["Location"] = accepted.links.self
    return accepted


@router.get("/{assignment_id}", response_model=AssignmentVersionedDetail, summary="Rubric and counts by status",
            responses=error_responses(401, 403, 404, 422))
def get_assignment(assignment_id: AssignmentId, principal: Instructor,
                   session: SessionDep) -> AssignmentVersionedDetail:
    detail = assignment_detail(session, course=principal.course, assignment=assignment_id)
    return AssignmentVersionedDetail(**detail.model_dump(), current=_currents(session, principal.course)[detail.id])


@router.get("/{assignment_id}/versions", response_model=list[VersionView],
            summary="Every uploaded version of the assignment, newest first, with its check table",
            responses=error_responses(401, 403, 404, 422))
def get_versions(assignment_id: AssignmentId, principal: Instructor, session: SessionDep) -> list[VersionView]:
    rows = assignment_versions.versions(session, course=principal.course, assignment=assignment_id)
    current_id = _current_id(session, principal.course, assignment_id)
    return [VersionView.build(row, current_id=current_id) for row in rows]


@router.get("/{assignment_id}/versions/{version_id}", response_model=VersionView,
            summary="One version: status, forced, who published it and when, and the check table",
            responses=error_responses(401, 403, 404, 422))
def get_version(assignment_id: AssignmentId, version_id: VersionId, principal: Instructor,
                session: SessionDep) -> VersionView:
    row = assignment_versions.get_version(session, course=principal.course, version_id=version_id)
    if row.assignment != assignment_id:
        raise NotFound(f"version {version_id} is not a version of {assignment_id}")
    return VersionView.build(row, current_id=_current_id(session, principal.course, assignment_id))


@router.put("/{assignment_id}/current", response_model=CurrentVersion,
            summary="Grade with another published version of this course, or (null) the shipped bundle again",
            responses=error_responses(400, 401, 403, 404, 409, 422))
def put_current(assignment_id: AssignmentId, change: CurrentChange, principal: Instructor,
                session: SessionDep) -> CurrentVersion:
    assignment_versions.set_current(session, course=principal.course, assignment=assignment_id,
                                    version_id=change.version)
    return _currents(session, principal.course)[assignment_id]


@router.get("/{assignment_id}/scores", response_model=ScoreTable, summary="Per-student scores, JSON or CSV",
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
                       **error_responses(401, 403, 404, 422)})
def get_scores(
    assignment_id: AssignmentId, principal: Instructor, session: SessionDep,
    format: Annotated[Literal["json", "csv"], Query(description="csv: student_id,score,max_score")] = "json",
    policy: Annotated[ScorePolicy, Query(description="which score the CSV carries")] = "latest",
) -> ScoreTable | Response:
    rows = student_scores(session, course=principal.course, assignment=assignment_id)
    if format == "json":
        return ScoreTable(course=principal.course, assignment=assignment_id, students=rows)
    filename = f"{principal.course}-{assignment_id}-scores.csv"
    return Response(gradebook_csv(rows, policy), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/{assignment_id}/stats", response_model=AssignmentStats,
            summary="Mean, median, histogram and per-item pass rates",
            responses=error_responses(401, 403, 404, 422))
def get_stats(assignment_id: AssignmentId, principal: Instructor, session: SessionDep) -> AssignmentStats:
    return assignment_stats(session, course=principal.course, assignment=assignment_id)
