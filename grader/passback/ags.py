"""The LTI AGS channel: a score per delivery, POSTed to the launch's line item with a shared access token."""

import json
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy.orm import Session

from grader.lti.access_tokens import AccessTokens, TokenRequestFailed
from grader.lti.answers import platform_message, rate_limited, retry_after_s
from grader.models import GradingRun, LtiLaunch, Passback, Submission
from grader.passback.channel import Answer, PassbackTarget
from grader.passback.lineitems import LineItemError, resolve_lineitem
from grader.services.callback_guard import CallbackRefused
from grader.services.results import student_items

SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
LINEITEM_READ_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
DEFAULT_THROTTLE_S = 60.0


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


def _score_maximum(body: str) -> float:
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


@dataclass
class AgsChannel:
    """Sends AGS scores; one instance per worker process (its throttle memory and HTTP client are shared)."""

    tokens: AccessTokens
    client: httpx.Client
    _throttled_until: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, session: Session, row: Passback) -> Answer:
        launch = session.get(LtiLaunch, row.lti_launch_id) if row.lti_launch_id else None
        if launch is None:
            return Answer(None, "the LTI launch this score was for is gone; the student must launch again",
                          retryable=False)
        waiting = self._throttle_left(launch.platform_id)
        if waiting > 0:
            return Answer(None, f"the platform asked us to slow down; waiting {waiting:.0f} s", retryable=True,
                          retry_after_s=waiting)
        try:
            return self._send(session, row, launch)
        except TokenRequestFailed as exc:
            return self._note(launch, Answer(exc.status_code, str(exc), exc.retryable, exc.retry_after_s))
        except LineItemError as exc:
            return self._note(launch, exc.answer)
        except CallbackRefused as exc:
            return Answer(None, f"refused: {exc}"[:500], retryable=False)
        except httpx.HTTPError as exc:
            return Answer(None, f"{type(exc).__name__}: {exc}"[:500], retryable=True)

    def _send(self, session: Session, row: Passback, launch: LtiLaunch) -> Answer:
        scopes = token_scopes(launch)
        token = self.tokens.token(session, launch.platform, scopes)
        lineitem = resolve_lineitem(session, launch, client=self.client, token=token,
                                    score_maximum=_score_maximum(row.body), classify=self.classify,
                                    lock=self.tokens.store.lock)
        response = self._post_score(lineitem, row.body, token)
        if response.status_code == 401:
            token = self.tokens.token(session, launch.platform, scopes, refused=token)
            response = self._post_score(lineitem, row.body, token)
        return self._note(launch, self.classify(response))

    def _post_score(self, lineitem: str, body: str, token: str) -> httpx.Response:
        return self.client.post(scores_url(lineitem), content=body.encode("utf-8"),
                                headers={"Content-Type": SCORE_MEDIA_TYPE, "Authorization": f"Bearer {token}"})

    def classify(self, response: httpx.Response) -> Answer:
        """2xx delivered; throttled: wait as told; 5xx: the outbox's backoff; any other 4xx is final, in the
        platform's own words (a 401 here has already had its one token refresh)."""
        code = response.status_code
        if response.is_success:
            return Answer(code, None, retryable=False)
        if rate_limited(response):
            wait = retry_after_s(response)
            return Answer(code, f"the platform throttled us (HTTP {code}); retrying after "
                                f"{wait if wait is not None else DEFAULT_THROTTLE_S:.0f} s", retryable=True,
                          retry_after_s=wait if wait is not None else DEFAULT_THROTTLE_S)
        message = f"the platform answered HTTP {code}: {platform_message(response)}"
        return Answer(code, message, retryable=code >= 500)

    def _note(self, launch: LtiLaunch, answer: Answer) -> Answer:
        """A throttled answer holds back every score for that platform in this process until the wait is over."""
        if answer.retry_after_s:
            with self._lock:
                self._throttled_until[launch.platform_id] = time.monotonic() + answer.retry_after_s
        return answer

    def _throttle_left(self, platform_id: str) -> float:
        with self._lock:
            return max(self._throttled_until.get(platform_id, 0.0) - time.monotonic(), 0.0)
