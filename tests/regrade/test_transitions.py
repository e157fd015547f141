"""Every (state, action) pair of a regrade batch, on Postgres: the action moves the batch where the table says,
or is refused with a reason and changes nothing."""

import socket
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from grader.cli import app
from grader.config import get_settings
from grader.db import session_scope
from grader.errors import Conflict
from grader.models import GradingRun
from grader.services.batch_states import TRANSITIONS, BatchAction, BatchState, Move
from grader.services.claim import claim_run
from grader.services.queueing import dispatching_scope
from grader.services.regrade import act_on_batch
from tests.regrade.conftest import LEASE_S, Classroom

# What each action does from each state, written out here rather than read from the table it checks.
EXPECTED: dict[tuple[BatchState, BatchAction], BatchState | str] = {
    (BatchState.RUNNING, BatchAction.CANCEL): BatchState.CANCELLING,
    (BatchState.RUNNING, BatchAction.PUBLISH): "still has runs to grade",
    (BatchState.RUNNING, BatchAction.ROLLBACK): "still has runs to grade",
    (BatchState.CANCELLING, BatchAction.CANCEL): "already cancelled",
    (BatchState.CANCELLING, BatchAction.PUBLISH): "still finishing",
    (BatchState.CANCELLING, BatchAction.ROLLBACK): "still finishing",
    (BatchState.PREVIEW, BatchAction.CANCEL): "has ended",
    (BatchState.PREVIEW, BatchAction.PUBLISH): BatchState.PUBLISHED,
    (BatchState.PREVIEW, BatchAction.ROLLBACK): "never published",
    (BatchState.PUBLISHED, BatchAction.CANCEL): "has ended",
    (BatchState.PUBLISHED, BatchAction.PUBLISH): "already published",
    (BatchState.PUBLISHED, BatchAction.ROLLBACK): BatchState.ROLLED_BACK,
    (BatchState.ROLLED_BACK, BatchAction.CANCEL): "has ended",
    (BatchState.ROLLED_BACK, BatchAction.PUBLISH): BatchState.PUBLISHED,
    (BatchState.ROLLED_BACK, BatchAction.ROLLBACK): "already rolled back",
    (BatchState.CANCELLED, BatchAction.CANCEL): "already cancelled",
    (BatchState.CANCELLED, BatchAction.PUBLISH): "cover only part",
    (BatchState.CANCELLED, BatchAction.ROLLBACK): "nothing to roll back",
}


def _act(classroom: Classroom, batch_id: str, action: BatchAction) -> None:
    with dispatching_scope(classroom.factory, classroom.record) as session:
        act_on_batch(session, batch_id, action)


def batch_in(classroom: Classroom, state: BatchState) -> str:
    """A preview batch of two submissions brought to `state` through the same actions staff use."""
    classroom.submit("a", "full")
    classroom.submit("b", "shape")
    classroom.age_rubric(classroom.submit("c", "index"), score_delta=5)
    batch_id = classroom.start(preview=True)
    runs = classroom.batch_runs(batch_id)
    if state in (BatchState.RUNNING, BatchState.CANCELLING):
        with session_scope(classroom.factory) as session:
            assert claim_run(session, runs[0], worker="w", token="t", lease_s=LEASE_S, max_attempts=6) is not None
        if state == BatchState.CANCELLING:
            _act(classroom, batch_id, BatchAction.CANCEL)
    elif state == BatchState.CANCELLED:
        _act(classroom, batch_id, BatchAction.CANCEL)
    else:
        classroom.grade_batch(batch_id)
        if state in (BatchState.PUBLISHED, BatchState.ROLLED_BACK):
            _act(classroom, batch_id, BatchAction.PUBLISH)
        if state == BatchState.ROLLED_BACK:
            _act(classroom, batch_id, BatchAction.ROLLBACK)
    assert classroom.view(batch_id).phase == state
    return batch_id


def _statuses(classroom: Classroom, batch_id: str) -> dict[str, str]:
    with session_scope(classroom.factory) as session:
        rows = session.execute(select(GradingRun.id, GradingRun.status).where(GradingRun.batch_id == batch_id))
        return dict(rows.all())


def test_the_table_covers_every_pair() -> None:
    assert set(EXPECTED) == {(state, action) for state in BatchState for action in BatchAction}
    assert {pair: outcome.to for pair in EXPECTED
            if isinstance(outcome := TRANSITIONS[pair[0]][pair[1]], Move)} == {
        pair: to for pair, to in EXPECTED.items() if isinstance(to, BatchState)}


@pytest.mark.parametrize(("state", "action"), list(EXPECTED))
def test_an_action_moves_the_batch_or_is_refused(classroom: Classroom, state: BatchState,
                                                 action: BatchAction) -> None:
    batch_id = batch_in(classroom, state)
    before = (classroom.current(), classroom.passbacks(), _statuses(classroom, batch_id), classroom.view(batch_id))
    expected = EXPECTED[(state, action)]
    if isinstance(expected, BatchState):
        _act(classroom, batch_id, action)
        view = classroom.view(batch_id)
        assert view.phase == expected
        assert (action in view.actions) == (action == BatchAction.PUBLISH and expected == BatchState.ROLLED_BACK)
        return
    with pytest.raises(Conflict, match=expected) as refused:
        _act(classroom, batch_id, action)
    assert batch_id in str(refused.value)
    after = (classroom.current(), classroom.passbacks(), _statuses(classroom, batch_id), classroom.view(batch_id))
    assert after == before, "a refused action changes nothing"
    assert action not in before[3].actions, "the dashboard never offers a refused action"


def closed_port() -> int:
    """A loopback port nothing listens on: the CLI's after-commit sends fail (and are logged), reaching nobody."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_cli_refuses_a_cancel_after_rollback_and_publishes_again(classroom: Classroom, regrade_database: str,
                                                                     tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's case: `grader regrade cancel` on a batch that ended and was rolled back exited 0 and showed it
    `cancelled`; `publish` then said "is already published"."""
    batch_id = batch_in(classroom, BatchState.ROLLED_BACK)
    monkeypatch.setenv("GRADER_DATABASE_URL", regrade_database)
    monkeypatch.setenv("GRADER_HOME", str(tmp_path))
    monkeypatch.setenv("GRADER_BROKER_URL", f"redis://127.0.0.1:{closed_port()}/0")  # passbacks wait for the sweep
    get_settings.cache_clear()
    try:
        cancel = CliRunner().invoke(app, ["regrade", "cancel", batch_id])
        publish = CliRunner().invoke(app, ["regrade", "publish", batch_id])
    finally:
        get_settings.cache_clear()
    assert cancel.exit_code == 2, cancel.output
    assert cancel.stderr == f"error: batch {batch_id} has ended, so there is nothing left to cancel\n"
    assert classroom.view(batch_id).state == "done", "a refused cancel leaves the batch as it was"
    assert publish.exit_code == 0, publish.output
    assert f"batch {batch_id}" in publish.stdout and ": published;" in publish.stdout
    assert classroom.view(batch_id).phase == BatchState.PUBLISHED
