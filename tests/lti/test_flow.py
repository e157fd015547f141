"""The whole LTI flow against a platform nobody on the team wrote: login, launch, submit, grade, score, gradebook."""

from datetime import datetime

from sqlalchemy import select

from grader.db import session_scope
from grader.models import LtiSubmissionLink, Submission, TokenRole
from grader.services.courses import create_course
from grader.services.tokens import create_token
from tests.conftest import EXAMPLE_SOLUTION
from tests.lti.conftest import LtiWorld


def test_launch_submit_grade_and_the_score_is_in_the_gradebook(lti_world: LtiWorld) -> None:
    world = lti_world
    submission_id = world.submit_and_grade("student-1")
    run = world.current_run(submission_id)
    assert run.status == "graded" and run.score is not None and run.max_score
    [row] = world.passbacks()
    assert (row.channel, row.status, row.run_id) == ("lti_ags", "pending", run.id)
    assert [o.status for o in world.deliver_due()] == ["delivered"]

    [lineitem] = world.platform.gradebook.lineitems.values()
    assert lineitem["resourceLinkId"] == "rl-1" and lineitem["tag"] == "tinytorch-grader:layers"
    [result] = world.platform.results(lineitem["id"])
    assert (result["userId"], result["resultScore"], result["resultMaximum"]) == ("student-1", run.score,
                                                                                  run.max_score)
    [score] = world.platform.gradebook.scores_received
    assert (score["activityProgress"], score["gradingProgress"]) == ("Completed", "FullyGraded")
    assert datetime.fromisoformat(score["timestamp"]) == run.finished_at
    assert f"Autograded {run.score:g}/{run.max_score:g}" in score["comment"] and "matmul" in score["comment"]
    with session_scope(world.factory) as session:
        link = session.scalars(select(LtiSubmissionLink).where(LtiSubmissionLink.submission_id == submission_id)).one()
        assert (link.launch.lti_user_id, link.launch.lineitem_url) == ("student-1", lineitem["id"])
        assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in link.launch.ags_scopes
    assert world.platform.counters.token_requests == 1


def test_relaunches_and_classmates_share_one_line_item_found_before_created(lti_world: LtiWorld) -> None:
    world = lti_world
    world.submit_and_grade("student-1")
    world.deliver_due()
    world.submit_and_grade("student-2")
    world.submit_and_grade("student-1", content=EXAMPLE_SOLUTION.read_bytes() + b"\n# second try\n")
    world.deliver_due()
    assert len(world.platform.gradebook.lineitems) == 1
    [lineitem] = world.platform.gradebook.lineitems
    assert {r["userId"] for r in world.platform.results(lineitem)} == {"student-1", "student-2"}


def test_a_link_that_names_its_line_item_gets_the_score_there(lti_world: LtiWorld) -> None:
    world = lti_world
    item = world.platform.gradebook.lineitem_id("77")
    world.platform.gradebook.lineitems[item] = {"id": item, "label": "set by the LMS", "scoreMaximum": 100}
    world.submit_and_grade("student-1", lineitem=item)
    assert [o.status for o in world.deliver_due()] == ["delivered"]
    assert list(world.platform.gradebook.lineitems) == [item]
    assert [r["userId"] for r in world.platform.results(item)] == ["student-1"]


def test_an_instructor_launch_shows_no_upload_form(lti_world: LtiWorld) -> None:
    page = lti_world.launch("teacher-1", role="instructor")
    assert page.status_code == 200 and 'id="lti-staff"' in page.text and "lti-upload" not in page.text


def test_an_upload_without_a_valid_launch_token_is_refused_with_a_page(lti_world: LtiWorld) -> None:
    world = lti_world
    page = world.launch("student-1")
    forged = page.text.replace('name="upload_token" value="', 'name="upload_token" value="x')
    answer = world.submit(forged)
    assert answer.status_code == 403 and "no longer valid" in answer.text
    assert world.passbacks() == [] and world.dispatcher.messages == []


def test_a_file_that_is_not_a_submission_is_refused_and_nothing_is_stored(lti_world: LtiWorld) -> None:
    world = lti_world
    page = world.launch("student-1")
    answer = world.submit(page.text, content=b"\x00\x01 not python")
    assert answer.status_code == 422 and "not accepted" in answer.text
    assert world.dispatcher.messages == []


def test_one_client_id_serves_two_courses_by_their_deployments(lti_world: LtiWorld) -> None:
    world = lti_world
    other = f"{world.course}-b"
    with session_scope(world.factory) as session:
        create_course(session, other)
        token = create_token(session, course=other, role=TokenRole.INSTRUCTOR).token
    body = {**world.platform.urls, "deployment_ids": ["dep-2"]}
    answer = world.browser.post(f"{world.tool_base}/api/v1/lti/platforms", json=body,
                                headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 201, answer.text
    taken = world.browser.post(f"{world.tool_base}/api/v1/lti/platforms",
                               json={**body, "deployment_ids": [world.platform.deployment_id]},
                               headers={"Authorization": f"Bearer {token}"})
    assert taken.status_code == 409 and "belongs to one course" in taken.json()["detail"]
    first = world.submit_and_grade("student-1")
    second = world.submit_and_grade("student-1", deployment="dep-2")
    with session_scope(world.factory) as session:
        courses = {sid: session.get(Submission, sid).course for sid in (first, second)}  # type: ignore[union-attr]
    assert courses == {first: world.course, second: other}
