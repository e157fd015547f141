"""The signed webhook channel: the JSON an LMS receives at its callback_url, HMAC-signed over timestamp.body."""

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from grader.models import GradingRun, Passback, Submission
from grader.passback.channel import Answer, PassbackTarget
from grader.services.results import ItemView, student_items

if TYPE_CHECKING:  # httpx is loaded by `send`: building the body (every stored grade) needs none
    import httpx

SIGNATURE_HEADER = "X-Grader-Signature"
TIMESTAMP_HEADER = "X-Grader-Timestamp"
DELIVERY_HEADER = "X-Grader-Delivery"
RETRYABLE_CODES = frozenset({408, 425, 429})


class PassbackBody(BaseModel):
    """The JSON an LMS receives at its callback_url; the same bytes on every retry of one delivery."""

    event: Literal["submission.graded"] = "submission.graded"
    delivery_id: str
    submission_id: str
    external_id: str | None
    course: str | None
    assignment: str
    student: str
    run_id: str
    score: float
    max_score: float
    rubric_version: str
    graded_at: datetime | None
    tests: list[ItemView]


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `timestamp.body`: the timestamp is signed too, so an old delivery cannot be replayed fresh."""
    return hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(secret: bytes, body: bytes, delivery_id: str, *, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {"Content-Type": "application/json", TIMESTAMP_HEADER: stamp, DELIVERY_HEADER: delivery_id,
            SIGNATURE_HEADER: f"sha256={sign(secret, stamp, body)}"}


def build_body(session: Session, *, delivery_id: str, submission: Submission, run: GradingRun,
               target: PassbackTarget) -> str:
    """The body never depends on the target: the callback URL is where it goes, not what it says."""
    body = PassbackBody(delivery_id=delivery_id, submission_id=submission.id, external_id=submission.external_id,
                        course=submission.course, assignment=submission.assignment, student=submission.student,
                        run_id=run.id, score=run.score or 0.0, max_score=run.max_score or 0.0,
                        rubric_version=run.rubric_version, graded_at=run.finished_at, tests=student_items(run))
    return body.model_dump_json()


@dataclass(frozen=True)
class WebhookChannel:
    """POST the fixed body to the callback_url, signed with the shared secret; redirects are never followed."""

    secret: bytes
    client: "httpx.Client"

    def send(self, session: Session, row: Passback) -> Answer:
        import httpx

        from grader.services.callback_guard import CallbackRefused

        body = row.body.encode("utf-8")
        try:
            response = self.client.post(row.callback_url, content=body,
                                        headers=signed_headers(self.secret, body, row.id))
        except CallbackRefused as exc:
            return Answer(None, f"refused: {exc}"[:500], retryable=False)
        except httpx.HTTPError as exc:
            return Answer(None, f"{type(exc).__name__}: {exc}"[:500], retryable=True)
        return self.classify(response)

    def classify(self, response: "httpx.Response") -> Answer:
        """2xx delivered; 408/425/429 and 5xx worth another try; any other answer is final."""
        code = response.status_code
        if response.is_success:
            return Answer(code, None, retryable=False)
        return Answer(code, f"the LMS answered HTTP {code}", retryable=code >= 500 or code in RETRYABLE_CODES)
