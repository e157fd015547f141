"""200 scores in one batch, sent by two workers, cost one token request per token lifetime, not 200."""

import hashlib
from datetime import timedelta

from grader.db import session_scope
from grader.models import GradingRun, LtiLaunch, LtiPlatform, LtiSubmissionLink, RunStatus, Submission
from grader.models.base import utcnow
from grader.services.outbox import courier_from_settings, deliver_due_passbacks, record_passback
from tests.lti.conftest import LtiWorld

STUDENTS = 200
SCOPES = ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
          "https://purl.imsglobal.org/spec/lti-ags/scope/score"]


def _graded_class(world: LtiWorld, count: int) -> None:
    """Stored results of `count` students who launched the same link: what a graded batch leaves in the outbox."""
    with session_scope(world.factory) as session:
        platform = session.query(LtiPlatform).filter_by(course_id=world.course).one()
        for number in range(count):
            user = f"student-{number:03d}"
            launch = LtiLaunch(platform_id=platform.id, deployment_id=world.platform.deployment_id,
                               resource_link_id="rl-batch", lti_user_id=user, course=world.course,
                               assignment="layers", student=user, ags_scopes=SCOPES,
                               lineitems_url=f"{world.platform.base_url}/lineitems")
            content = f"# {user}\n".encode()
            submission = Submission(assignment="layers", student=user, filename="layers_dev.py", content=content,
                                    sha256=hashlib.sha256(content).hexdigest(), size_bytes=len(content),
                                    course=world.course, external_id=f"batch-{number}")
            session.add_all([launch, submission])
            session.flush()
            session.add(LtiSubmissionLink(submission_id=submission.id, launch_id=launch.id))
            run = GradingRun(submission=submission, rubric_version="v1", status=RunStatus.GRADED.value,
                             score=float(number % 91), max_score=90.0, finished_at=utcnow(), is_current=True)
            session.add(run)
            session.flush()
            assert record_passback(session, run) is not None


def test_two_hundred_scores_cost_one_token_request(lti_world: LtiWorld) -> None:
    world = lti_world
    _graded_class(world, STUDENTS)
    second_worker = courier_from_settings(world.settings)
    with session_scope(world.factory) as session:
        first = deliver_due_passbacks(session, courier=world.courier, limit=STUDENTS // 2)
    with session_scope(world.factory) as session:
        second = deliver_due_passbacks(session, courier=second_worker, limit=STUDENTS,
                                       now=utcnow() + timedelta(seconds=1))
    assert [o.status for o in first + second] == ["delivered"] * STUDENTS
    counters = world.platform.counters
    print(f"\n{STUDENTS} scores by two workers: {counters.token_requests} token request(s), "
          f"{counters.score_posts} score posts, {len(world.platform.gradebook.lineitems)} line item(s)")
    assert counters.token_requests == 1
    assert counters.score_posts == STUDENTS and len(world.platform.gradebook.lineitems) == 1
    [lineitem] = world.platform.gradebook.lineitems
    results = {r["userId"]: r["resultScore"] for r in world.platform.results(lineitem)}
    assert results == {f"student-{n:03d}": float(n % 91) for n in range(STUDENTS)}
