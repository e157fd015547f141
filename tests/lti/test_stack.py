"""The LTI flow with real processes: `grader serve`, `grader worker` and the passback relay, registered with the
CLI, against the test platform; the platform fails the score twice and the relay delivers it once."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.stack import ApiStack, api_stack
from tests.conftest import EXAMPLE_SOLUTION
from tests.lti.conftest import form_fields
from tests.lti.platform import TestPlatform
from tests.stack.processes import free_port, wait_until

SECRET = "lti-stack-passback-secret-0a1b2c3d"


@pytest.fixture
def deployment(postgres_server_url: str, tmp_path: Path, lti_redis: str) -> Iterator[tuple[ApiStack, TestPlatform]]:
    port = free_port()
    tool_base = f"http://127.0.0.1:{port}"
    env = {"GRADER_LTI_PUBLIC_URL": tool_base, "GRADER_PASSBACK_RETRY_BASE_S": "0.5",
           "GRADER_PASSBACK_RETRY_MAX_S": "2", "GRADER_PASSBACK_MAX_ATTEMPTS": "6"}
    with api_stack(postgres_server_url, tmp_path, broker_url=lti_redis, secret=SECRET, extra_env=env) as stack:
        stack.api_port = port
        platform = TestPlatform(tool_base=tool_base)
        with platform.serving():
            yield stack, platform


def test_a_launch_and_an_upload_reach_the_gradebook_through_real_workers(
        deployment: tuple[ApiStack, TestPlatform]) -> None:
    stack, platform = deployment
    stack.run("courses", "create", "cs-lti")
    urls = platform.urls
    registered = stack.run("lti", "register", "--course", "cs-lti", "--issuer", urls["issuer"], "--client-id",
                           urls["client_id"], "--deployment-id", platform.deployment_id, "--auth-login-url",
                           urls["auth_login_url"], "--token-url", urls["token_url"], "--jwks-url", urls["jwks_url"])
    assert "registered platform" in registered
    stack.start_all()
    platform.faults.score_answers.extend([(500, {}), (500, {})])
    with httpx.Client(follow_redirects=True, timeout=60) as browser:
        form = browser.get(f"{platform.base_url}/launch", params={"user": "student-9"})
        action, fields = form_fields(form.text)
        page = browser.post(action, data=fields)
        assert page.status_code == 200 and 'id="lti-upload"' in page.text, page.text
        action, fields = form_fields(page.text)
        receipt = browser.post(action, data=fields, files={"file": ("layers_dev.py", EXAMPLE_SOLUTION.read_bytes())})
        assert receipt.status_code == 202, receipt.text

    def in_gradebook() -> bool:
        stack.check_alive()
        return bool(platform.gradebook.results)

    wait_until(in_gradebook, timeout_s=180, what="the score in the platform's gradebook", poll_s=0.5)
    [lineitem] = platform.gradebook.lineitems
    [result] = platform.results(lineitem)
    assert (result["userId"], result["resultScore"], result["resultMaximum"]) == ("student-9", 90.0, 90.0)
    [score] = platform.gradebook.scores_received
    assert (score["activityProgress"], score["gradingProgress"]) == ("Completed", "FullyGraded")
    assert platform.counters.score_posts == 3, "failed twice, then delivered once"
    assert platform.counters.token_requests == 1, "the worker and the relay share the cached token"
