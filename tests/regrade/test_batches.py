"""Regrade batches on Postgres: what changed, history kept, preview, publish, rollback, passbacks of changes only."""

import pytest
from sqlalchemy import func, select

from grader.assignments.bundle import load_assignment
from grader.db import session_scope
from grader.errors import Conflict
from grader.models import GradingRun, RegradeBatch
from grader.services.queueing import Dispatch, dispatching_scope
from grader.services.regrade import publish_batch, rollback_batch
from grader.services.scores import list_assignments
from grader.services.sweep import sweep_stale_runs
from tests.regrade.conftest import Classroom


def class_of_four(classroom: Classroom) -> dict[str, str]:
    """Four students; `up` and `down` were graded under an 'older rubric' that gave 10 points less / 5 more."""
    subs = {name: classroom.submit(name, sample) for name, sample in
            (("up", "full"), ("down", "shape"), ("same1", "full"), ("same2", "index"))}
    classroom.age_rubric(subs["up"], score_delta=-10, flip_item="hidden-dense-xavier-init")
    classroom.age_rubric(subs["down"], score_delta=5)
    return subs


def test_a_batch_reports_what_changed_and_keeps_every_run(classroom: Classroom) -> None:
    subs = class_of_four(classroom)
    before = classroom.current()
    old_passbacks = len(classroom.passbacks())
    batch_id = classroom.start()
    runs = classroom.batch_runs(batch_id)
    assert len(classroom.sent) == 1, "one dispatch call carries every run of the batch"
    assert sorted(classroom.sent[0], key=lambda m: m.run_id) == [Dispatch("grade", run_id) for run_id in runs]
    assert classroom.view(batch_id).state == "running"
    classroom.grade_batch(batch_id)
    view = classroom.view(batch_id)
    assert (view.state, view.publication) == ("done", "published")
    assert (view.progress.total, view.progress.done, view.progress.failed, view.progress.changed) == (4, 4, 0, 2)
    summary = view.summary
    assert summary is not None
    assert (summary.up, summary.down, summary.unchanged, summary.new) == (1, 1, 2, 0)
    assert [(c.student, c.delta) for c in summary.largest_changes] == [("up", 10.0), ("down", -5.0)]
    flips = {item.id: item for item in summary.items}
    assert flips["hidden-dense-xavier-init"].flipped == 1
    assert sum(item.flipped for item in summary.items) == 1
    assert summary.rubric_version == load_assignment("layers").rubric.version
    after = classroom.current()
    assert all(after[sid][0] in runs and after[sid][0] != before[sid][0] for sid in subs.values())
    with session_scope(classroom.factory) as session:
        stored = session.scalar(select(func.count()).select_from(GradingRun)
                                .where(GradingRun.submission_id.in_(list(subs.values()))))
        versions = set(session.scalars(select(GradingRun.rubric_version).where(GradingRun.id.in_(runs))))
    assert stored == 8, "every run is a row: the old results are kept"
    assert versions == {summary.rubric_version}
    new_passbacks = classroom.passbacks()[old_passbacks:]
    assert sorted(sid for sid, _, _ in new_passbacks) == sorted([subs["up"], subs["down"]])


def test_preview_touches_nothing_then_publish_and_rollback(classroom: Classroom) -> None:
    subs = class_of_four(classroom)
    before = classroom.current()
    old_passbacks = len(classroom.passbacks())
    batch_id = classroom.start(preview=True)
    classroom.grade_batch(batch_id)
    view = classroom.view(batch_id)
    assert (view.state, view.publication, view.progress.changed) == ("done", "preview", 2)
    assert view.summary is not None and (view.summary.up, view.summary.down) == (1, 1)
    assert classroom.current() == before, "a preview never changes current results"
    assert len(classroom.passbacks()) == old_passbacks, "a preview never reaches the LMS"

    classroom.sent.clear()
    with dispatching_scope(classroom.factory, classroom.record) as session:
        publish_batch(session, batch_id)
    published = classroom.current()
    runs = classroom.batch_runs(batch_id)
    assert all(published[sid][0] in runs for sid in subs.values())
    new = classroom.passbacks()[old_passbacks:]
    assert sorted((sid, reason) for sid, _, reason in new) == sorted(
        [(subs["up"], "regraded"), (subs["down"], "regraded")]), "only changed scores are passed back"
    assert len(classroom.sent) == 1 and {m.kind for m in classroom.sent[0]} == {"passback"}
    assert classroom.view(batch_id).publication == "published"

    with dispatching_scope(classroom.factory, classroom.record) as session:
        rollback_batch(session, batch_id)
    assert classroom.current() == before, "rollback restores the runs the batch replaced"
    restored = classroom.passbacks()[old_passbacks + 2:]
    assert sorted((sid, run_id, reason) for sid, run_id, reason in restored) == sorted(
        [(subs["up"], before[subs["up"]][0], "rolled_back"), (subs["down"], before[subs["down"]][0], "rolled_back")])
    assert classroom.view(batch_id).publication == "rolled_back"


def test_publish_and_rollback_refuse_the_wrong_state(classroom: Classroom) -> None:
    classroom.submit("a", "full")
    batch_id = classroom.start(preview=True)
    with pytest.raises(Conflict), session_scope(classroom.factory) as session:
        publish_batch(session, batch_id)
    with pytest.raises(Conflict), session_scope(classroom.factory) as session:
        rollback_batch(session, batch_id)
    with pytest.raises(Conflict):
        classroom.start()
    classroom.grade_batch(batch_id)
    with session_scope(classroom.factory) as session:
        publish_batch(session, batch_id)
    with pytest.raises(Conflict), session_scope(classroom.factory) as session:
        publish_batch(session, batch_id)


def test_the_sweeper_stores_the_summary_of_a_batch_nobody_reads(classroom: Classroom) -> None:
    """The summary does not wait for a reader: the periodic sweep stores it once the last run has finished."""
    class_of_four(classroom)
    batch_id = classroom.start()
    with session_scope(classroom.factory) as session:
        assert batch_id not in sweep_stale_runs(session, lease_s=3600).finished_batches, "it is still running"
    for run_id in classroom.batch_runs(batch_id):
        classroom.grade(run_id)
    with session_scope(classroom.factory) as session:
        assert batch_id in sweep_stale_runs(session, lease_s=3600).finished_batches
    with session_scope(classroom.factory) as session:
        batch = session.get(RegradeBatch, batch_id)
        assert batch is not None and batch.finished_at is not None
        assert batch.summary is not None and (batch.summary["up"], batch.summary["down"]) == (1, 1)
    with session_scope(classroom.factory) as session:
        assert batch_id not in sweep_stale_runs(session, lease_s=3600).finished_batches, "stored once"


def test_a_preview_batch_leaves_the_status_counts_alone(classroom: Classroom) -> None:
    """Counts by status describe what students have; a preview's queued runs are not theirs yet."""
    class_of_four(classroom)
    with session_scope(classroom.factory) as session:
        before = list_assignments(session, course=classroom.course)[0].counts
    classroom.start(preview=True)
    with session_scope(classroom.factory) as session:
        during = list_assignments(session, course=classroom.course)[0].counts
    assert during == before and during.queued == 0
