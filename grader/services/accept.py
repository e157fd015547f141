"""Accepting an upload: validate it fully, then record the submission and its queued run, or reject it whole."""

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.assignments.loaded import AssignmentBundle
from grader.assignments.registry import find_assignment
from grader.errors import Rejected
from grader.models import GradingRun, RunStatus, Submission
from grader.notebooks.cells import StudentCell
from grader.notebooks.reader import check_assignment, read_submission
from grader.notebooks.stored import stored_cells
from grader.services.bundles import current_bundle


@dataclass(frozen=True)
class Upload:
    """An upload as received from the CLI, the API or a regrade."""

    content: bytes
    filename: str
    student: str
    assignment: str
    external_id: str | None = None
    course: str | None = None


def upload_bundle(session: Session, upload: Upload) -> AssignmentBundle:
    """What grades the upload now: its course's current version, or (outside a course) the bundle of that name."""
    if upload.course is None:
        return find_assignment(upload.assignment)
    return current_bundle(session, upload.course, upload.assignment)


def validate_upload(upload: Upload, *, max_bytes: int, bundle: AssignmentBundle | None = None) -> list[StudentCell]:
    """Everything that can reject an upload, checked before anything is stored; the cells it read."""
    if not upload.student.strip():
        raise Rejected("the student id is empty", code="invalid")
    bundle = bundle or find_assignment(upload.assignment)
    cells = read_submission(upload.content, upload.filename, max_bytes=max_bytes)
    check_assignment(cells, bundle.source_cells, bundle.name, bundle.required_names)
    return cells


def accept_submission(session: Session, upload: Upload, *, max_bytes: int) -> tuple[Submission, GradingRun]:
    """Store the bytes and a queued run; a retry with the same external id gets the same submission.

    A course's upload is deduplicated by the caller (services.courses), which must see the unique key's
    violation to tell a replay from a race it lost; only uploads outside a course are looked up here.
    """
    if upload.external_id and upload.course is None:
        existing = session.scalar(select(Submission).where(
            Submission.course.is_(None), Submission.assignment == upload.assignment,
            Submission.external_id == upload.external_id))
        if existing is not None:
            return existing, existing.runs[-1]
    bundle = upload_bundle(session, upload)
    cells = validate_upload(upload, max_bytes=max_bytes, bundle=bundle)
    submission = Submission(
        assignment=bundle.name, student=upload.student.strip(),
        filename=upload.filename[:255] or bundle.submission_filename,
        content=upload.content, sha256=hashlib.sha256(upload.content).hexdigest(), size_bytes=len(upload.content),
        external_id=upload.external_id, course=upload.course, parsed_cells=stored_cells(cells),
    )
    run = GradingRun(submission=submission, rubric_version=bundle.rubric.version, status=RunStatus.QUEUED)
    session.add_all([submission, run])
    session.flush()
    return submission, run
