"""The mid-term fix end to end on the real stack (issue 13): Postgres, our own Redis, `grader serve`, one
`grader worker`, the passback relay and a local LMS that verifies every signed callback.

1. v1 of layers-linear (the shipped bundle, uploaded through the API: the check runs on the worker) is published,
   and a class of four is graded through the API, each score reaching the LMS once;
2. v2 (tests/stack/midterm_bundles.py: the empty-batch check dropped from a locked test and its shadow, 5 points
   moved from a hidden item to that test) is published the same way;
3. `grader regrade --preview` changes exactly the two affected items and nothing becomes current;
4. `grader regrade publish` publishes the batch;
5. the LMS receives the new score of exactly the students whose score changed, and nothing else.
The worker is started once, before v1, and is the same process, never restarted, at the end.
"""

import io
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from grader.assignments.pack import pack_folder
from grader.db import make_engine
from grader.models import GradingRun, ItemResult, Passback, PassbackStatus
from tests.api.stack import ApiStack, FakeLmsServer, api_stack
from tests.stack.midterm_bundles import FIXED_ITEM, REWEIGHED_ITEM, students, write_v1, write_v2
from tests.stack.processes import GRADER, RedisServer, wait_until

pytestmark = pytest.mark.timeout(2400)
SECRET = "midterm-passback-secret-5e4d3c2b1a"
COURSE = "cs-midterm"
ASSIGNMENT = "layers-linear"
CHECK_TIMEOUT_S = 900


@dataclass
class Course:
    """The running deployment, its LMS, and the tokens of the course's instructor and LMS."""

    stack: ApiStack
    lms: FakeLmsServer
    client: httpx.Client
    instructor: str
    lms_token: str
    engine: Engine

    def headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def course(postgres_server_url: str, tmp_path: Path) -> Iterator[Course]:
    redis_server = RedisServer(tmp_path)
    redis_server.start()
    env = {"GRADER_PASSBACK_RETRY_BASE_S": "0.5", "GRADER_PASSBACK_RETRY_MAX_S": "2", "GRADER_SUBMIT_BURST": "100"}
    lms = FakeLmsServer(SECRET)
    try:
        with api_stack(postgres_server_url, tmp_path, broker_url=redis_server.url, secret=SECRET,
                       extra_env=env) as stack:
            stack.run("courses", "create", COURSE)
            tokens = [stack.run("tokens", "create", "--course", COURSE, "--role", role).strip().splitlines()[-1]
                      for role in ("instructor", "lms")]
            stack.start_all()
            engine = make_engine(stack.database_url)
            try:
                with httpx.Client(base_url=stack.api_url, timeout=60) as client:
                    yield Course(stack=stack, lms=lms, client=client, instructor=tokens[0], lms_token=tokens[1],
                                 engine=engine)
            finally:
                engine.dispose()
    finally:
        lms.close()
        redis_server.stop()


def _archive(folder: Path) -> bytes:
    data = pack_folder(folder)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        assert "assignment.yaml" in archive.getnames()
    return data


def publish(course: Course, folder: Path) -> dict[str, object]:
    """Upload through the API (202, checking), then poll until the worker's check has published it."""
    answer = course.client.post("/api/v1/assignments", headers=course.headers(course.instructor),
                                files={"bundle": (f"{folder.name}.tar.gz", _archive(folder))})
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "checking"
    location = answer.headers["Location"]
    found: dict[str, object] = {}

    def settled() -> bool:
        course.stack.check_alive()
        found.update(course.client.get(location, headers=course.headers(course.instructor)).json())
        return found.get("status") != "checking"

    wait_until(settled, timeout_s=CHECK_TIMEOUT_S, what=f"the worker's check of {folder.name}", poll_s=2)
    assert found["status"] == "published" and found["current"] is True and found["forced"] is False, found
    check = found["check"]
    assert isinstance(check, dict) and check["passed"] is True, check
    assert check["runs"] >= 1500 and not check["flaky"] and not check["tests_nothing"], check
    print(f"midterm-figures: check of {folder.name} on the worker: {check['runs']} seeds per locked test, "
          f"{check['full_runs']} graded runs, {check['cost_s']:.1f} s")
    return found


def submit_class(course: Course, files: dict[str, str]) -> dict[str, str]:
    """Student name -> submission id; each with its own LMS callback path."""
    ids = {}
    for name, text in files.items():
        answer = course.client.post("/api/v1/submissions", headers=course.headers(course.lms_token),
                                    data={"assignment": ASSIGNMENT, "student": name, "external_id": f"x-{name}",
                                          "callback_url": course.lms.url(f"/{name}")},
                                    files={"file": ("layers.py", text.encode())})
        assert answer.status_code == 202, answer.text
        ids[name] = str(answer.json()["id"])
    return ids


def current(course: Course) -> dict[str, GradingRun]:
    with Session(course.engine) as session:
        return {run.submission_id: run for run in session.scalars(select(GradingRun).where(GradingRun.is_current))}


def items(course: Course, run_id: str) -> dict[str, tuple[str, float, float]]:
    with Session(course.engine) as session:
        rows = session.scalars(select(ItemResult).where(ItemResult.run_id == run_id))
        return {row.item_id: (row.status, row.points, row.max_points) for row in rows}


