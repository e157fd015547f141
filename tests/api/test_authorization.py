"""Every endpoint × {no token, unknown token, revoked token, wrong role, other course, right token}."""

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from grader.assignments.loader import load_bundle
from grader.db import session_scope
from grader.models import TokenRole
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner
from grader.services.assignment_versions import settle_check, store_upload
from grader.services.tokens import create_token, revoke_token
from tests.api.bundle_uploads import bundle_copy, report_for, tar_gz
from tests.api.conftest import ApiWorld, build_world, grade_now, submit
from tests.conftest import EXAMPLE_SOLUTION


@dataclass(frozen=True)
class Endpoint:
    """One route, the role it needs (None: both), and what each caller gets."""

    method: str
    path: str
    role: str | None
    right: int
    other_course: int


ENDPOINTS = [
    Endpoint("POST", "/api/v1/submissions", "lms", 202, 202),
    Endpoint("GET", "/api/v1/submissions/{sid}", None, 200, 403),
    Endpoint("POST", "/api/v1/submissions/{sid}/passback", "instructor", 202, 403),
    Endpoint("POST", "/api/v1/submissions/{sid}/regrade", "instructor", 202, 403),
    Endpoint("GET", "/api/v1/assignments", "instructor", 200, 200),
    Endpoint("GET", "/api/v1/assignments/layers", "instructor", 200, 200),
    Endpoint("GET", "/api/v1/assignments/layers/scores", "instructor", 200, 200),
    Endpoint("GET", "/api/v1/assignments/layers/scores?format=csv", "instructor", 200, 200),
    Endpoint("GET", "/api/v1/assignments/layers/stats", "instructor", 200, 200),
    Endpoint("POST", "/api/v1/assignments", "instructor", 202, 202),
    Endpoint("GET", "/api/v1/assignments/layers-linear/versions", "instructor", 200, 200),
    Endpoint("GET", "/api/v1/assignments/layers-linear/versions/{vid}", "instructor", 200, 404),
    Endpoint("PUT", "/api/v1/assignments/layers-linear/current", "instructor", 200, 404),
]
IDS = [f"{e.method} {e.path}" for e in ENDPOINTS]


@dataclass(frozen=True)
class Matrix:
    world: ApiWorld
    submission_id: str
    revoked: str
    version_id: str
    bundle: bytes


@pytest.fixture(scope="module")
def matrix(api_database: str, runner: SandboxRunner, limits: SandboxLimits,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    """One graded submission with a callback in `course`, a revoked instructor token of that course, and a
    published layers-linear version of `course`."""
    world = build_world(api_database)
    with world.client:
        response = submit(world.client, world.tokens["lms"], external_id="matrix-1",
                          callback_url="http://127.0.0.1:9/never-called")
        grade_now(world.factory, world.dispatcher.messages[0].run_id, runner, limits)
        with session_scope(world.factory) as session:
            revoked = create_token(session, course=world.course, role=TokenRole.INSTRUCTOR).token
            revoke_token(session, revoked)
        folder = bundle_copy(tmp_path_factory.mktemp("bundle"), title="Linear, authorized")
        bundle = tar_gz(folder)
        with session_scope(world.factory) as session:
            version = store_upload(session, course=world.course, bundle_bytes=bundle, archive_name="b.tar.gz",
                                   published_by="matrix", force=False)
            settle_check(session, version_id=version.id, report=report_for(load_bundle(folder)))  # type: ignore[arg-type]
            version_id = version.id
        yield Matrix(world=world, submission_id=response.json()["id"], revoked=revoked, version_id=version_id,
                     bundle=bundle)


def _call(matrix: Matrix, endpoint: Endpoint, headers: dict[str, str]) -> httpx.Response:
    path = endpoint.path.format(sid=matrix.submission_id, vid=matrix.version_id)
    if endpoint.method == "GET":
        return matrix.world.client.get(path, headers=headers)
    if endpoint.method == "PUT":
        return matrix.world.client.put(path, headers=headers, json={"version": matrix.version_id})
    if path == "/api/v1/assignments":
        return matrix.world.client.post(path, headers=headers, files={"bundle": ("b.tar.gz", matrix.bundle)})
    if path == "/api/v1/submissions":
        data = {"assignment": "layers", "student": "s1", "external_id": "matrix-1"}
        return matrix.world.client.post(path, headers=headers, data=data,
                                        files={"file": ("layers_dev.py", EXAMPLE_SOLUTION.read_bytes())})
    return matrix.world.client.post(path, headers=headers)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
@pytest.mark.parametrize("credentials", ["none", "unknown", "revoked", "malformed"])
def test_without_a_live_token_is_401(matrix: Matrix, endpoint: Endpoint, credentials: str) -> None:
    headers = {"none": {}, "unknown": _bearer("tg_not-a-real-token"), "revoked": _bearer(matrix.revoked),
               "malformed": {"Authorization": "Basic dXNlcjpwYXNz"}}[credentials]
    response = _call(matrix, endpoint, headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "unauthenticated" and response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_wrong_role_is_403(matrix: Matrix, endpoint: Endpoint) -> None:
    if endpoint.role is None:
        response = _call(matrix, endpoint, matrix.world.headers("lms"))
        assert response.status_code == 200 and response.json()["view"] == "student"
        return
    wrong = "instructor" if endpoint.role == "lms" else "lms"
    response = _call(matrix, endpoint, matrix.world.headers(wrong))
    assert response.status_code == 403 and response.json()["error"] == "forbidden"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_other_course_never_reaches_this_course(matrix: Matrix, endpoint: Endpoint) -> None:
    """Submission ids of another course are 403, version ids 404 (their existence is not told); assignment ids
    are scoped, so they answer about the caller's own."""
    caller = "other_lms" if endpoint.role == "lms" else "other_instructor"
    response = _call(matrix, endpoint, matrix.world.headers(caller))
    assert response.status_code == endpoint.other_course, response.text
    assert matrix.submission_id not in response.text and matrix.world.course not in response.text


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_right_token_is_served(matrix: Matrix, endpoint: Endpoint) -> None:
    response = _call(matrix, endpoint, matrix.world.headers(endpoint.role or "instructor"))
    assert response.status_code == endpoint.right, response.text


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.json"])
def test_probes_and_the_schema_need_no_token(matrix: Matrix, path: str) -> None:
    assert matrix.world.client.get(path).status_code == 200
