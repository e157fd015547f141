"""The LMS submission id is an idempotency key: concurrent identical posts make one submission and one message."""

import asyncio
import threading

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from grader.db import session_scope
from grader.models import GradingRun, Submission
from grader.services.accept import Upload
from grader.services.courses import submit_to_course
from tests.api.conftest import MAX_BYTES, ApiWorld, submit
from tests.conftest import EXAMPLE_SOLUTION

CONCURRENT_POSTS = 20


def _counts(factory: sessionmaker[Session], course: str) -> tuple[int, int]:
    with session_scope(factory) as session:
        submissions = session.scalar(select(func.count()).select_from(Submission)
                                     .where(Submission.course == course)) or 0
        runs = session.scalar(select(func.count()).select_from(GradingRun).join(Submission)
                              .where(Submission.course == course)) or 0
    return submissions, runs


async def _post_concurrently(world: ApiWorld, external_id: str) -> list[httpx.Response]:
    content = EXAMPLE_SOLUTION.read_bytes()
    data = {"assignment": "layers", "student": "s-race", "external_id": external_id}
    transport = httpx.ASGITransport(app=world.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        posts = [client.post("/api/v1/submissions", headers=world.headers("lms"), data=data,
                             files={"file": ("layers_dev.py", content)}) for _ in range(CONCURRENT_POSTS)]
        return await asyncio.gather(*posts)


def test_twenty_concurrent_identical_posts_make_one_submission(world: ApiWorld) -> None:
    responses = asyncio.run(_post_concurrently(world, "lms-race-1"))
    assert [r.status_code for r in responses] == [202] * CONCURRENT_POSTS, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(not r.json()["duplicate"] for r in responses) == 1
    assert _counts(world.factory, world.course) == (1, 1)
    assert len(world.dispatcher.messages) == 1, "the grading message is sent once, by the post that stored it"


def test_the_loser_of_an_insert_race_reads_the_winner(world: ApiWorld) -> None:
    """Deterministic race: the second insert waits on the first's uncommitted row, then hits the unique key."""
    upload = Upload(EXAMPLE_SOLUTION.read_bytes(), "layers_dev.py", "s-race", "layers", "lms-race-2")
    winner_flushed, loser_result = threading.Event(), dict[str, object]()

    def loser() -> None:
        winner_flushed.wait(10)
        with session_scope(world.factory) as session:
            intake = submit_to_course(session, course=world.course, upload=upload, callback_url=None,
                                      max_bytes=MAX_BYTES)
            loser_result.update(id=intake.submission.id, duplicate=intake.duplicate)

    thread = threading.Thread(target=loser)
    thread.start()
    with session_scope(world.factory) as session:
        intake = submit_to_course(session, course=world.course, upload=upload, callback_url=None, max_bytes=MAX_BYTES)
        winner_id = intake.submission.id
        winner_flushed.set()
        thread.join(0.5)
        assert thread.is_alive(), "the loser's insert must wait for the winner's transaction"
    thread.join(10)
    assert loser_result == {"id": winner_id, "duplicate": True}
    assert _counts(world.factory, world.course) == (1, 1)


def test_an_external_id_is_scoped_to_its_course(world: ApiWorld) -> None:
    """Two LMS instances may number their submissions alike; within one course the key names one student's upload."""
    mine = submit(world.client, world.tokens["lms"], external_id="lms-12-1", student="s1")
    theirs = submit(world.client, world.tokens["other_lms"], external_id="lms-12-1", student="s1")
    assert (mine.status_code, theirs.status_code) == (202, 202)
    assert mine.json()["id"] != theirs.json()["id"] and not theirs.json()["duplicate"]
    again = submit(world.client, world.tokens["lms"], external_id="lms-12-1", student="s1")
    assert again.json()["id"] == mine.json()["id"] and again.json()["duplicate"]
    someone_else = submit(world.client, world.tokens["lms"], external_id="lms-12-1", student="s2")
    assert someone_else.status_code == 409 and "another student" in someone_else.json()["detail"]
    assert _counts(world.factory, world.course) == (1, 1) and _counts(world.factory, world.other) == (1, 1)