def batch_runs(course: Course, batch_id: str) -> dict[str, GradingRun]:
    with Session(course.engine) as session:
        return {run.submission_id: run
                for run in session.scalars(select(GradingRun).where(GradingRun.batch_id == batch_id))}


def pending_passbacks(course: Course) -> int:
    with Session(course.engine) as session:
        return session.scalar(select(func.count()).select_from(Passback)
                              .where(Passback.status == PassbackStatus.PENDING)) or 0


def regrade(course: Course, *args: str) -> str:
    done = subprocess.run([*GRADER, "regrade", *args], env=course.stack.env, capture_output=True, text=True,
                          timeout=600, cwd=course.stack.log_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def wait_quiet(course: Course, received: int) -> None:
    """Until the LMS has `received` accepted callbacks and the outbox holds nothing pending."""
    def delivered() -> bool:
        course.stack.check_alive()
        return len([c for c in course.lms.received if c.answered == 200]) >= received and not pending_passbacks(course)

    wait_until(delivered, timeout_s=180, what=f"{received} callbacks delivered and nothing pending", poll_s=0.5)


def test_the_mid_term_fix_reaches_the_lms_with_only_the_changed_scores(course: Course, tmp_path: Path) -> None:
    worker = course.stack.processes["worker"]
    v1_folder, v2_folder = write_v1(tmp_path / "v1"), write_v2(tmp_path / "v2")
    v1 = publish(course, v1_folder)

    ids = submit_class(course, students((v1_folder / "layers.py").read_text(encoding="utf-8")))
    wait_quiet(course, received=len(ids))
    graded = current(course)
    assert {graded[sid].status for sid in ids.values()} == {"graded"}
    assert {graded[sid].rubric_version for sid in ids.values()} == {v1["rubric_version"]}
    before = {name: items(course, graded[sid].id) for name, sid in ids.items()}
    assert before["full"][FIXED_ITEM][0] == "passed" and before["row-by-row"][FIXED_ITEM][0] != "passed", \
        "v1's empty-batch check fails the row-by-row student"
    assert all(flag_free(graded[sid].integrity_flags) for sid in ids.values())
    sent_v1 = {c.path: c.body["score"] for c in course.lms.received if c.answered == 200}
    assert sent_v1 == {f"/{name}": graded[sid].score for name, sid in ids.items()}

    v2 = publish(course, v2_folder)
    assert v2["rubric_version"] != v1["rubric_version"] and v2["content_hash"] != v1["content_hash"]

    started = regrade(course, "--assignment", ASSIGNMENT, "--course", COURSE, "--preview", "--wait")
    batch_id = started.splitlines()[1].strip()
    preview = batch_runs(course, batch_id)
    assert set(preview) == set(ids.values()) and {run.status for run in preview.values()} == {"graded"}
    assert {run.rubric_version for run in preview.values()} == {v2["rubric_version"]}
    assert {sid: run.id for sid, run in current(course).items()} == {sid: run.id for sid, run in graded.items()}, \
        "a preview makes nothing current"
    after = {name: items(course, preview[sid].id) for name, sid in ids.items()}
    for name in ids:
        changed = {item for item in after[name] if after[name][item] != before[name][item]}
        assert changed <= {FIXED_ITEM, REWEIGHED_ITEM}, (name, changed)
        assert after[name][FIXED_ITEM][2] == 10 and after[name][REWEIGHED_ITEM][2] == 5
        assert {item: status for item, (status, _, _) in after[name].items() if item != FIXED_ITEM} == {
            item: status for item, (status, _, _) in before[name].items() if item != FIXED_ITEM}, name
    assert after["row-by-row"][FIXED_ITEM][0] == "passed", "the fixed test passes the row-by-row student"
    assert {name for name in ids if after[name][FIXED_ITEM][0] != before[name][FIXED_ITEM][0]} == {"row-by-row"}
    for sid in ids.values():
        flags = preview[sid].integrity_flags
        assert f"locked_cell_outdated:{FIXED_ITEM}" in flags and flag_free(flags), flags
    assert len(course.lms.received) == len(ids), "a preview sends nothing to the LMS"

    regrade(course, "publish", batch_id)
    scores_changed = {name for name, sid in ids.items()
                      if (preview[sid].score, preview[sid].max_score) != (graded[sid].score, graded[sid].max_score)}
    assert "row-by-row" in scores_changed and "full" not in scores_changed and "release" not in scores_changed
    wait_quiet(course, received=len(ids) + len(scores_changed))
    regraded = [c for c in course.lms.received if c.answered == 200][len(ids):]
    assert sorted(c.path for c in regraded) == sorted(f"/{name}" for name in scores_changed)
    for call in regraded:
        sid = ids[call.path.lstrip("/")]
        assert call.body["run_id"] == preview[sid].id and call.body["score"] == preview[sid].score
    assert all(c.signature_ok for c in course.lms.received)
    assert {sid: run.id for sid, run in current(course).items()} == {sid: run.id for sid, run in preview.items()}

    assert course.stack.processes["worker"] is worker and worker.poll() is None, "the worker was never restarted"
    course.stack.check_alive()


def flag_free(flags: list[str]) -> bool:
    """No flag that calls the student a tamperer (an earlier release's cell is not one)."""
    return not [flag for flag in flags if not flag.startswith("locked_cell_outdated:")]
