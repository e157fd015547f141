"""A student's upload through the form their launch showed: the launch's token names the student and the link."""

import hashlib
from datetime import UTC

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.errors import LaunchRejected
from grader.models import LtiLaunch, LtiSubmissionLink
from grader.models.base import utcnow
from grader.services.accept import Upload
from grader.services.courses import Intake, submit_to_course


def launch_for_upload(session: Session, upload_token: str) -> LtiLaunch:
    """The launch that issued this token, while it is fresh; a relaunch replaces the token."""
    digest = hashlib.sha256(upload_token.encode("utf-8")).hexdigest()
    launch = session.scalar(select(LtiLaunch).where(LtiLaunch.upload_token_sha256 == digest))
    if launch is None or launch.upload_expires_at is None:
        raise LaunchRejected("this upload form is no longer valid: open the assignment from the LMS again",
                             status_code=403)
    expires = launch.upload_expires_at
    if (expires if expires.tzinfo else expires.replace(tzinfo=UTC)) < utcnow():
        raise LaunchRejected("this upload form expired: open the assignment from the LMS again", status_code=403)
    return launch


def submit_from_launch(session: Session, *, upload_token: str, content: bytes, filename: str,
                       max_bytes: int) -> Intake:
    """Accept and queue the file for the launch's student and assignment, and keep the launch with it, so its
    score goes to that launch's line item for that LTI user. The same file twice is the same submission."""
    launch = launch_for_upload(session, upload_token)
    digest = hashlib.sha256(content).hexdigest()[:32]
    upload = Upload(content=content, filename=filename, student=launch.student, assignment=launch.assignment,
                    external_id=f"lti:{launch.id}:{digest}")
    intake = submit_to_course(session, course=launch.course, upload=upload, callback_url=None, max_bytes=max_bytes)
    if session.get(LtiSubmissionLink, intake.submission.id) is None:
        session.add(LtiSubmissionLink(submission_id=intake.submission.id, launch_id=launch.id))
        session.flush()
    return intake
