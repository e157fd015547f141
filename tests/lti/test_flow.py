"""The whole LTI flow against a platform nobody on the team wrote: login, launch, submit, grade, score, gradebook."""

from tests.lti.conftest import LtiWorld


def test_launch_submit_grade_and_the_score_is_in_the_gradebook(lti_world: LtiWorld) -> None:
    world = lti_world
    page = world.launch("student-1")
    assert page.status_code == 200, page.text
    assert 'id="lti-upload"' in page.text and "layers" in page.text
    receipt = world.submit(page.text)
    assert receipt.status_code == 202, receipt.text
    assert world.grade_queued()
    outcomes = world.deliver_due()
    assert [o.status for o in outcomes] == ["delivered"], outcomes
    [lineitem] = world.platform.gradebook.lineitems
    results = world.platform.results(lineitem)
    assert len(results) == 1
    print(results, world.platform.gradebook.scores_received)
