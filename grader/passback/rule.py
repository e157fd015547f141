"""The one rule of passback: whether a stored result is sent to an LMS, and through which channel."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.models import GradingRun, LtiSubmissionLink, PassbackChannelName, RunStatus, Submission
from grader.passback.channel import PassbackTarget


def passback_target(session: Session, submission: Submission) -> PassbackTarget | None:
    """An LTI launch wins over a callback_url (the launch names the gradebook column); neither: nothing is sent."""
    link = session.scalar(select(LtiSubmissionLink).where(LtiSubmissionLink.submission_id == submission.id))
    if link is not None:
        launch = link.launch
        return PassbackTarget(channel=PassbackChannelName.LTI_AGS,
                              url=launch.lineitem_url or launch.lineitems_url or "", lti_launch_id=launch.id)
    if submission.callback_url:
        return PassbackTarget(channel=PassbackChannelName.WEBHOOK, url=submission.callback_url)
    return None


def result_passback_target(session: Session, run: GradingRun, *, score_changed: bool) -> PassbackTarget | None:
    """A graded result is passed back when it is the submission's current one and changes the score the LMS saw.

    A regrade preview run is not current until its batch is published, so it sends nothing before that; and
    score_changed is False for a regrade whose score equals the result it replaces (resending would only churn
    the gradebook).
    """
    if not run.is_current or run.status != RunStatus.GRADED or not score_changed:
        return None
    return passback_target(session, run.submission)
