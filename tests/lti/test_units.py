"""Pieces of the LTI channel on their own: answer classification, tool keys, the shared token cache."""

import threading
import uuid
from datetime import timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from sqlalchemy.orm import Session, sessionmaker

from grader.db import session_scope
from grader.errors import ToolKeyUnavailable
from grader.lti.access_tokens import AccessTokens, MemoryTokenStore, RedisTokenStore
from grader.lti.answers import retry_after_s
from grader.lti.keys import rotate_tool_key, signing_key, tool_jwks
from grader.models import LtiPlatform
from grader.models.base import utcnow
from grader.passback.ags import AgsChannel
from grader.passback.ags_score import scores_url
from grader.runtime_context import session_factory
from grader.services.courses import create_course
from tests.lti.conftest import lti_settings


def _answer(status: int, headers: dict[str, str] | None = None, json: object | None = None) -> httpx.Response:
    return httpx.Response(status, headers=headers or {}, json=json if json is not None else {"message": "nope"})


CHANNEL = AgsChannel(tokens=AccessTokens(settings=None, store=MemoryTokenStore(), client=httpx.Client()),  # type: ignore[arg-type]
                     client=httpx.Client())


@pytest.mark.parametrize("status,headers,retryable,wait", [
    (200, {}, False, None), (201, {}, False, None), (204, {}, False, None),
    (429, {"Retry-After": "7"}, True, 7.0),
    (429, {}, True, 60.0),
    (403, {"X-Rate-Limit-Remaining": "0"}, True, 60.0),
    (403, {"X-Rate-Limit-Remaining": "0.0", "Retry-After": "3"}, True, 3.0),
    (403, {"X-Rate-Limit-Remaining": "412.5"}, False, None),
    (403, {}, False, None),
    (500, {}, True, None), (502, {}, True, None), (503, {"Retry-After": "2"}, True, None),
    (400, {}, False, None), (404, {}, False, None), (422, {}, False, None), (401, {}, False, None),
])
def test_every_answer_is_delivered_retried_after_a_wait_retried_with_backoff_or_final(
        status: int, headers: dict[str, str], retryable: bool, wait: float | None) -> None:
    answer = CHANNEL.classify(_answer(status, headers))
    assert (answer.error is None) == (200 <= status < 300)
    assert (answer.retryable, answer.retry_after_s) == (retryable, wait)
    if status >= 400 and not retryable:
        assert "nope" in (answer.error or ""), "the platform's own message is kept for instructors"


def test_retry_after_as_an_http_date_and_nonsense() -> None:
    later = format_datetime(utcnow() + timedelta(seconds=120), usegmt=True)
    seconds = retry_after_s(_answer(429, {"Retry-After": later}))
    assert seconds is not None and 60 <= seconds <= 120
    assert retry_after_s(_answer(429, {"Retry-After": "soon"})) is None
    assert retry_after_s(_answer(429, {"Retry-After": "999999"})) == 3600.0


def test_the_scores_url_keeps_the_line_items_query() -> None:
    assert scores_url("https://lms.example/api/lti/courses/1/line_items/5") == (
        "https://lms.example/api/lti/courses/1/line_items/5/scores")
    assert scores_url("https://lms.example/mod/lti/services.php/2/lineitems/3/lineitem?type_id=1") == (
        "https://lms.example/mod/lti/services.php/2/lineitems/3/lineitem/scores?type_id=1")


@pytest.fixture
def lti_factory(lti_database: str, lti_redis: str) -> sessionmaker[Session]:
    return session_factory(lti_settings(lti_database, "http://127.0.0.1:1", lti_redis))


def test_tool_keys_are_encrypted_rotated_and_kept_in_the_jwks_for_the_overlap(
        lti_database: str, lti_redis: str, lti_factory: sessionmaker[Session]) -> None:
    settings = lti_settings(lti_database, "http://127.0.0.1:1", lti_redis)
    with session_scope(lti_factory) as session:
        old = rotate_tool_key(session, settings)
        assert "PRIVATE KEY" not in old.private_key_encrypted
        new = rotate_tool_key(session, settings)
        assert signing_key(session, settings).kid == new.kid
        kids = [key["kid"] for key in tool_jwks(session, settings)["keys"]]
        assert kids[:2] == [new.kid, old.kid] and all("d" not in key for key in tool_jwks(session, settings)["keys"])
        assert old.kid not in [k["kid"] for k in tool_jwks(session, settings.model_copy(
            update={"lti_key_overlap_hours": 0.0}))["keys"]]
        with pytest.raises(ToolKeyUnavailable, match="cannot be decrypted"):
            signing_key(session, settings.model_copy(update={"passback_secret": "another-secret-0123456789"}))


def test_workers_sharing_redis_ask_the_platform_for_one_token(lti_database: str, lti_redis: str,
                                                               lti_factory: sessionmaker[Session]) -> None:
    settings = lti_settings(lti_database, "http://127.0.0.1:1", lti_redis)
    requests: list[httpx.Request] = []

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"access_token": f"t-{len(requests)}", "expires_in": 3600})

    course = f"u-{uuid.uuid4().hex[:8]}"
    with session_scope(lti_factory) as session:
        create_course(session, course)
        rotate_tool_key(session, settings)
        platform = LtiPlatform(course_id=course, issuer=f"https://{course}.example", client_id="c",
                               deployment_ids=["d"], auth_login_url="https://x.example/auth",
                               token_url="https://x.example/token", jwks_url="https://x.example/jwks")
        session.add(platform)
    workers = [AccessTokens(settings=settings, store=RedisTokenStore(lti_redis),
                            client=httpx.Client(transport=httpx.MockTransport(token_endpoint))) for _ in range(4)]
    got: list[str] = []

    def score(worker: AccessTokens) -> None:
        with session_scope(lti_factory) as session:
            mine = session.get(LtiPlatform, platform.id)
            assert mine is not None
            got.append(worker.token(session, mine, ["s"]))

    threads = [threading.Thread(target=score, args=(workers[n % 4],)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert got == ["t-1"] * 16 and len(requests) == 1
    form = {name: values[0] for name, values in parse_qs(requests[0].content.decode()).items()}
    assert form["grant_type"] == "client_credentials" and "jwt-bearer" in form["client_assertion_type"]
    with session_scope(lti_factory) as session:
        published = tool_jwks(session, settings)["keys"][0]
    claims = jwt.decode(form["client_assertion"], jwt.PyJWK(published), algorithms=["RS256"],
                        audience="https://x.example/token")
    assert (claims["iss"], claims["sub"]) == ("c", "c") and claims["jti"]
    with session_scope(lti_factory) as session:
        mine = session.get(LtiPlatform, platform.id)
        assert mine is not None
        assert workers[0].token(session, mine, ["s"], refused="t-1") == "t-2", "a refused token is replaced"
        assert workers[1].token(session, mine, ["s"], refused="t-1") == "t-2", "and only once"
    assert len(requests) == 2
