"""Callbacks reach public addresses and the networks an operator lists, never the grader's own neighbourhood."""

import ipaddress
import socket
from collections.abc import Iterator

import httpx
import pytest

from grader.db import session_scope
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner
from grader.services.callback_guard import CallbackPolicy, CallbackRefused, PinnedTransport
from grader.services.outbox import Courier, deliver_run_passbacks
from tests.api.conftest import PASSBACK_SECRET, ApiWorld, api_settings, build_world, grade_now, submit

PRIVATE_CALLBACKS = ["http://127.0.0.1:8080/hook", "http://169.254.169.254/latest/meta-data", "http://10.1.2.3/x",
                     "http://[::1]/x", "http://[::ffff:127.0.0.1]/x", "http://0.0.0.0/x", "http://192.168.0.10/x"]


class RecordingTransport(httpx.BaseTransport):
    """Stands in for the network: records what the pinned transport would connect to."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200)


def _resolving(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in answers[host]]
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
                                     "::1", "fe80::1", "fd00::1", "::ffff:10.0.0.1", "0.0.0.0", "224.0.0.1"])
def test_private_loopback_link_local_and_multicast_are_refused(address: str) -> None:
    assert not CallbackPolicy().permits(ipaddress.ip_address(address))


def test_public_addresses_and_listed_networks_are_permitted() -> None:
    assert CallbackPolicy().permits(ipaddress.ip_address("93.184.216.34"))
    assert CallbackPolicy().permits(ipaddress.ip_address("2606:2800:220:1::1"))
    campus = CallbackPolicy.from_cidrs(["10.20.0.0/16"])
    assert campus.permits(ipaddress.ip_address("10.20.3.4")) and not campus.permits(ipaddress.ip_address("10.21.0.1"))


def test_delivery_connects_to_the_checked_address_with_the_callbacks_own_name(monkeypatch: pytest.MonkeyPatch) -> None:
    _resolving(monkeypatch, {"lms.example": ["93.184.216.34"]})
    inner = RecordingTransport()
    with httpx.Client(transport=PinnedTransport(CallbackPolicy(), inner)) as client:
        assert client.post("https://lms.example/grades", content=b"{}").status_code == 200
    sent = inner.requests[0]
    assert sent.url.host == "93.184.216.34" and sent.headers["host"] == "lms.example"
    assert sent.extensions["sni_hostname"] == "lms.example"


def test_a_name_with_any_private_answer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _resolving(monkeypatch, {"rebind.example": ["93.184.216.34", "127.0.0.1"]})
    inner = RecordingTransport()
    with httpx.Client(transport=PinnedTransport(CallbackPolicy(), inner)) as client, \
            pytest.raises(CallbackRefused, match=r"127\.0\.0\.1"):
        client.post("http://rebind.example/grades", content=b"{}")
    assert inner.requests == []


@pytest.fixture
def strict_world(api_database: str) -> Iterator[ApiWorld]:
    """The production default: no private network allowed."""
    world = build_world(api_database, passback_allowed_networks=[])
    with world.client:
        yield world


@pytest.mark.parametrize("callback_url", PRIVATE_CALLBACKS)
def test_an_upload_with_a_private_callback_is_rejected_and_stores_nothing(strict_world: ApiWorld,
                                                                         callback_url: str) -> None:
    response = submit(strict_world.client, strict_world.tokens["lms"], callback_url=callback_url)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_callback_url" and "GRADER_PASSBACK_ALLOWED_NETWORKS" in response.text
    assert strict_world.dispatcher.messages == []


def test_a_delivery_to_a_name_that_now_resolves_privately_is_given_up_at_once(
        strict_world: ApiWorld, runner: SandboxRunner, limits: SandboxLimits, monkeypatch: pytest.MonkeyPatch) -> None:
    """The name was fine at upload; by delivery it points inward (DNS rebinding): refused, never retried."""
    submit(strict_world.client, strict_world.tokens["lms"], callback_url="https://lms.example/grades")
    run_id = strict_world.dispatcher.messages[0].run_id
    grade_now(strict_world.factory, run_id, runner, limits)
    _resolving(monkeypatch, {"lms.example": ["169.254.169.254"]})
    inner = RecordingTransport()
    courier = Courier(secret=PASSBACK_SECRET.encode(), client=httpx.Client(transport=PinnedTransport(
        CallbackPolicy(), inner)), retry_base_s=1.0, retry_max_s=10.0, max_attempts=5)
    with session_scope(strict_world.factory) as session:
        outcomes = deliver_run_passbacks(session, run_id, courier=courier)
    assert [(o.status, o.attempts) for o in outcomes] == [("failed", 1)]
    assert outcomes[0].error is not None and "169.254.169.254" in outcomes[0].error
    assert inner.requests == []


def test_a_typo_in_the_allowed_networks_stops_the_settings() -> None:
    with pytest.raises(ValueError, match=r"10\.0\.0\.300"):
        api_settings("sqlite://", passback_allowed_networks=["10.0.0.300/8"])
