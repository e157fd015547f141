"""The result contract that the CLI prints and other tools read: one JSON object per graded submission."""

from typing import Any

from pydantic import BaseModel

from grader.models import GradingRun, RunStatus, Submission

SANDBOX_KEYS = ("wall_s", "cpu_s", "max_rss_mib", "killed")


def student_message(item_visibility: str, message: str) -> str:
    """Hidden items show status and points only."""
    return "" if item_visibility == "hidden" else message


class ItemView(BaseModel):
    """One rubric item's result as the student may see it: a hidden item's message is empty.

    The same shape in the CLI's JSON, the API's student view and the LMS passback body.
    """

    id: str
    name: str
    points: float
    max_points: float
    status: str
    visibility: str
    message: str


def student_items(run: GradingRun) -> list[ItemView]:
    return [ItemView(id=item.item_id, name=item.name, points=item.points, max_points=item.max_points,
                     status=item.status, visibility=item.visibility,
                     message=student_message(item.visibility, item.message)) for item in run.items]


def result_document(submission: Submission, run: GradingRun) -> dict[str, Any]:
    """The `grader grade --json` contract for a stored run."""
    usage = run.sandbox_usage or {}
    return {
        "submission_id": submission.id,
        "assignment": submission.assignment,
        "status": "graded" if run.status == RunStatus.GRADED else "error",
        "score": run.score or 0,
        "max_score": run.max_score or 0,
        "tests": [item.model_dump() for item in student_items(run)],
        "integrity": {"locked_cells_modified": run.locked_cells_modified, "flags": list(run.integrity_flags or [])},
        "sandbox": {key: usage.get(key, None if key == "killed" else 0) for key in SANDBOX_KEYS},
        "rubric_version": run.rubric_version,
    }


def rejected_document(assignment: str, reason: str, code: str) -> dict[str, Any]:
    """The contract's shape for input that was refused; nothing was stored, so there is no id."""
    return {
        "submission_id": "", "assignment": assignment, "status": "rejected", "score": 0, "max_score": 0,
        "tests": [], "integrity": {"locked_cells_modified": False, "flags": []},
        "sandbox": {"wall_s": 0, "cpu_s": 0, "max_rss_mib": 0, "killed": None},
        "rubric_version": "", "reason": reason, "code": code,
    }
