"""Launch validation: signatures from the platform's (rotating) JWKS, single-use state and nonce, every claim."""

import html

import pytest

from grader.lti.launch import CLAIM
from tests.lti.conftest import LtiWorld, form_fields


def test_a_rotated_platform_key_is_fetched_from_its_jwks(lti_world: LtiWorld) -> None:
    world = lti_world
    assert world.launch("student-1").status_code == 200
    assert world.platform.counters.jwks_fetches == 1
    assert world.launch("student-2").status_code == 200
    assert world.platform.counters.jwks_fetches == 1, "the JWKS is cached between launches"
    world.platform.rotate_key()
    page = world.launch("student-1")
    assert page.status_code == 200 and 'id="lti-upload"' in page.text, page.text
    assert world.platform.counters.jwks_fetches == 2, "an unknown kid refetches the JWKS once"


def test_a_replayed_launch_post_is_rejected(lti_world: LtiWorld) -> None:
    world = lti_world
    form = world.launch_form("student-1")
    assert world.post_launch(form.text).status_code == 200
    replay = world.post_launch(form.text)
    assert replay.status_code == 400 and "already used" in replay.text


def test_a_replayed_id_token_with_a_fresh_state_is_rejected_by_its_nonce(lti_world: LtiWorld) -> None:
    world = lti_world
    first = world.launch_form("student-1")
    assert world.post_launch(first.text).status_code == 200
    _, old = form_fields(first.text)
    fresh = world.launch_form("student-1")
    replay = world.post_launch(fresh.text, id_token=old["id_token"])
    assert replay.status_code == 401 and "nonce" in replay.text
    assert world.post_launch(fresh.text).status_code == 400, "the state was used up by the failed attempt"


@pytest.mark.parametrize("claims,words", [
    ({"aud": "some-other-tool"}, "another tool"),
    ({"iss": "https://evil.example"}, "not issued by"),
    ({"azp": "some-other-tool"}, "azp"),
    ({CLAIM + "message_type": "LtiDeepLinkingRequest"}, "only LtiResourceLinkRequest"),
    ({CLAIM + "version": "1.1"}, "only LTI 1.3.0"),
    ({CLAIM + "custom": {"assignment": "nonexistent"}}, "does not grade assignment"),
])
def test_a_launch_with_a_wrong_claim_is_rejected_with_a_clear_page(lti_world: LtiWorld, claims: dict[str, object],
                                                                  words: str) -> None:
    world = lti_world
    world.platform.faults.launch_claims = claims
    page = world.launch("student-1")
    assert page.status_code in (400, 401, 404) and words in html.unescape(page.text), page.text
    assert "lti-upload" not in page.text


def test_an_expired_id_token_is_rejected(lti_world: LtiWorld) -> None:
    world = lti_world
    world.platform.id_token_expiration = -3600
    page = world.launch("student-1")
    assert page.status_code == 401 and "expired" in page.text


def test_an_unknown_deployment_is_rejected_at_login_with_a_clear_page(lti_world: LtiWorld) -> None:
    page = lti_world.launch_form("student-1", deployment="dep-unknown")
    assert page.status_code == 403
    assert "deployment 'dep-unknown'" in html.unescape(page.text) and "is not registered" in page.text


def test_an_unknown_deployment_in_the_id_token_is_rejected(lti_world: LtiWorld) -> None:
    world = lti_world
    world.platform.faults.launch_claims = {CLAIM + "deployment_id": "dep-unknown"}
    page = world.launch("student-1")
    assert page.status_code == 403 and "deployment 'dep-unknown'" in html.unescape(page.text)


def test_a_login_from_an_unregistered_issuer_is_rejected(lti_world: LtiWorld) -> None:
    world = lti_world
    page = world.browser.get(f"{world.tool_base}/lti/login", params={
        "iss": "https://unknown.example", "login_hint": "u", "target_link_uri": f"{world.tool_base}/lti/launch"})
    assert page.status_code == 403 and "no LTI registration for issuer" in page.text


def test_a_login_naming_another_target_is_rejected(lti_world: LtiWorld) -> None:
    world = lti_world
    page = world.browser.post(f"{world.tool_base}/lti/login", data={
        "iss": world.platform.issuer, "login_hint": "u", "client_id": world.platform.client_id,
        "target_link_uri": "https://elsewhere.example/launch"})
    assert page.status_code == 400 and "is not this grader" in page.text


def test_a_launch_without_a_login_is_rejected(lti_world: LtiWorld) -> None:
    world = lti_world
    page = world.browser.post(f"{world.tool_base}/lti/launch", data={"id_token": "x.y.z", "state": "made-up"})
    assert page.status_code == 400 and "unknown state" in page.text


def test_the_tool_jwks_and_urls_are_public(lti_world: LtiWorld) -> None:
    world = lti_world
    keys = world.browser.get(f"{world.tool_base}/lti/jwks.json").json()["keys"]
    assert keys and all(key["kid"] and key["kty"] == "RSA" and "d" not in key for key in keys)
    config = world.browser.get(f"{world.tool_base}/lti/config").json()
    assert config == {"login_url": f"{world.tool_base}/lti/login", "launch_url": f"{world.tool_base}/lti/launch",
                      "jwks_url": f"{world.tool_base}/lti/jwks.json"}
