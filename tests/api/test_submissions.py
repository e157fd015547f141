"""Submitting over HTTP: accepted and queued after commit, rejected whole with a named reason, read per role."""

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from grader.db import session_scope
from grader.models import GradingRun, Submission
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner
from tests.api.conftest import ApiWorld, build_world, grade_now, submit
from tests.conftest import SUBMISSIONS


def _stored(world: ApiWorld) -> tuple[int, int]:
    with session_scope(world.factory) as session:
        submissions = session.scalar(select(func.count()).select_from(Submission)
                                     .where(Submission.course == world.course)) or 0
        runs = session.scalar(select(func.count()).select_from(GradingRun).join(Submission)
                              .where(Submission.course == world.course)) or 0
        return submissions, runs


def test_post_is_accepted_stored_and_dispatched_after_commit(world: ApiWorld) -> None:
    response = submit(world.client, world.tokens["lms"], external_id="canvas-1", student="u42",
                      callback_url="https://lms.example/grades")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued" and body["duplicate"] is False and body["course"] == world.course
    assert body["links"]["self"] == f"/api/v1/submissions/{body['id']}" == response.headers["location"]
    with session_scope(world.factory) as session:
        stored = session.get(Submission, body["id"])
        assert stored is not None and stored.course == world.course and stored.student == "u42"
        assert stored.callback_url == "https://lms.example/grades" and stored.external_id == "canvas-1"
        run_id = stored.runs[0].id
    assert [(m.kind, m.run_id) for m in world.dispatcher.messages] == [("grade", run_id)]


def test_same_external_id_again_is_the_same_submission(world: ApiWorld) -> None:
    first = submit(world.client, world.tokens["lms"], external_id="again")
    second = submit(world.client, world.tokens["lms"], external_id="again",
                    content=(SUBMISSIONS / "bias_ignored.py").read_bytes())
    assert second.status_code == 202 and second.json()["id"] == first.json()["id"]
    assert second.json()["duplicate"] is True
    assert _stored(world) == (1, 1) and len(world.dispatcher.messages) == 1


def test_external_id_reused_for_another_student_is_a_conflict(world: ApiWorld) -> None:
    submit(world.client, world.tokens["lms"], external_id="shared", student="a")
    response = submit(world.client, world.tokens["lms"], external_id="shared", student="b")
    assert response.status_code == 409 and response.json()["error"] == "conflict"


@pytest.mark.parametrize(("filename", "content", "status", "code"), [
    ("layers_dev.py", b"x" * (600 * 1024), 413, "too_large"),
    ("layers_dev.py", b"# %%\n" + b"y" * (513 * 1024), 413, "too_large"),
    ("layers_dev.py", b"\x89PNG\r\n\x1a\n\0\0\0", 415, "not_text"),
    ("layers_dev.png", b"print('hello')\n", 415, "unsupported_type"),
    ("layers_dev.py", b"", 422, "empty"),
    ("layers_dev.ipynb", b"{not json", 422, "not_notebook"),
    ("layers_dev.ipynb", b'{"not": "nb"}', 422, "not_notebook"),
    ("layers_dev.ipynb", b"[1, 2]", 422, "not_notebook"),
    ("layers_dev.txt", b"def matmul(A, B):\n    return A @ B\n", 415, "unsupported_type"),
    ("layers_dev.py", b"def something_else():\n    return 1\n", 422, "wrong_assignment"),
])
def test_rejected_upload_names_the_problem_and_stores_nothing(world: ApiWorld, filename: str, content: bytes,
                                                              status: int, code: str) -> None:
    response = submit(world.client, world.tokens["lms"], filename=filename, content=content)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code and body["detail"]
    assert _stored(world) == (0, 0) and world.dispatcher.messages == []


def test_unknown_assignment_is_404_and_bad_fields_are_422(world: ApiWorld) -> None:
    response = submit(world.client, world.tokens["lms"], assignment="convolutions")
    assert response.status_code == 404 and "convolutions" in response.json()["detail"]
    response = submit(world.client, world.tokens["lms"], callback_url="ftp://lms.example/x")
    assert response.status_code == 422 and response.json()["error"] == "invalid_callback_url"
    response = world.client.post("/api/v1/submissions", headers=world.headers("lms"),
                                 data={"assignment": "layers"})
    assert response.status_code == 422 and response.json()["error"] == "validation_error"
    assert {field["location"] for field in response.json()["fields"]} >= {"body.file", "body.student"}
    assert _stored(world) == (0, 0)


def test_student_view_hides_hidden_items_and_instructor_view_shows_everything(
        world: ApiWorld, runner: SandboxRunner, limits: SandboxLimits) -> None:
    content = (SUBMISSIONS / "bias_ignored.py").read_bytes()
    submission_id = submit(world.client, world.tokens["lms"], content=content).json()["id"]
    grade_now(world.factory, world.dispatcher.messages[0].run_id, runner, limits)
    student = world.client.get(f"/api/v1/submissions/{submission_id}", headers=world.headers("lms")).json()
    assert student["view"] == "student" and student["status"] == "graded"
    assert student["score"] == 75 and student["max_score"] == 90 and len(student["tests"]) == 11
    hidden = [item for item in student["tests"] if item["visibility"] == "hidden"]
    assert hidden and all(item["message"] == "" for item in hidden)
    assert any(item["status"] != "passed" for item in hidden)
    assert not {"output", "runs", "passbacks", "detail"} & (set(student) | set(student["tests"][0]))
    staff = world.client.get(f"/api/v1/submissions/{submission_id}", headers=world.headers("instructor")).json()
    assert staff["view"] == "instructor" and staff["score"] == 75 and len(staff["runs"]) == 1
    run = staff["runs"][0]
    assert run["output"] and run["sandbox"]["wall_s"] > 0 and run["sandbox"]["backend"]
    assert "integrity_flags" in run and any(item["message"] for item in run["tests"] if item["status"] == "failed")
    assert run["dispatched_at"] and run["dispatches"] == 1


def test_regrade_queues_a_new_run_once(world: ApiWorld, runner: SandboxRunner, limits: SandboxLimits) -> None:
    submission_id = submit(world.client, world.tokens["lms"]).json()["id"]
    grade_now(world.factory, world.dispatcher.messages[0].run_id, runner, limits)
    first = world.client.post(f"/api/v1/submissions/{submission_id}/regrade", headers=world.headers("instructor"))
    second = world.client.post(f"/api/v1/submissions/{submission_id}/regrade", headers=world.headers("instructor"))
    assert first.status_code == 202 and first.json()["status"] == "queued"
    assert second.json()["run_id"] == first.json()["run_id"]
    assert [m.run_id for m in world.dispatcher.messages][1:] == [first.json()["run_id"]]
    view = world.client.get(f"/api/v1/submissions/{submission_id}", headers=world.headers("lms")).json()
    assert view["status"] == "queued" and view["score"] == 90, "the graded score stays readable while regrading"


def test_health_and_readiness(world: ApiWorld) -> None:
    assert world.client.get("/healthz").json() == {"status": "ok"}
    ready = world.client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "database": "ok", "broker": "ok"}


def test_readiness_names_an_unreachable_broker(api_database: str) -> None:
    broken = build_world(api_database, broker_url="redis://127.0.0.1:1/0")
    response = TestClient(broken.app).get("/readyz")
    assert response.status_code == 503
    assert json.loads(response.text)["broker"] != "ok" and response.json()["database"] == "ok"
