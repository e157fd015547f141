"""Passback of a stored score to the LMS: the worker's message sends the outbox rows written with the result."""

import logging
from dataclasses import dataclass
from functools import cache

from sqlalchemy.orm import Session

from grader.config import get_settings
from grader.logs import log_event
from grader.services.grade import load_run
from grader.services.outbox import Courier, courier_from_settings, deliver_run_passbacks

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PassbackDelivery:
    """What was (or would have been) sent for one run."""

    run_id: str
    delivered: bool
    reason: str


def pass_back_current_result(session: Session, run_id: str) -> PassbackDelivery:
    """Only the current graded run of a submission is ever passed back; anything else is skipped and said so."""
    run = load_run(session, run_id)
    if not run.holds_current_score:
        log_event(logger, "passback_skipped", run_id=run_id, status=run.status, current=run.is_current)
        return PassbackDelivery(run_id, False, "not the current graded run")
    outcomes = deliver_run_passbacks(session, run_id, courier=_courier())
    if not outcomes:
        return PassbackDelivery(run_id, False, "no due delivery (nothing to pass back, already sent, or being sent)")
    delivered = any(outcome.status == "delivered" for outcome in outcomes)
    return PassbackDelivery(run_id, delivered, ", ".join(f"{o.delivery_id}: {o.status}" for o in outcomes))


@cache
def _courier() -> Courier:
    """One HTTP client per worker process, built on first use (after the fork)."""
    return courier_from_settings(get_settings())
