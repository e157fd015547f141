"""The states of a regrade batch and what each action may do from each: one table, read by every edge.

A batch's state is derived, never counted: whether its runs are still unfinished comes from the runs, and
what was done to it from its timestamps, so a crash between two writes cannot leave it in a state of its own.
"""

import enum
from dataclasses import dataclass

from grader.models import RegradeBatch


class BatchState(enum.StrEnum):
    """Where a batch is in its life."""

    RUNNING = "running"  # runs to grade; a batch that is not a preview makes each new score current as it lands
    CANCELLING = "cancelling"  # cancelled; the runs workers had already taken are finishing
    PREVIEW = "preview"  # ended; its new scores wait to be published
    PUBLISHED = "published"  # ended; its new scores are the current ones
    ROLLED_BACK = "rolled_back"  # ended; the scores it replaced are current again
    CANCELLED = "cancelled"  # ended after a cancel, never published


class BatchAction(enum.StrEnum):
    """What staff can ask of a batch (CLI, API and dashboard alike)."""

    CANCEL = "cancel"
    PUBLISH = "publish"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class Move:
    """The action is allowed and leads to `to` (a cancel lands in `cancelling`, or straight in `cancelled`
    when no run was in a worker's hands)."""

    to: BatchState


@dataclass(frozen=True)
class Refusal:
    """The action is refused; `reason` completes "batch <id> ..." for the person who asked."""

    reason: str


_ENDED = "has ended, so there is nothing left to cancel"
_IN_FLIGHT = "still has runs to grade; {action} it once it has ended"
TRANSITIONS: dict[BatchState, dict[BatchAction, Move | Refusal]] = {
    BatchState.RUNNING: {
        BatchAction.CANCEL: Move(BatchState.CANCELLING),
        BatchAction.PUBLISH: Refusal(_IN_FLIGHT.format(action="publish")),
        BatchAction.ROLLBACK: Refusal(_IN_FLIGHT.format(action="roll back")),
    },
    BatchState.CANCELLING: {
        BatchAction.CANCEL: Refusal("is already cancelled; the runs workers had taken are finishing"),
        BatchAction.PUBLISH: Refusal("was cancelled and its taken runs are still finishing"),
        BatchAction.ROLLBACK: Refusal("was cancelled and its taken runs are still finishing; roll it back once "
                                      "they have ended"),
    },
    BatchState.PREVIEW: {
        BatchAction.CANCEL: Refusal(_ENDED),
        BatchAction.PUBLISH: Move(BatchState.PUBLISHED),
        BatchAction.ROLLBACK: Refusal("is a preview that was never published, so there is nothing to roll back"),
    },
    BatchState.PUBLISHED: {
        BatchAction.CANCEL: Refusal(_ENDED),
        BatchAction.PUBLISH: Refusal("is already published"),
        BatchAction.ROLLBACK: Move(BatchState.ROLLED_BACK),
    },
    BatchState.ROLLED_BACK: {
        BatchAction.CANCEL: Refusal(_ENDED),
        BatchAction.PUBLISH: Move(BatchState.PUBLISHED),
        BatchAction.ROLLBACK: Refusal("is already rolled back"),
    },
    BatchState.CANCELLED: {
        BatchAction.CANCEL: Refusal("is already cancelled"),
        BatchAction.PUBLISH: Refusal("was cancelled before it ended, so its new scores cover only part of what it "
                                     "selected; start a new regrade"),
        BatchAction.ROLLBACK: Refusal("was cancelled before it was published, so there is nothing to roll back"),
    },
}


def batch_state(batch: RegradeBatch, *, unfinished_runs: int) -> BatchState:
    """The state of a batch from its timestamps and how many of its runs are still queued or running."""
    if unfinished_runs:
        return BatchState.CANCELLING if batch.cancelled_at is not None else BatchState.RUNNING
    if batch.rolled_back_at is not None:
        return BatchState.ROLLED_BACK
    if batch.published_at is not None:
        return BatchState.PUBLISHED
    return BatchState.CANCELLED if batch.cancelled_at is not None else BatchState.PREVIEW


def allowed_actions(state: BatchState) -> list[BatchAction]:
    """The actions the table allows from `state`, in the table's order: what the dashboard offers."""
    return [action for action, outcome in TRANSITIONS[state].items() if isinstance(outcome, Move)]
