"""Dashboard fixtures: the API's world (app, course, tokens) on each database, a graded class, a signed-in client."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from grader.db import session_scope
from grader.models import GradingRun, ItemResult, Submission
from grader.services.evaluate import Evaluation
from tests.api.conftest import ApiWorld, build_world
from tests.regrade.conftest import Classroom, evaluations  # noqa: F401 - the session-scoped fixture, reused

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HOSTILE = "<script>alert(1)</script>"
EDITED_FLAG = "locked_cell_edited:test-matmul-immediate"


@pytest.fixture
def world(engine: Engine, database_url: str) -> Iterator[ApiWorld]:
    """The API tests' world on a freshly migrated database (SQLite and PostgreSQL), cookies over plain http."""
    built = build_world(database_url, dashboard_cookie_secure=False)
    with built.client:
        yield built


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has a form with a csrf_token"
    return found.group(1)


def sign_in(client: TestClient, token: str, *, next_path: str = "") -> httpx.Response:
    page = client.get("/dashboard/login")
    assert page.status_code == 200
    return client.post("/dashboard/login", data={"token": token, "csrf_token": csrf_of(page.text), "next": next_path},
                       follow_redirects=False)


@pytest.fixture
def browser(world: ApiWorld) -> TestClient:
    """The world's client, signed in with the course's instructor token."""
    response = sign_in(world.client, world.tokens["instructor"])
    assert response.status_code == 303
    return world.client


@dataclass
class Seeded:
    """The graded class of the caller's course: submission ids by name."""

    room: Classroom
    ids: dict[str, str]


def _current_run(session: Session, submission_id: str) -> GradingRun:
    return session.scalars(select(GradingRun).where(GradingRun.submission_id == submission_id,
                                                    GradingRun.is_current)).one()


def _make_hostile(session: Session, submission_id: str) -> None:
    """Untrusted text everywhere the page shows it: output, a message, a flag."""
    run = _current_run(session, submission_id)
    run.output = f"stdout {HOSTILE}"
    run.integrity_flags = [f"locked_cell_edited:{HOSTILE}"]
    item = session.scalars(select(ItemResult).where(ItemResult.run_id == run.id).order_by(ItemResult.position)).first()
    assert item is not None
    item.message = f"message {HOSTILE}"


def _add_error_run(session: Session, submission_id: str) -> str:
    """A newer run of the submission that ended `error` (a crashed worker, say); the graded one stays current."""
    submission = session.get(Submission, submission_id)
    assert submission is not None
    current = _current_run(session, submission_id)
    run = GradingRun(submission=submission, rubric_version=current.rubric_version, status="error",
                     error="the sandbox could not start", queued_at=current.queued_at.replace(year=2100))
    session.add(run)
    session.flush()
    return run.id


@pytest.fixture
def seeded(world: ApiWorld, evaluations: dict[str, Evaluation]) -> Seeded:  # noqa: F811
    """alice: full marks then a flagged resubmission; bob: wrong index then full; carol: shape bug with a run in
    error; a hostile student id; all graded through the worker's path with the real sandbox's verdicts."""
    room = Classroom(factory=world.factory, evaluations=evaluations, course=world.course)
    ids = {"alice-1": room.submit("alice", "full"), "bob-1": room.submit("bob", "index"),
           "carol-1": room.submit("carol", "shape"), "alice-2": room.submit("alice", "full"),
           "bob-2": room.submit("bob", "full"), "hostile-1": room.submit(HOSTILE, "index", callback=False)}
    with session_scope(world.factory) as session:
        _current_run(session, ids["alice-2"]).integrity_flags = [EDITED_FLAG]
        _make_hostile(session, ids["hostile-1"])
        ids["carol-error-run"] = _add_error_run(session, ids["carol-1"])
    return Seeded(room=room, ids=ids)


class Elements(HTMLParser):
    """Start tags with their attributes, in document order: enough to check the markup contract."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {key: value or "" for key, value in attrs}))


def elements(html: str, tag: str, **wanted: str) -> list[dict[str, str]]:
    """Attributes of every `tag` whose attributes include `wanted` (underscores in names become dashes)."""
    parser = Elements()
    parser.feed(html)
    want = {key.replace("_", "-"): value for key, value in wanted.items()}
    return [attrs for name, attrs in parser.found
            if name == tag and all(attrs.get(key) == value for key, value in want.items())]
