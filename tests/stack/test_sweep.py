"""The sweeper (SQLite and Postgres): lost and abandoned runs are sent again; a healthy backlog is left alone."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from grader.db import session_scope
from grader.models import GradingRun
from grader.models.base import utcnow
from grader.services.accept import Upload
from grader.services.claim import claim_run
from grader.services.queueing import Dispatch, accept_and_queue, dispatching_scope
from grader.services.sweep import SweepReport, sweep_stale_runs
from tests.conftest import EXAMPLE_SOLUTION

LEASE_S = 30.0


def queue(factory: sessionmaker[Session], *, sent_ago_s: float) -> str:
    """A queued run whose message left `sent_ago_s` seconds ago."""
    with dispatching_scope(factory, lambda messages: None) as session:
        upload = Upload(EXAMPLE_SOLUTION.read_bytes(), "layers_dev.py", "s1", "layers")
        _, run = accept_and_queue(session, upload, max_bytes=512 * 1024)
        run.dispatched_at = utcnow() - timedelta(seconds=sent_ago_s)
        return run.id


def take(factory: sessionmaker[Session], run_id: str, *, now: datetime | None = None) -> None:
    with session_scope(factory) as session:
        assert claim_run(session, run_id, worker="w", token=run_id, lease_s=LEASE_S, max_attempts=5, now=now)


def sweep(factory: sessionmaker[Session]) -> tuple[SweepReport, list[Dispatch]]:
    sent: list[Dispatch] = []

    def record(messages: Sequence[Dispatch]) -> None:
        sent.extend(messages)

    with dispatching_scope(factory, record) as session:
        report = sweep_stale_runs(session, lease_s=LEASE_S)
    return report, sent


def test_a_run_whose_worker_died_is_queued_and_sent_again(session_factory: sessionmaker[Session]) -> None:
    run_id = queue(session_factory, sent_ago_s=100)
    take(session_factory, run_id, now=utcnow() - timedelta(seconds=LEASE_S + 5))
    report, sent = sweep(session_factory)
    assert report.abandoned == [run_id] and sent == [Dispatch("grade", run_id)]
    with session_scope(session_factory) as session:
        run = session.get(GradingRun, run_id)
        assert run is not None
        assert (run.status, run.lease_expires_at, run.claim_token, run.dispatches) == ("queued", None, None, 2)
    assert sweep(session_factory)[1] == [], "a re-sent run waits a whole lease before the next send"


def test_a_backlog_in_order_is_not_resent_while_workers_claim(session_factory: sessionmaker[Session]) -> None:
    first = queue(session_factory, sent_ago_s=100)
    waiting = [queue(session_factory, sent_ago_s=90), queue(session_factory, sent_ago_s=80)]
    take(session_factory, first)
    report, sent = sweep(session_factory)
    assert sent == [] and report.lost == []
    with session_scope(session_factory) as session:
        dispatches = session.scalars(select(GradingRun.dispatches).where(GradingRun.id.in_(waiting)))
        assert list(dispatches) == [1, 1]


def test_a_run_overtaken_by_a_later_one_lost_its_message(session_factory: sessionmaker[Session]) -> None:
    lost = queue(session_factory, sent_ago_s=100)
    later = queue(session_factory, sent_ago_s=90)
    take(session_factory, later)
    report, sent = sweep(session_factory)
    assert report.lost == [lost] and sent == [Dispatch("grade", lost)]


def test_when_nothing_was_claimed_for_a_lease_every_overdue_run_is_resent(
        session_factory: sessionmaker[Session]) -> None:
    overdue = [queue(session_factory, sent_ago_s=100), queue(session_factory, sent_ago_s=90)]
    fresh = queue(session_factory, sent_ago_s=1)
    report, sent = sweep(session_factory)
    assert sorted(report.lost) == sorted(overdue) and fresh not in {m.run_id for m in sent}


def test_an_in_process_run_without_a_lease_is_bounded_too(session_factory: sessionmaker[Session]) -> None:
    run_id = queue(session_factory, sent_ago_s=100)
    with session_scope(session_factory) as session:
        session.execute(update(GradingRun).where(GradingRun.id == run_id).values(
            status="running", started_at=utcnow() - timedelta(seconds=LEASE_S + 5)))
    assert sweep(session_factory)[0].abandoned == [run_id]


def test_without_any_worker_each_resend_waits_twice_as_long(session_factory: sessionmaker[Session]) -> None:
    run_id = queue(session_factory, sent_ago_s=LEASE_S * 1.5)
    assert sweep(session_factory)[0].lost == [run_id]
    with session_scope(session_factory) as session:
        session.execute(update(GradingRun).where(GradingRun.id == run_id).values(
            dispatched_at=utcnow() - timedelta(seconds=LEASE_S * 1.5)))
    assert sweep(session_factory)[0].lost == [], "the second re-send waits two leases"
    with session_scope(session_factory) as session:
        session.execute(update(GradingRun).where(GradingRun.id == run_id).values(
            dispatched_at=utcnow() - timedelta(seconds=LEASE_S * 2.5)))
    assert sweep(session_factory)[0].lost == [run_id]
