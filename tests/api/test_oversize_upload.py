"""A 20 MiB upload to a real `grader serve` gets its 413 JSON answer, not a connection reset, from clients that
send the whole body before reading (httpx, urllib, curl without `Expect: 100-continue`), with a declared length
or chunked; a curl that does wait for 100-continue is answered without sending the body. An early 401 reaches
such a client too, and the server keeps serving afterwards."""

import json
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.stack import ApiStack, api_stack, wait_until
from tests.stack.processes import RedisServer

SECRET = "oversize-passback-secret-0123456789"
OVERSIZE = 20 * 1024 * 1024
TOO_LARGE = {"error": "too_large", "detail": "the upload is over the 512 KiB limit", "fields": []}
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def api(postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiStack, str]]:
    """Only the API process, with a course and an LMS token: the body limit comes before any grading."""
    log_dir = tmp_path_factory.mktemp("oversize")
    redis_server = RedisServer(log_dir)
    redis_server.start()
    try:
        with api_stack(postgres_server_url, log_dir, broker_url=redis_server.url, secret=SECRET) as stack:
            stack.run("courses", "create", "oversize-101")
            token = stack.run("tokens", "create", "--course", "oversize-101", "--role", "lms").strip().splitlines()[-1]
            stack.start("api", "serve", "--host", "127.0.0.1", "--port", str(stack.api_port))
            wait_until(stack._api_ready, timeout_s=60, what=f"the API did not answer on {stack.api_url}/readyz")
            yield stack, token
    finally:
        redis_server.stop()


@pytest.fixture(scope="module")
def oversize_form(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A well-formed multipart submission whose file is 20 MiB, as an LMS back end would build it."""
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in {"assignment": "layers", "student": "u1", "external_id": "big-1"}.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="layers_dev.py"\r\n'
                 f"Content-Type: text/x-python\r\n\r\n".encode() + b"# %%\n" + b"x" * OVERSIZE + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    path = tmp_path_factory.mktemp("form") / "form.bin"
    path.write_bytes(b"".join(parts))
    return path, f"multipart/form-data; boundary={boundary}"


def headers(token: str, content_type: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": content_type}


def assert_still_serving(stack: ApiStack) -> None:
    assert httpx.get(f"{stack.api_url}/readyz", timeout=10).status_code == 200


def test_httpx_with_a_declared_length(api: tuple[ApiStack, str], oversize_form: tuple[Path, str]) -> None:
    stack, token = api
    path, content_type = oversize_form
    response = httpx.post(f"{stack.api_url}/api/v1/submissions", content=path.read_bytes(),
                          headers=headers(token, content_type), timeout=60)
    assert (response.status_code, response.json()) == (413, TOO_LARGE)
    assert_still_serving(stack)


def test_httpx_chunked_is_stopped_at_the_cap(api: tuple[ApiStack, str], oversize_form: tuple[Path, str]) -> None:
    stack, token = api
    path, content_type = oversize_form
    response = httpx.post(f"{stack.api_url}/api/v1/submissions", content=chunks_of(path),
                          headers=headers(token, content_type), timeout=60)
    assert response.status_code == 413 and response.json()["error"] == "too_large"
    assert_still_serving(stack)


def urllib_post(url: str, data: bytes | Iterator[bytes], header_map: dict[str, str]) -> tuple[int, dict[str, object]]:
    """urllib sends bytes with their Content-Length, and an iterator chunked; it reads nothing until it has sent."""
    request = urllib.request.Request(url, data=data, headers=header_map, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def chunks_of(path: Path) -> Iterator[bytes]:
    data = path.read_bytes()
    for start in range(0, len(data), 64 * 1024):
        yield data[start:start + 64 * 1024]


def test_urllib_sending_the_whole_body_first(api: tuple[ApiStack, str], oversize_form: tuple[Path, str]) -> None:
    stack, token = api
    path, content_type = oversize_form
    for _ in range(3):  # a reset is a race against the client's send: one lucky answer would prove nothing
        assert urllib_post(f"{stack.api_url}/api/v1/submissions", path.read_bytes(),
                           headers(token, content_type)) == (413, TOO_LARGE)
    code, body = urllib_post(f"{stack.api_url}/api/v1/submissions", chunks_of(path), headers(token, content_type))
    assert code == 413 and body["error"] == "too_large"
    assert_still_serving(stack)


def test_urllib_gets_an_early_401_too(api: tuple[ApiStack, str], oversize_form: tuple[Path, str]) -> None:
    """A body that is not a form is never read, so without a token the 401 comes first: a chunked 20 MiB upload
    still receives it."""
    stack, _ = api
    path, _ = oversize_form
    code, body = urllib_post(f"{stack.api_url}/api/v1/submissions", chunks_of(path),
                             {"Content-Type": "application/octet-stream"})
    assert code == 401 and body["error"] == "unauthenticated"
    assert_still_serving(stack)


@pytest.mark.parametrize("curl_options", [
    pytest.param(["-H", "Expect:"], id="declared-length-no-100-continue"),
    pytest.param(["-H", "Expect:", "-H", "Transfer-Encoding: chunked"], id="chunked-no-100-continue"),
    pytest.param([], id="waits-for-100-continue"),
])
def test_curl(api: tuple[ApiStack, str], oversize_form: tuple[Path, str], curl_options: list[str]) -> None:
    stack, token = api
    path, content_type = oversize_form
    done = subprocess.run(["curl", "--silent", "--show-error", "--max-time", "60", "--write-out", "\n%{http_code}",
                           "-H", f"Authorization: Bearer {token}", "-H", f"Content-Type: {content_type}",
                           *curl_options, "--data-binary", f"@{path}", f"{stack.api_url}/api/v1/submissions"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"curl failed: {done.stderr}"
    body, code = done.stdout.rsplit("\n", 1)
    assert code == "413" and json.loads(body)["error"] == "too_large", done.stdout
    assert_still_serving(stack)
