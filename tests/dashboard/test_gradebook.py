"""The gradebook never contradicts itself: through preview, publish, rollback and publish again under a rubric
with another maximum, the CSV, the JSON scores, the stats, the dashboard and the last callback of every student
give the same score out of the same maximum: the one of the run that produced it."""

import csv
import dataclasses
import io
import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from grader.assignments import bundle as bundles
from grader.db import session_scope
from grader.models import GradingRun, Passback, Submission
from grader.scoring.score import Score, ScoredItem, item_points
from grader.services import scores
from grader.services.evaluate import Evaluation
from tests.api.conftest import ApiWorld
from tests.dashboard.conftest import elements
from tests.regrade.conftest import Classroom

EXTRA = 5.0  # the new rubric's first locked test is worth 15 instead of 10: 90 -> 95
OUT_OF = re.compile(r'<span id="max-score">([^<]*)</span>')


def worth_more(evaluation: Evaluation) -> Evaluation:
    """The same verdicts scored by a rubric whose first item is worth EXTRA more."""
    first, *rest = evaluation.score.items
    item = dataclasses.replace(first.item, points=first.item.points + EXTRA)
    return dataclasses.replace(evaluation, score=Score(items=(
        ScoredItem(item=item, verdict=first.verdict, points=item_points(item, first.verdict)), *rest)))


def current(room: Classroom) -> dict[str, tuple[float, float]]:
    """student -> (score, max) of their current run: what every view must say."""
    with session_scope(room.factory) as session:
        rows = session.execute(select(Submission.student, GradingRun.score, GradingRun.max_score)
                               .join(GradingRun, GradingRun.submission_id == Submission.id)
                               .where(Submission.course == room.course, GradingRun.is_current))
        return {student: (float(score), float(top)) for student, score, top in rows}


def last_callbacks(room: Classroom) -> dict[str, tuple[float, float]]:
    with session_scope(room.factory) as session:
        rows = session.execute(select(Submission.student, Passback.body).join(Submission)
                               .where(Submission.course == room.course).order_by(Passback.created_at))
        return {student: (json.loads(body)["score"], json.loads(body)["max_score"]) for student, body in rows}


def views(world: ApiWorld, browser: TestClient) -> dict[str, dict[str, tuple[float, float]]]:
    """Every student's (score, max) as each reader of the gradebook sees it."""
    headers = world.headers("instructor")
    base = "/api/v1/assignments/layers"
    table = list(csv.DictReader(io.StringIO(world.client.get(f"{base}/scores?format=csv", headers=headers).text)))
    rows = world.client.get(f"{base}/scores", headers=headers).json()["students"]
    stats = world.client.get(f"{base}/stats", headers=headers).json()
    page = browser.get("/dashboard/assignments/layers").text
    exported = list(csv.DictReader(io.StringIO(browser.get("/dashboard/assignments/layers/scores.csv").text)))
    header = OUT_OF.search(page)
    assert header is not None
    assert stats["max_scores"] == [stats["max_score"]], "one maximum: every current run has the same"
    latest_cells = elements(page, "td", data_col="latest")
    students = [row["data-student"] for row in elements(page, "tr") if "data-student" in row]
    dashboard = {student: (float(cell["data-value"]), float(cell["data-max"]))
                 for student, cell in zip(students, latest_cells, strict=True)}
    return {
        "csv": {row["student_id"]: (float(row["score"]), float(row["max_score"])) for row in table},
        "dashboard csv": {row["student_id"]: (float(row["score"]), float(row["max_score"])) for row in exported},
        "json": {row["student"]: (row["latest_score"], row["max_score"]) for row in rows},
        "dashboard": dashboard,
        "stats": {student: (score, stats["max_score"]) for student, (score, _) in current_of(rows).items()},
        "dashboard header": {student: (score, float(header.group(1))) for student, (score, _) in dashboard.items()},
    }


def current_of(rows: list[dict[str, float]]) -> dict[str, tuple[float, float]]:
    """The JSON rows' scores, each beside the statistics' maximum: the stats agree when those match the truth."""
    return {str(row["student"]): (row["latest_score"], row["max_score"]) for row in rows}


def agree(world: ApiWorld, browser: TestClient, room: Classroom, step: str) -> dict[str, tuple[float, float]]:
    truth = current(room)
    seen = views(world, browser)
    for reader, numbers in seen.items():
        assert numbers == truth, f"after {step}, the {reader} says {numbers}, the current runs {truth}"
    assert last_callbacks(room) == truth, f"after {step}, the last callback of a student disagrees"
    stats = world.client.get("/api/v1/assignments/layers/stats", headers=world.headers("instructor")).json()
    assert stats["mean"] == pytest.approx(sum(score for score, _ in truth.values()) / len(truth))
    return truth


def test_every_reader_of_the_gradebook_agrees_through_a_regrade_that_changes_the_maximum(
        world: ApiWorld, browser: TestClient, evaluations: dict[str, Evaluation],
        monkeypatch: pytest.MonkeyPatch) -> None:
    room = Classroom(factory=world.factory, evaluations=evaluations, course=world.course)
    for student, sample in (("u1", "full"), ("u2", "shape"), ("u3", "index")):
        room.submit(student, sample)
    assert {top for _, top in agree(world, browser, room, "grading").values()} == {90.0}

    layers = bundles.load_assignment("layers")
    rubric = dataclasses.replace(layers.rubric, items=(
        dataclasses.replace(layers.rubric.items[0], points=layers.rubric.items[0].points + EXTRA),
        *layers.rubric.items[1:]))
    monkeypatch.setattr(scores, "current_bundle",
                        lambda session, course, name: dataclasses.replace(layers, rubric=rubric))
    room.evaluations = {sha: worth_more(evaluation) for sha, evaluation in evaluations.items()}
    batch_id = room.start(preview=True)
    room.grade_batch(batch_id)
    assert {top for _, top in agree(world, browser, room, "the preview").values()} == {90.0}, \
        "a preview of a 95-point rubric leaves every score out of 90"

    instructor = world.headers("instructor")
    for action, step, top in (("publish", "publish", 95.0), ("rollback", "rollback", 90.0),
                              ("publish", "publishing again", 95.0)):
        answer = world.client.post(f"/api/v1/batches/{batch_id}/{action}", headers=instructor)
        assert answer.status_code == 200, answer.text
        assert {t for _, t in agree(world, browser, room, step).values()} == {top}
