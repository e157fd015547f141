"""Claiming and storing a run (SQLite and Postgres): a duplicate message never grades twice or half-writes."""

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from grader.assignments.bundle import load_assignment
from grader.db import session_scope
from grader.errors import NotRetryable
from grader.models import GradingRun, ItemResult
from grader.models.base import utcnow
from grader.sandbox.job import SandboxResult
from grader.scoring.score import score
from grader.scoring.verdict import Verdict
from grader.services.accept import Upload
from grader.services.claim import Claim, claim_run, fail_run, record_claimed
from grader.services.evaluate import Evaluation
from grader.services.queueing import Dispatch, accept_and_queue, dispatching_scope, requeue_run
from tests.conftest import EXAMPLE_SOLUTION

LEASE_S = 60.0


def evaluation(status: str = "passed") -> Evaluation:
    rubric = load_assignment("layers").rubric
    verdicts = {item.id: Verdict(item.id, status) for item in rubric.items}  # type: ignore[arg-type]
    return Evaluation(score=score(rubric, verdicts), flags=[], locked_cells_modified=False, output="",
                      result=SandboxResult(None, 0.1, 0.1, 10.0, None, "exit 0"), probe_seed=1)


def queued_run(factory: sessionmaker[Session], sent: list[Dispatch] | None = None) -> str:
    def record(messages: Sequence[Dispatch]) -> None:
        (sent if sent is not None else []).extend(messages)

    with dispatching_scope(factory, record) as session:
        upload = Upload(EXAMPLE_SOLUTION.read_bytes(), "layers_dev.py", "s1", "layers")
        _, run = accept_and_queue(session, upload, max_bytes=512 * 1024)
        return run.id


def claim(factory: sessionmaker[Session], run_id: str, token: str, **overrides: object) -> Claim | None:
    options: dict[str, object] = {"worker": f"w-{token}", "token": token, "lease_s": LEASE_S, "max_attempts": 3}
    options.update(overrides)
    with session_scope(factory) as session:
        return claim_run(session, run_id, **options)  # type: ignore[arg-type]


def store(factory: sessionmaker[Session], taken: Claim) -> bool:
    with session_scope(factory) as session:
        return record_claimed(session, taken, evaluation(), rubric_version="v") is not None


def load(factory: sessionmaker[Session], run_id: str) -> GradingRun:
    with session_scope(factory) as session:
        run = session.get(GradingRun, run_id)
        assert run is not None
        return run


def test_the_send_waits_for_the_commit_and_a_rollback_sends_nothing(session_factory: sessionmaker[Session]) -> None:
    visible_when_sent: list[bool] = []

    def send(messages: Sequence[Dispatch]) -> None:
        with session_scope(session_factory) as other:
            visible_when_sent.extend(other.get(GradingRun, m.run_id) is not None for m in messages)

    upload = Upload(EXAMPLE_SOLUTION.read_bytes(), "layers_dev.py", "s1", "layers")
    with pytest.raises(RuntimeError), dispatching_scope(session_factory, send) as session:
        accept_and_queue(session, upload, max_bytes=512 * 1024)
        raise RuntimeError("the request failed after accepting")
    assert visible_when_sent == []
    with dispatching_scope(session_factory, send) as session:
        _, run = accept_and_queue(session, upload, max_bytes=512 * 1024)
    assert visible_when_sent == [True]
    assert load(session_factory, run.id).dispatches == 1


def test_a_duplicate_message_is_refused_while_the_first_holds_the_run(session_factory: sessionmaker[Session]) -> None:
    run_id = queued_run(session_factory)
    first = claim(session_factory, run_id, "a")
    assert first is not None and first.attempt == 1
    assert claim(session_factory, run_id, "b") is None
    assert store(session_factory, first)
    assert claim(session_factory, run_id, "c") is None, "a finished run is obsolete"
    run = load(session_factory, run_id)
    assert (run.status, run.is_current, run.worker, run.lease_expires_at) == ("graded", True, "w-a", None)
    with session_scope(session_factory) as session:
        assert session.scalar(select(func.count()).select_from(ItemResult)) == len(evaluation().score.items)


def test_a_retry_of_the_same_message_resumes_its_claim_and_the_old_attempt_cannot_store(
        session_factory: sessionmaker[Session]) -> None:
    run_id = queued_run(session_factory)
    interrupted = claim(session_factory, run_id, "a")
    resumed = claim(session_factory, run_id, "a")
    assert interrupted is not None and resumed is not None and resumed.attempt == 2
    assert not store(session_factory, interrupted)
    assert store(session_factory, resumed)
    assert load(session_factory, run_id).attempt == 2


def test_an_expired_lease_lets_another_worker_take_over(session_factory: sessionmaker[Session]) -> None:
    run_id = queued_run(session_factory)
    lost = claim(session_factory, run_id, "a", now=utcnow() - timedelta(seconds=LEASE_S + 1))
    taker = claim(session_factory, run_id, "b")
    assert lost is not None and taker is not None
    assert not store(session_factory, lost), "the late worker must not overwrite the new claim"
    assert store(session_factory, taker)
    assert load(session_factory, run_id).worker == "w-b"


def test_a_run_out_of_attempts_ends_error_and_is_retried_by_hand(session_factory: sessionmaker[Session]) -> None:
    run_id = queued_run(session_factory)
    for token, leases_ago in (("a", 2), ("b", 1)):
        past = utcnow() - leases_ago * timedelta(seconds=LEASE_S + 1)
        assert claim(session_factory, run_id, token, now=past, max_attempts=2) is not None
    assert claim(session_factory, run_id, "c", max_attempts=2) is None
    run = load(session_factory, run_id)
    assert run.status == "error" and "gave up after 2 attempts" in (run.error or "")
    sent: list[Dispatch] = []

    def record(messages: Sequence[Dispatch]) -> None:
        sent.extend(messages)

    with dispatching_scope(session_factory, record) as session:
        requeue_run(session, run_id)
    assert sent == [Dispatch("grade", run_id)]
    run = load(session_factory, run_id)
    assert (run.status, run.attempt, run.error, run.dispatches) == ("queued", 0, None, 2)
    taken = claim(session_factory, run_id, "d")
    assert taken is not None and store(session_factory, taken)
    with session_scope(session_factory) as session, pytest.raises(NotRetryable):
        requeue_run(session, run_id)


def test_giving_up_never_overwrites_a_finished_run(session_factory: sessionmaker[Session]) -> None:
    run_id = queued_run(session_factory)
    taken = claim(session_factory, run_id, "a")
    assert taken is not None and store(session_factory, taken)
    with session_scope(session_factory) as session:
        assert not fail_run(session, run_id, "too late")
    other = queued_run(session_factory)
    with session_scope(session_factory) as session:
        assert fail_run(session, other, "database gone for good")
    assert (load(session_factory, other).status, load(session_factory, run_id).status) == ("error", "graded")
