"""How AGS answers are classified, against the test platform made to misbehave."""

from datetime import timedelta

import pytest

from grader.models import PassbackStatus
from tests.lti.conftest import LtiWorld
from tests.stack.processes import wait_until


def _delivered_users(world: LtiWorld) -> list[str]:
    return [score["userId"] for score in world.platform.gradebook.scores_received]


def test_an_expired_token_is_refreshed_once_then_the_score_delivered(lti_world: LtiWorld) -> None:
    world = lti_world
    world.submit_and_grade("student-1")
    assert [o.status for o in world.deliver_due()] == ["delivered"]
    world.platform.revoke_issued_tokens()
    world.submit_and_grade("student-2")
    [outcome] = world.deliver_due()
    assert (outcome.status, outcome.attempts) == ("delivered", 1), outcome
    assert world.platform.counters.token_requests == 2, "one refresh after the 401, not one per score"
    assert _delivered_users(world) == ["student-1", "student-2"]


@pytest.mark.parametrize("status,headers", [(429, {"Retry-After": "1"}),
                                            (403, {"X-Rate-Limit-Remaining": "0", "Retry-After": "1"})])
def test_a_throttled_score_waits_as_told_then_is_delivered(lti_world: LtiWorld, status: int,
                                                           headers: dict[str, str]) -> None:
    world = lti_world
    world.submit_and_grade("student-1")
    world.platform.faults.score_answers.append((status, headers))
    [first] = world.deliver_due()
    assert (first.status, first.status_code) == ("pending", status) and "throttled" in (first.error or "")
    [row] = world.passbacks()
    assert row.next_attempt_at and row.last_attempt_at
    assert 0.9 <= (row.next_attempt_at - row.last_attempt_at).total_seconds() <= 1.1, "Retry-After, not backoff"
    early = row.last_attempt_at + timedelta(seconds=0.5)
    assert world.deliver_due(at=early) == [], "not due before the wait the platform asked for"
    wait_until(lambda: any(o.status == "delivered" for o in world.deliver_due(after_s=2)), timeout_s=60,
               what="the throttled score delivered", poll_s=0.3)
    assert _delivered_users(world) == ["student-1"]
    assert world.platform.counters.score_posts == 2, "nothing was sent while the platform's wait lasted"
    [row] = world.passbacks()
    assert (row.status, row.attempts) == ("delivered", 2), "waiting out the throttle costs no attempt"


def test_a_platform_failing_twice_then_recovering_gets_the_score_once(lti_world: LtiWorld) -> None:
    world = lti_world
    world.submit_and_grade("student-1")
    world.platform.faults.score_answers.extend([(500, {}), (500, {})])
    assert [o.status for o in world.deliver_due()] == ["pending"]
    assert world.deliver_due() == [], "the outbox's backoff applies"
    assert [o.status for o in world.deliver_due(after_s=3600)] == ["pending"]
    assert [o.status for o in world.deliver_due(after_s=7200)] == ["delivered"]
    assert world.deliver_due(after_s=99999) == []
    [row] = world.passbacks()
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 3, 200)
    assert _delivered_users(world) == ["student-1"] and world.platform.counters.score_posts == 3


def test_a_refusal_is_final_visible_to_instructors_and_blocks_no_other_score(lti_world: LtiWorld) -> None:
    world = lti_world
    world.submit_and_grade("student-1")
    world.submit_and_grade("student-2")
    world.platform.faults.score_answers.append((422, {}))
    outcomes = world.deliver_due()
    assert sorted(o.status for o in outcomes) == ["delivered", "failed"]
    failed = next(o for o in outcomes if o.status == "failed")
    assert failed.status_code == 422 and "injected HTTP 422" in (failed.error or "")
    assert world.deliver_due(after_s=99999) == []
    submission_id = next(row.submission_id for row in world.passbacks() if row.id == failed.delivery_id)
    view = world.browser.get(f"{world.tool_base}/api/v1/submissions/{submission_id}",
                             headers={"Authorization": f"Bearer {world.instructor_token}"}).json()
    [shown] = view["passbacks"]
    assert shown["status"] == PassbackStatus.FAILED.value and shown["last_status_code"] == 422
    assert shown["channel"] == "lti_ags"
    assert "injected HTTP 422" in shown["last_error"] and "not retried" in shown["last_error"]
    assert len(_delivered_users(world)) == 1


def test_a_403_without_rate_limit_headers_is_final(lti_world: LtiWorld) -> None:
    world = lti_world
    world.submit_and_grade("student-1")
    world.platform.faults.score_answers.append((403, {}))
    [outcome] = world.deliver_due()
    assert (outcome.status, outcome.status_code) == ("failed", 403)


def test_a_resend_by_hand_goes_through_ags_again(lti_world: LtiWorld) -> None:
    world = lti_world
    submission_id = world.submit_and_grade("student-1")
    world.platform.faults.score_answers.append((400, {}))
    assert [o.status for o in world.deliver_due()] == ["failed"]
    resend = world.browser.post(f"{world.tool_base}/api/v1/submissions/{submission_id}/passback",
                                headers={"Authorization": f"Bearer {world.instructor_token}"})
    assert resend.status_code == 202 and resend.json()["reason"] == "resend"
    assert [o.status for o in world.deliver_due()] == ["delivered"]
    assert _delivered_users(world) == ["student-1"]
