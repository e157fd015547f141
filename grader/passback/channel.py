"""The protocol every passback channel speaks: build the body, send it, classify what came back.

Building is a function of the stored result, run in the transaction that stores it (no network), so every
attempt of one delivery sends the same bytes; sending and classifying happen later, in the outbox's pass.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session

from grader.models import GradingRun, Passback, Submission

if TYPE_CHECKING:  # httpx is loaded where a delivery is sent: storing a result (every grade) needs none
    import httpx


@dataclass(frozen=True)
class Answer:
    """What one send got: an HTTP code or none; an error unless delivered; whether trying again could help.

    retry_after_s is the wait the receiver asked for (Retry-After), which overrides the outbox's own backoff.
    sent is False when the channel held the delivery back without sending it (the receiver is still throttling
    us): that costs the delivery none of its attempts.
    """

    code: int | None
    error: str | None
    retryable: bool
    retry_after_s: float | None = None
    sent: bool = True


@dataclass(frozen=True)
class PassbackTarget:
    """Where a submission's score goes: the channel, its URL (webhook or AGS line item) and the LTI launch."""

    channel: str
    url: str
    lti_launch_id: str | None = None


class BodyBuilder(Protocol):
    """Builds the exact text of one delivery when its result is stored."""

    def __call__(self, session: Session, *, delivery_id: str, submission: Submission, run: GradingRun,
                 target: PassbackTarget) -> str: ...


class Channel(Protocol):
    """A way to deliver one outbox row; the outbox owns scheduling, retries and giving up."""

    def send(self, session: Session, row: Passback) -> Answer:
        """One attempt, never raising for what the receiver or the network did: that is the Answer."""
        ...

    def classify(self, response: "httpx.Response") -> Answer:
        """Delivered, worth another try (maybe after a wait the receiver named), or final."""
        ...
