"""The sweeper: runs whose message was lost (Redis restarted empty, a worker killed, a crash before the send)
are found by their lease and sent again, so every committed submission ends graded; uploaded assignment
versions stuck in `checking` are sent to the check again the same way, so every upload ends settled."""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from grader.logs import log_event
from grader.models import AssignmentVersion, GradingRun, RunStatus, VersionStatus
from grader.models.base import utcnow
from grader.services.queueing import queue_check, queue_run
from grader.services.regrade_summary import finish_ended_batches

logger = logging.getLogger(__name__)
SWEEP_BATCH = 1000
MAX_IDLE_BACKOFF = 16


@dataclass(frozen=True)
class SweepReport:
    """What one sweep re-sent: runs whose worker was lost, queued runs whose message was lost, and versions
    whose check neither settled nor answered within a lease."""

    abandoned: list[str]
    lost: list[str]
    finished_batches: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)


def _locked(session: Session, condition: ColumnElement[bool]) -> list[GradingRun]:
    """Oldest first; rows another sweeper or a claim holds are skipped, not waited for."""
    query = select(GradingRun).where(condition).order_by(GradingRun.queued_at).limit(SWEEP_BATCH)
    return list(session.scalars(query.with_for_update(skip_locked=True)))


def _abandoned_runs(session: Session, now: datetime, cutoff: datetime) -> list[GradingRun]:
    """Running past the lease: the worker died or lost its database; its late result would be refused.

    A run without a lease (started in-process before in-process grading took a lease too) gets the same bound.
    """
    expired = or_(GradingRun.lease_expires_at < now,
                  and_(GradingRun.lease_expires_at.is_(None), GradingRun.started_at < cutoff))
    return _locked(session, and_(GradingRun.status == RunStatus.RUNNING, expired))


def _sent_long_ago(sent: datetime, dispatches: int, now: datetime, lease_s: float) -> bool:
    """Each re-send waits twice as long as the last (up to 16 leases), so a queue left without workers for hours
    is not filled with copies of the same message."""
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    wait = lease_s * min(2 ** max(dispatches - 1, 0), MAX_IDLE_BACKOFF)
    return sent < now - timedelta(seconds=wait)


def _due_again(run: GradingRun, now: datetime, lease_s: float) -> bool:
    """With no worker claiming anything, a run is re-sent with backoff."""
    return _sent_long_ago(run.dispatched_at or run.queued_at, run.dispatches, now, lease_s)


def _stuck_checks(session: Session, now: datetime, lease_s: float) -> list[AssignmentVersion]:
    """Versions still `checking` a lease after their last send: the message was lost or its worker died (a
    check is acknowledged late, so a killed worker's message comes back too; the check task skips a repeat)."""
    cutoff = now - timedelta(seconds=lease_s)
    sent = func.coalesce(AssignmentVersion.dispatched_at, AssignmentVersion.created_at)
    query = (select(AssignmentVersion)
             .where(AssignmentVersion.status == VersionStatus.CHECKING, sent < cutoff)
             .order_by(AssignmentVersion.created_at).limit(SWEEP_BATCH).with_for_update(skip_locked=True))
    return [version for version in session.scalars(query)
            if _sent_long_ago(version.dispatched_at or version.created_at, version.dispatches or 0, now, lease_s)]


def sweep_stuck_checks(session: Session, *, lease_s: float, now: datetime | None = None) -> list[str]:
    """Re-send the check of every stuck version; the messages go out after the caller's commit."""
    now = now or utcnow()
    stuck = _stuck_checks(session, now, lease_s)
    for version in stuck:
        queue_check(session, version, now=now)
    session.flush()
    if stuck:
        log_event(logger, "sweep_resent_checks", level=logging.WARNING, versions=[v.id for v in stuck])
    return [version.id for version in stuck]


def _lost_runs(session: Session, now: datetime, cutoff: datetime, lease_s: float) -> list[GradingRun]:
    """Queued past the lease, and evidently without a message in the broker.

    The queue is first in, first out: while workers are claiming, a queued run is lost only if a run sent
    after it was already claimed, so a long but healthy backlog is never re-sent. When nothing was claimed
    for a whole lease (the broker came back empty, or no worker is up), every overdue run is re-sent.
    """
    sent = func.coalesce(GradingRun.dispatched_at, GradingRun.queued_at)
    overdue = and_(GradingRun.status == RunStatus.QUEUED, sent < cutoff)
    if not session.scalar(select(exists().where(GradingRun.started_at >= cutoff))):
        return [run for run in _locked(session, overdue) if _due_again(run, now, lease_s)]
    passed = session.scalar(select(func.max(GradingRun.dispatched_at))
                            .where(GradingRun.started_at >= cutoff, GradingRun.started_at >= GradingRun.dispatched_at))
    return [] if passed is None else _locked(session, and_(overdue, sent < passed))


def sweep_stale_runs(session: Session, *, lease_s: float, now: datetime | None = None,
                     check_lease_s: float | None = None) -> SweepReport:
    """Re-queue abandoned runs, re-send lost ones and stuck checks; the messages go out after the caller's
    commit. A check's lease defaults to the run lease."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=lease_s)
    lost = _lost_runs(session, now, cutoff, lease_s)
    abandoned = _abandoned_runs(session, now, cutoff)
    for run in abandoned:
        run.status = RunStatus.QUEUED
        run.lease_expires_at = None
        run.claim_token = None
    for run in lost + abandoned:
        queue_run(session, run, now=now)
    session.flush()
    report = SweepReport(abandoned=[run.id for run in abandoned], lost=[run.id for run in lost],
                         finished_batches=finish_ended_batches(session, now),
                         checks=sweep_stuck_checks(session, lease_s=check_lease_s or lease_s, now=now))
    if report.abandoned or report.lost:
        log_event(logger, "sweep_resent", level=logging.WARNING, abandoned=report.abandoned, lost=report.lost)
    if report.finished_batches:
        log_event(logger, "regrade_batches_finished", batches=report.finished_batches)
    return report
