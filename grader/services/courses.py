"""Courses and what belongs to them: their assignments, and submissions accepted into them from an LMS."""

import logging
import re
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grader.assignments.registry import find_assignment, shipped_assignments
from grader.errors import Conflict, Forbidden, NotFound, PassbackUnavailable, Rejected
from grader.logs import log_event
from grader.models import (
    UNFINISHED,
    Course,
    CourseAssignment,
    GradingRun,
    Passback,
    PassbackReason,
    RunStatus,
    Submission,
    TokenRole,
)
from grader.passback.rule import passback_target
from grader.services.accept import Upload
from grader.services.bundles import current_bundle
from grader.services.callback_guard import CallbackPolicy, check_callback_host
from grader.services.outbox import new_passback, passbacks_of, supersede_pending
from grader.services.queries import current_graded_run
from grader.services.queueing import accept_and_queue, queue_run, request_passback
from grader.services.tokens import Principal

COURSE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Intake:
    """What a submission post produced: the submission, its newest run, and whether it was a replay."""

    submission: Submission
    run: GradingRun
    duplicate: bool


def check_callback_url(url: str, policy: CallbackPolicy) -> None:
    """An absolute http(s) URL without credentials: the grader POSTs the signed score there and follows no redirect."""
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.username
        parts.port  # noqa: B018 - a malformed port raises here, not at delivery time
    except ValueError:
        usable = False
    if len(url) > 2048 or not usable:
        raise Rejected("callback_url must be an absolute http:// or https:// URL of at most 2048 characters, "
                       "without user:password@", code="invalid_callback_url")
    check_callback_host(parts.hostname or "", policy)


def create_course(session: Session, course: str, *, assignments: tuple[str, ...] | None = None) -> Course:
    """Register a course with the named assignments (by default every shipped bundle); registering it again adds
    what is missing."""
    if not COURSE_ID.match(course):
        raise Rejected("a course id is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    row = session.get(Course, course) or Course(id=course)
    session.add(row)
    have = {link.assignment for link in row.assignments}
    assignments = tuple(shipped_assignments()) if assignments is None else assignments
    for name in assignments:
        find_assignment(name)
        if name not in have:
            row.assignments.append(CourseAssignment(assignment=name))
    session.flush()
    log_event(logger, "course_registered", course=course, assignments=list(assignments))
    return row


def get_course(session: Session, course: str) -> Course:
    row = session.get(Course, course)
    if row is None:
        raise NotFound(f"no course {course!r}; register it with `grader courses create {course}`")
    return row


def course_assignments(session: Session, course: str) -> list[str]:
    return list(session.scalars(select(CourseAssignment.assignment).where(CourseAssignment.course_id == course)
                                .order_by(CourseAssignment.assignment)))


def require_assignment(session: Session, course: str, assignment: str) -> None:
    """Assignment ids are scoped by course: one the course does not grade does not exist for it."""
    if session.get(CourseAssignment, (course, assignment)) is None:
        raise NotFound(f"course {course!r} has no assignment {assignment!r}")


def _by_external_id(session: Session, course: str, upload: Upload) -> Submission | None:
    return session.scalar(select(Submission).where(Submission.course == course,
                                                   Submission.assignment == upload.assignment,
                                                   Submission.external_id == upload.external_id))


def _replay(existing: Submission, course: str, upload: Upload) -> Intake:
    """The same key again is the same submission; the key reused for someone else is a conflict, not a merge."""
    if existing.course != course or existing.student != upload.student.strip():
        raise Conflict(f"external_id {upload.external_id!r} already names another student's submission in this "
                       "course; use a new external_id for a new submission")
    return Intake(submission=existing, run=existing.runs[-1], duplicate=True)


def submit_to_course(session: Session, *, course: str, upload: Upload, callback_url: str | None,
                     max_bytes: int, callback_policy: CallbackPolicy | None = None) -> Intake:
    """Accept and queue an LMS upload, idempotent on (course, assignment, external_id) even under concurrent
    posts.

    The loser of a race on the unique key gets an IntegrityError at insert; its savepoint is rolled back and
    the winner's committed row is read and returned instead, so twenty identical posts make one submission.
    """
    require_assignment(session, course, upload.assignment)
    upload = replace(upload, filename="".join(ch for ch in upload.filename if ch.isprintable()), course=course)
    if callback_url is not None:
        check_callback_url(callback_url, callback_policy or CallbackPolicy())
    existing = _by_external_id(session, course, upload)
    if existing is not None:
        return _replay(existing, course, upload)
    try:
        with session.begin_nested():
            submission, run = accept_and_queue(session, upload, max_bytes=max_bytes)
            submission.callback_url = callback_url
            session.flush()
    except IntegrityError:
        existing = _by_external_id(session, course, upload)
        if existing is None:
            raise
        log_event(logger, "submission_race_lost", submission_id=existing.id, course=course)
        return _replay(existing, course, upload)
    return Intake(submission=submission, run=run, duplicate=False)


def get_course_submission(session: Session, *, course: str | None, submission_id: str) -> Submission:
    """A submission of the given course (None: staff at the server, any course); another course's is Forbidden."""
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotFound(f"no submission {submission_id}")
    if course is not None and submission.course != course:
        raise Forbidden("this submission belongs to another course than the token's")
    return submission


def regrade_submission(session: Session, *, course: str, submission_id: str) -> GradingRun:
    """Queue a new run under today's rubric; one already waiting or running is returned instead of a second."""
    submission = get_course_submission(session, course=course, submission_id=submission_id)
    for run in submission.runs:
        if run.status in UNFINISHED:
            return run
    bundle = (current_bundle(session, submission.course, submission.assignment) if submission.course is not None
              else find_assignment(submission.assignment))
    run = GradingRun(submission=submission, rubric_version=bundle.rubric.version, status=RunStatus.QUEUED)
    session.add(run)
    session.flush()
    queue_run(session, run)
    session.flush()
    log_event(logger, "regrade_queued", submission_id=submission.id, run_id=run.id)
    return run


def resend_passback(session: Session, *, course: str | None, submission_id: str, dispatch: bool = True) -> Passback:
    """Staff ask for the current score to be sent again: a fresh delivery with a fresh attempt budget.

    With dispatch=False the caller sends it itself in this transaction, so no worker can pick it up first.
    """
    submission = get_course_submission(session, course=course, submission_id=submission_id)
    target = passback_target(session, submission)
    if target is None:
        raise PassbackUnavailable("this submission has no callback_url or LTI launch to send its score to")
    run = current_graded_run(submission)
    if run is None:
        raise PassbackUnavailable("this submission has no graded result yet; it is sent when grading ends")
    supersede_pending(session, submission.id)
    row = new_passback(session, submission, run, PassbackReason.RESEND, target)
    if dispatch:
        request_passback(session, run)
    return row


@dataclass(frozen=True)
class SubmissionRecord:
    """A submission as its reader may see it: staff also get the passback deliveries."""

    submission: Submission
    passbacks: list[Passback]
    passback_channel: str | None = None


def submission_record(session: Session, *, principal: Principal, submission_id: str) -> SubmissionRecord:
    """An LMS token reads its course's submissions (a rotated token still reads what the old one posted)."""
    submission = get_course_submission(session, course=principal.course, submission_id=submission_id)
    staff = principal.role == TokenRole.INSTRUCTOR
    if not staff:
        return SubmissionRecord(submission=submission, passbacks=[])
    target = passback_target(session, submission)
    return SubmissionRecord(submission=submission, passbacks=passbacks_of(session, submission.id),
                            passback_channel=target.channel if target else None)
