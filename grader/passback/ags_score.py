"""The AGS Score body, built when a result is stored: who, how much of how much, done and fully graded."""

import json
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.orm import Session

from grader.models import GradingRun, LtiLaunch, Submission
from grader.passback.channel import PassbackTarget
from grader.services.results import student_items

SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
LINEITEM_READ_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"


def _breakdown(run: GradingRun) -> str:
    lines = [f"{item.name}: {item.points:g}/{item.max_points:g}" for item in student_items(run)]
    return f"Autograded {run.score or 0:g}/{run.max_score or 0:g} (rubric {run.rubric_version}). " + "; ".join(lines)


def build_body(session: Session, *, delivery_id: str, submission: Submission, run: GradingRun,
               target: PassbackTarget) -> str:
    """The AGS Score: Completed and FullyGraded, stamped with the time the run finished (not the send time), so a
    platform that ignores scores older than the last one keeps the newest result whatever the delivery order."""
    launch = session.get(LtiLaunch, target.lti_launch_id)
    if launch is None:
        raise LookupError(f"LTI launch {target.lti_launch_id} is gone")
    finished = run.finished_at
    score = {"userId": launch.lti_user_id, "scoreGiven": run.score or 0.0, "scoreMaximum": run.max_score or 0.0,
             "activityProgress": "Completed", "gradingProgress": "FullyGraded",
             "timestamp": finished.isoformat() if finished else None, "comment": _breakdown(run)[:1000]}
    return json.dumps(score, separators=(",", ":"))


def score_maximum(body: str) -> float:
    maximum = json.loads(body).get("scoreMaximum")
    return float(maximum) if isinstance(maximum, int | float) else 1.0


def scores_url(lineitem_url: str) -> str:
    """The scores endpoint is the line item URL with /scores appended to its path (its query kept)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def token_scopes(launch: LtiLaunch) -> list[str]:
    """The scopes this tool uses that the launch granted; the score scope is always asked for."""
    granted = set(launch.ags_scopes or [])
    return sorted({SCORE_SCOPE} | (granted & {LINEITEM_SCOPE, LINEITEM_READ_SCOPE}))
