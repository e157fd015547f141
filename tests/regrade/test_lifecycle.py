"""Cancel, resume after a crash, filters and scopes of regrade batches, on Postgres."""

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from grader.db import session_scope
from grader.errors import Conflict
from grader.models import GradingRun, ItemResult, RunStatus, Submission
from grader.models.base import utcnow
from grader.services.claim import claim_run
from grader.services.queueing import Dispatch, dispatching_scope
from grader.services.regrade import OnlyStatus, Scope, cancel_batch
from grader.services.sweep import sweep_stale_runs
from tests.regrade.conftest import LEASE_S, Classroom


def test_cancel_stops_the_queued_runs_of_the_batch(classroom: Classroom) -> None:
    for student in ("a", "b", "c"):
        classroom.submit(student, "full")
    batch_id = classroom.start()
    runs = classroom.batch_runs(batch_id)
    assert classroom.grade(runs[0])
    with session_scope(classroom.factory) as session:
        cancel_batch(session, batch_id)
    view = classroom.view(batch_id)
    assert (view.state, view.progress.done, view.progress.cancelled, view.progress.failed) == ("cancelled", 1, 2, 0)
    assert not classroom.grade(runs[1]), "a cancelled run is never claimed"
    with session_scope(classroom.factory) as session:
        ended = set(session.execute(select(GradingRun.status, GradingRun.error).where(GradingRun.id.in_(runs[1:]))))
        report = sweep_stale_runs(session, lease_s=0.0, now=utcnow() + timedelta(hours=1))
    assert ended == {(RunStatus.CANCELLED, None)}, "cancelled is a status of its own, not an error"
    assert not set(runs) & set(report.abandoned + report.lost), "the sweeper never re-sends a cancelled run"
    classroom.start()


def test_a_batch_resumes_after_a_crash_without_grading_anything_twice(classroom: Classroom) -> None:
    for student in ("a", "b", "c"):
        classroom.submit(student, "shape")
    batch_id = classroom.start()
    runs = classroom.batch_runs(batch_id)
    long_ago = utcnow() - timedelta(seconds=LEASE_S * 3)
    with session_scope(classroom.factory) as session:
        lost_claim = claim_run(session, runs[0], worker="dead", token="dead", lease_s=LEASE_S, max_attempts=6,
                               now=long_ago)
    assert lost_claim is not None, "a worker took the run, then its machine died"
    for run_id in runs[1:]:
        assert classroom.grade(run_id)
    assert classroom.view(batch_id).state == "running"
    sent: list[Dispatch] = []

    def record(messages: Sequence[Dispatch]) -> None:
        sent.extend(messages)

    with dispatching_scope(classroom.factory, record) as session:
        report = sweep_stale_runs(session, lease_s=LEASE_S)
    assert report.abandoned == [runs[0]] and Dispatch("grade", runs[0]) in sent
    for run_id in runs[1:]:
        assert not classroom.grade(run_id), "a graded run is never graded again"
    assert classroom.grade(runs[0], worker="w2")
    view = classroom.view(batch_id)
    assert (view.state, view.progress.done, view.progress.total) == ("done", 3, 3)
    with session_scope(classroom.factory) as session:
        attempts = dict(session.execute(select(GradingRun.id, GradingRun.attempt).where(GradingRun.id.in_(runs))).all())
        items = dict(session.execute(select(ItemResult.run_id, func.count()).where(ItemResult.run_id.in_(runs))
                                     .group_by(ItemResult.run_id)).all())
    assert attempts == {runs[0]: 2, runs[1]: 1, runs[2]: 1}
    assert set(items.values()) == {11}, "each run has exactly one set of items"


def _selected(classroom: Classroom, **filters: object) -> set[str]:
    """Submission ids a batch with these filters picks; the batch is cancelled so the next one may start."""
    batch_id = classroom.start(**filters)
    with session_scope(classroom.factory) as session:
        picked = set(session.scalars(select(GradingRun.submission_id).where(GradingRun.batch_id == batch_id)))
        cancel_batch(session, batch_id)
    return picked


def test_filters_and_scopes_pick_the_right_submissions(classroom: Classroom) -> None:
    a_old = classroom.submit("a", "full")
    a_new = classroom.submit("a", "shape")
    b_only = classroom.submit("b", "index")
    c_old = classroom.submit("c", "index")
    c_new = classroom.submit("c", "full")
    with session_scope(classroom.factory) as session:
        session.execute(update(Submission).where(Submission.id.in_([a_old, c_old]))
                        .values(created_at=utcnow() - timedelta(days=3)))
        errored = session.scalars(select(GradingRun).where(GradingRun.submission_id == c_new)).one()
        errored.status, errored.is_current, errored.error = RunStatus.ERROR.value, False, "sandbox broke"
    assert _selected(classroom) == {a_new, b_only, c_new}
    assert _selected(classroom, scope=Scope.ALL) == {a_old, a_new, b_only, c_old, c_new}
    assert _selected(classroom, scope=Scope.BEST) == {a_old, b_only, c_old}
    assert _selected(classroom, only_status=OnlyStatus.ERROR) == {c_new}
    assert _selected(classroom, only_status=OnlyStatus.FAILED) == {a_new, b_only}
    assert _selected(classroom, scope=Scope.ALL, since=utcnow() - timedelta(days=1)) == {a_new, b_only, c_new}
    assert _selected(classroom, scope=Scope.ALL, students=("a", "b")) == {a_old, a_new, b_only}


def test_one_unfinished_batch_per_assignment_and_course(classroom: Classroom) -> None:
    classroom.submit("a", "full")
    classroom.start()
    with pytest.raises(Conflict, match="still running"):
        classroom.start(preview=True)
