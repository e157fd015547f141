"""The LTI AGS channel: a score per delivery, POSTed to the launch's line item with a shared access token."""

import threading
import time
from dataclasses import dataclass, field

import httpx
from sqlalchemy.orm import Session

from grader.errors import TokenRequestFailed
from grader.lti.access_tokens import AccessTokens
from grader.lti.answers import platform_message, rate_limited, retry_after_s
from grader.models import LtiLaunch, Passback
from grader.passback.ags_score import SCORE_MEDIA_TYPE, score_maximum, scores_url, token_scopes
from grader.passback.channel import Answer
from grader.passback.lineitems import LineItemError, resolve_lineitem
from grader.services.callback_guard import CallbackRefused

DEFAULT_THROTTLE_S = 60.0


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
                          retry_after_s=waiting, sent=False)
        try:
            return self._send(session, row, launch)
        except TokenRequestFailed as exc:
            return self._note(launch, Answer(exc.status_code, str(exc), exc.retryable, exc.retry_after_s))
        except CallbackRefused as exc:
            return Answer(None, f"refused: {exc}"[:500], retryable=False)
        except httpx.HTTPError as exc:
            return Answer(None, f"{type(exc).__name__}: {exc}"[:500], retryable=True)

    def _send(self, session: Session, row: Passback, launch: LtiLaunch) -> Answer:
        """A 401 (to the line item lookup or the score) gets one fresh token and one more try, no more."""
        scopes = token_scopes(launch)
        token = self.tokens.token(session, launch.platform, scopes)
        answer = self._attempt(session, row, launch, token)
        if answer.code == 401:
            token = self.tokens.token(session, launch.platform, scopes, refused=token)
            answer = self._attempt(session, row, launch, token)
        return self._note(launch, answer)

    def _attempt(self, session: Session, row: Passback, launch: LtiLaunch, token: str) -> Answer:
        try:
            lineitem = resolve_lineitem(session, launch, client=self.client, token=token,
                                        score_maximum=score_maximum(row.body), classify=self.classify,
                                        lock=self.tokens.store.lock)
        except LineItemError as exc:
            return exc.answer
        return self.classify(self._post_score(lineitem, row.body, token))

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
