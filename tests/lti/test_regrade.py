"""A regrade publish passes back exactly the changed scores, through AGS; a preview sends nothing."""

from sqlalchemy import select

from grader.db import session_scope
from grader.models import GradingRun
from grader.services.queueing import dispatching_scope
from grader.services.regrade import RegradeRequest, publish_batch, start_batch
from tests.lti.conftest import LtiWorld


def _age(world: LtiWorld, submission_id: str, delta: float) -> None:
    """The current result as if graded under an older rubric with another score (the regrade changes it back)."""
    with session_scope(world.factory) as session:
        run = session.scalars(select(GradingRun).where(GradingRun.submission_id == submission_id,
                                                       GradingRun.is_current)).one()
        run.rubric_version, run.score = "old-rubric", (run.score or 0.0) + delta


def test_a_published_regrade_posts_only_the_changed_scores(lti_world: LtiWorld) -> None:
    world = lti_world
    students = {user: world.submit_and_grade(user) for user in ("s-1", "s-2", "s-3")}
    assert len(world.deliver_due()) == 3
    world.platform.gradebook.scores_received.clear()
    _age(world, students["s-1"], -10)
    _age(world, students["s-3"], -5)
    with dispatching_scope(world.factory, world.dispatcher) as session:
        batch_id = start_batch(session, RegradeRequest(assignment="layers", course=world.course, preview=True)).id
    assert len(world.grade_queued()) == 3
    assert world.deliver_due() == [], "a preview passes nothing back"
    with dispatching_scope(world.factory, world.dispatcher) as session:
        publish_batch(session, batch_id)
    outcomes = world.deliver_due()
    assert sorted(o.status for o in outcomes) == ["delivered", "delivered"]
    posted = {score["userId"]: score for score in world.platform.gradebook.scores_received}
    assert sorted(posted) == ["s-1", "s-3"], "s-2's score did not change, so it is not sent again"
    for user in ("s-1", "s-3"):
        run = world.current_run(students[user])
        assert run.batch_id == batch_id and posted[user]["scoreGiven"] == run.score
    [lineitem] = world.platform.gradebook.lineitems
    assert {r["userId"]: r["resultScore"] for r in world.platform.results(lineitem)} == {
        user: world.current_run(sid).score for user, sid in students.items()}
