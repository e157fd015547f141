"""Over HTTP with real processes (Postgres, Redis, `grader serve`, `grader worker`, the passback relay): submit,
poll, and receive the signed score at a local LMS, including one that fails twice before it recovers."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import redis_url
from tests.api.stack import ApiStack, FakeLmsServer, api_stack, wait_until
from tests.conftest import EXAMPLE_SOLUTION, SUBMISSIONS

E2E_REDIS_DB = 12
SECRET = "e2e-passback-secret-9f8e7d6c5b4a"


@pytest.fixture
def stack(postgres_server_url: str, tmp_path: Path) -> Iterator[ApiStack]:
    env = {"GRADER_PASSBACK_RETRY_BASE_S": "0.5", "GRADER_PASSBACK_RETRY_MAX_S": "2",
           "GRADER_PASSBACK_MAX_ATTEMPTS": "6", "GRADER_SUBMIT_BURST": "100"}
    with api_stack(postgres_server_url, tmp_path, broker_url=redis_url(E2E_REDIS_DB), secret=SECRET,
                   extra_env=env) as built:
        yield built


def _token(stack: ApiStack, course: str, role: str) -> str:
    return stack.run("tokens", "create", "--course", course, "--role", role).strip().splitlines()[-1]


def _submit(client: httpx.Client, token: str, external_id: str, content: bytes, callback_url: str) -> str:
    response = client.post("/api/v1/submissions", headers={"Authorization": f"Bearer {token}"},
                           data={"assignment": "layers", "student": f"u-{external_id}", "external_id": external_id,
                                 "callback_url": callback_url}, files={"file": ("layers_dev.py", content)})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def _poll_graded(stack: ApiStack, client: httpx.Client, token: str, submission_id: str) -> dict[str, object]:
    found: dict[str, object] = {}

    def graded() -> bool:
        stack.check_alive()
        found.update(client.get(f"/api/v1/submissions/{submission_id}",
                                headers={"Authorization": f"Bearer {token}"}).json())
        return found.get("status") == "graded"

    wait_until(graded, timeout_s=120, what=f"submission {submission_id} was not graded", poll_s=0.5)
    return found


def test_submit_poll_and_receive_the_signed_score(stack: ApiStack) -> None:
    lms = FakeLmsServer(SECRET, fail_first={"/flaky": 2})
    try:
        stack.run("courses", "create", "cs-e2e")
        lms_token, staff_token = _token(stack, "cs-e2e", "lms"), _token(stack, "cs-e2e", "instructor")
        stack.start_all()
        with httpx.Client(base_url=stack.api_url, timeout=30) as client:
            steady = _submit(client, lms_token, "ext-1", EXAMPLE_SOLUTION.read_bytes(), lms.url("/steady"))
            flaky = _submit(client, lms_token, "ext-2", (SUBMISSIONS / "bias_ignored.py").read_bytes(),
                            lms.url("/flaky"))
            assert _poll_graded(stack, client, lms_token, steady)["score"] == 90
            assert _poll_graded(stack, client, lms_token, flaky)["score"] == 75
            wait_until(lambda: bool(lms.accepted("/steady") and lms.accepted("/flaky")), timeout_s=60,
                       what="both LMS callbacks were not accepted")
            _check_callbacks(lms, steady, flaky)
            _check_regrade_and_resend(stack, client, staff_token, lms, steady)
    finally:
        lms.close()


def _check_callbacks(lms: FakeLmsServer, steady: str, flaky: str) -> None:
    assert all(call.signature_ok for call in lms.received)
    [steady_call] = lms.accepted("/steady")
    assert steady_call.body["submission_id"] == steady and steady_call.body["score"] == 90
    assert [call.answered for call in lms.attempts("/flaky")] == [500, 500, 200], "failed twice, then once only"
    assert lms.accepted("/flaky")[0].body["submission_id"] == flaky
    assert lms.accepted("/flaky")[0].body["score"] == 75


def _check_regrade_and_resend(stack: ApiStack, client: httpx.Client, staff_token: str, lms: FakeLmsServer,
                              steady: str) -> None:
    """A late regrade delivers its new run's score; a resend by hand (CLI) delivers the current one again."""
    headers = {"Authorization": f"Bearer {staff_token}"}
    regrade = client.post(f"/api/v1/submissions/{steady}/regrade", headers=headers)
    assert regrade.status_code == 202
    new_run = regrade.json()["run_id"]
    wait_until(lambda: any(c.body["run_id"] == new_run for c in lms.accepted("/steady")), timeout_s=120,
               what="the regrade's score was not passed back")
    assert "delivered" in stack.run("passback", "resend", steady)
    resent = lms.accepted("/steady")[-1]
    assert resent.body["run_id"] == new_run and len(lms.accepted("/steady")) == 3
    view = client.get(f"/api/v1/submissions/{steady}", headers=headers).json()
    assert [p["status"] for p in view["passbacks"]] == ["delivered"] * 3
    assert len(view["runs"]) == 2 and view["current_run_id"] == new_run
