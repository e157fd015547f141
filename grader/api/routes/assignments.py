"""Assignments of the token's course: rubric and counts, per-student scores (JSON or gradebook CSV), statistics."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from grader.api.deps import Instructor, SessionDep
from grader.api.errors import error_responses
from grader.services.scores import (
    AssignmentDetail,
    AssignmentStats,
    AssignmentSummary,
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


class ScoreTable(BaseModel):
    """One row per student who submitted, ordered by student id."""

    course: str
    assignment: str
    students: list[ScoreRow]


@router.get("", response_model=list[AssignmentSummary], summary="The assignments of the token's course",
            responses=error_responses(401, 403))
def get_assignments(principal: Instructor, session: SessionDep) -> list[AssignmentSummary]:
    return list_assignments(session, course=principal.course)


@router.get("/{assignment_id}", response_model=AssignmentDetail, summary="Rubric and counts by status",
            responses=error_responses(401, 403, 404, 422))
def get_assignment(assignment_id: AssignmentId, principal: Instructor, session: SessionDep) -> AssignmentDetail:
    return assignment_detail(session, course=principal.course, assignment=assignment_id)


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
