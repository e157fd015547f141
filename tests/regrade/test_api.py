"""The regrade endpoints: instructors of the batch's course only; start, follow, publish, roll back, cancel."""

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from grader.services.evaluate import Evaluation
from tests.api.conftest import ApiWorld, build_world
from tests.regrade.conftest import Classroom


@pytest.fixture
def world(regrade_database: str) -> Iterator[ApiWorld]:
    built = build_world(regrade_database)
    with built.client:
        yield built


@pytest.fixture
def graded(world: ApiWorld, regrade_factory: sessionmaker[Session],
           evaluations: dict[str, Evaluation]) -> Classroom:
    """Two graded students in the caller's course, one of them scored under an 'older rubric'."""
    room = Classroom(factory=regrade_factory, evaluations=evaluations, course=world.course)
    changed = room.submit("s1", "full")
    room.submit("s2", "shape")
    room.age_rubric(changed, score_delta=-15)
    return room


def test_only_instructors_of_the_course_regrade(world: ApiWorld, graded: Classroom) -> None:
    url = "/api/v1/assignments/layers/regrade"
    assert world.client.post(url, json={}).status_code == 401
    assert world.client.post(url, json={}, headers=world.headers("lms")).status_code == 403
    assert world.client.post(url, json={"scope": "sometimes"},
                             headers=world.headers("instructor")).status_code == 422
    started = world.client.post(url, json={"preview": True}, headers=world.headers("instructor"))
    assert started.status_code == 202, started.text
    batch = started.json()
    assert (batch["state"], batch["publication"], batch["progress"]["total"]) == ("running", "preview", 2)
    assert world.client.post(url, json={}, headers=world.headers("instructor")).status_code == 409
    assert len(world.dispatcher.messages) == 2, "the runs are sent after the request's commit"
    batch_url = f"/api/v1/batches/{batch['id']}"
    for who in ("other_instructor", "lms"):
        assert world.client.get(batch_url, headers=world.headers(who)).status_code == 403
        assert world.client.post(f"{batch_url}/cancel", headers=world.headers(who)).status_code == 403
    assert world.client.get("/api/v1/batches/0123abcd", headers=world.headers("instructor")).status_code == 404
    assert world.client.post("/api/v1/assignments/layers/regrade", json={},
                             headers=world.headers("other_instructor")).status_code == 202, "its own course"


def test_follow_publish_and_roll_back_over_http(world: ApiWorld, graded: Classroom) -> None:
    headers = world.headers("instructor")
    before = graded.current()
    batch = world.client.post("/api/v1/assignments/layers/regrade", json={"preview": True, "students": ["s1", "s2"]},
                              headers=headers).json()
    batch_url = f"/api/v1/batches/{batch['id']}"
    assert world.client.post(f"{batch_url}/publish", headers=headers).status_code == 409, "not ended yet"
    graded.grade_batch(batch["id"])
    done = world.client.get(batch_url, headers=headers).json()
    assert (done["state"], done["progress"]["done"], done["progress"]["changed"]) == ("done", 2, 1)
    assert (done["summary"]["up"], done["summary"]["unchanged"]) == (1, 1)
    assert done["summary"]["largest_changes"][0]["delta"] == 15
    assert graded.current() == before
    published = world.client.post(f"{batch_url}/publish", headers=headers)
    assert published.status_code == 200 and published.json()["publication"] == "published"
    assert graded.current() != before
    assert [reason for *_, reason in graded.passbacks()][-1:] == ["regraded"]
    rolled = world.client.post(f"{batch_url}/rollback", headers=headers)
    assert rolled.status_code == 200 and rolled.json()["publication"] == "rolled_back"
    assert graded.current() == before


def test_cancel_over_http(world: ApiWorld, graded: Classroom) -> None:
    headers = world.headers("instructor")
    batch = world.client.post("/api/v1/assignments/layers/regrade", json={}, headers=headers).json()
    cancelled = world.client.post(f"/api/v1/batches/{batch['id']}/cancel", headers=headers).json()
    assert (cancelled["state"], cancelled["progress"]["cancelled"]) == ("cancelled", 2)
    assert cancelled["summary"]["cancelled"] == 2
