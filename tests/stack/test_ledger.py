"""The stack tests' "stored exactly once" check reads the database: a lost acknowledgement passes it, a second
store fails it, and a logged store the database never committed fails it too (Postgres, as the stack runs)."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from grader.db import make_engine, make_session_factory, session_scope
from grader.migrate import upgrade
from grader.models import GradingRun, RunStatus
from grader.models.base import utcnow
from tests.conftest import create_postgres_database, drop_postgres_database
from tests.stack.ledger import committed_stores, install_ledger, stored_once_problems
from tests.stack.test_claim import claim, queued_run, store


@pytest.fixture
def ledger_engine(postgres_server_url: str) -> Iterator[Engine]:
    url = create_postgres_database(postgres_server_url)
    engine = make_engine(url)
    try:
        upgrade(engine)
        install_ledger(engine)
        yield engine
    finally:
        engine.dispose()
        drop_postgres_database(postgres_server_url, url)


@pytest.fixture
def factory(ledger_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(ledger_engine)


def stored_run(factory: sessionmaker[Session]) -> tuple[str, int]:
    run_id = queued_run(factory)
    taken = claim(factory, run_id, "a")
    assert taken is not None and store(factory, taken)
    return run_id, taken.attempt


def test_one_store_with_its_log_line_lost_passes(ledger_engine: Engine, factory: sessionmaker[Session]) -> None:
    run_id, attempt = stored_run(factory)
    assert committed_stores(ledger_engine) == {run_id: [attempt]}
    assert stored_once_problems(ledger_engine, {run_id: attempt}, logged=[]) == []
    logged = [{"event": "run_graded", "run_id": run_id, "attempt": attempt}]
    assert stored_once_problems(ledger_engine, {run_id: attempt}, logged=logged) == []


def test_a_second_store_fails_the_check(ledger_engine: Engine, factory: sessionmaker[Session]) -> None:
    """A claim check that let a stale attempt through would store again: the ledger sees both commits."""
    run_id, _ = stored_run(factory)
    with session_scope(factory) as session:
        session.execute(update(GradingRun).where(GradingRun.id == run_id)
                        .values(status=RunStatus.RUNNING.value, claim_token="a"))
    taken = claim(factory, run_id, "a")
    assert taken is not None and store(factory, taken)
    assert stored_once_problems(ledger_engine, {run_id: taken.attempt}, logged=[]) == [f"run {run_id} stored 2 times"]


def test_a_store_refused_by_the_claim_check_is_not_a_store(ledger_engine: Engine,
                                                           factory: sessionmaker[Session]) -> None:
    """A worker whose lease ran out loses its run to another; its late store is refused, so one store stands."""
    run_id = queued_run(factory)
    first = claim(factory, run_id, "a")
    assert first is not None
    with session_scope(factory) as session:
        session.execute(update(GradingRun).where(GradingRun.id == run_id).values(lease_expires_at=utcnow()))
    second = claim(factory, run_id, "b")
    assert second is not None and store(factory, second)
    assert not store(factory, first)
    assert stored_once_problems(ledger_engine, {run_id: second.attempt}, logged=[]) == []
    assert stored_once_problems(ledger_engine, {run_id: first.attempt}, logged=[]) == [
        f"run {run_id} stored by attempt {second.attempt} but shows attempt {first.attempt}"]


def test_a_logged_store_the_database_never_committed_fails(ledger_engine: Engine,
                                                           factory: sessionmaker[Session]) -> None:
    run_id, attempt = stored_run(factory)
    logged = [{"event": "run_graded", "run_id": run_id, "attempt": attempt + 1}]
    problems = stored_once_problems(ledger_engine, {run_id: attempt}, logged=logged)
    assert problems == [f"run {run_id} logged a store by attempt {attempt + 1} the database never committed"]


def test_a_run_never_stored_fails(ledger_engine: Engine, factory: sessionmaker[Session]) -> None:
    run_id = queued_run(factory)
    assert stored_once_problems(ledger_engine, {run_id: 0}, logged=[]) == [f"run {run_id} stored 0 times"]
