"""Instructor aggregates: assignments with counts, per-student scores (JSON and gradebook CSV), statistics."""

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from grader.assignments.registry import shipped_assignments
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner
from grader.services.scores import ScoreRow, gradebook_csv
from tests.api.conftest import ApiWorld, build_world, grade_now, submit
from tests.conftest import EXAMPLE_SOLUTION, SUBMISSIONS

SOLUTION = EXAMPLE_SOLUTION.read_bytes()
EDITED_LOCKED_TEST = SOLUTION.replace(b"def test_unit_matrix_multiplication():\n",
                                      b"def test_unit_matrix_multiplication():\n    return None\n", 1)
# (student, content, graded): in submission order; dave's is still queued.
SUBMITTED = [
    ("alice", (SUBMISSIONS / "release.py").read_bytes(), True),
    ("bob", SOLUTION, True),
    ("carol", (SUBMISSIONS / "wrong_matmul_index.py").read_bytes(), True),
    ("alice", EDITED_LOCKED_TEST, True),
    ("bob", (SUBMISSIONS / "bias_ignored.py").read_bytes(), True),
    ("dave", SOLUTION, False),
]


@pytest.fixture(scope="module")
def classroom(api_database: str, runner: SandboxRunner, limits: SandboxLimits) -> Iterator[ApiWorld]:
    world = build_world(api_database)
    with world.client:
        for student, content, graded in SUBMITTED:
            assert submit(world.client, world.tokens["lms"], student=student, content=content).status_code == 202
            if graded:
                grade_now(world.factory, world.dispatcher.messages[-1].run_id, runner, limits)
        yield world


def _get(world: ApiWorld, path: str) -> object:
    response = world.client.get(path, headers=world.headers("instructor"))
    assert response.status_code == 200, response.text
    return response.json()


def test_assignments_list_rubric_and_counts_by_status(classroom: ApiWorld) -> None:
    listed = _get(classroom, "/api/v1/assignments")
    assert isinstance(listed, list) and [a["id"] for a in listed] == shipped_assignments()
    detail = _get(classroom, "/api/v1/assignments/layers")
    assert isinstance(detail, dict)
    assert detail["counts"] == {"queued": 1, "running": 0, "graded": 5, "error": 0}
    assert (detail["submissions"], detail["students"], detail["max_score"]) == (6, 4, 90)
    assert sum(item["points"] for item in detail["rubric"]) == 90 and len(detail["rubric"]) == 11
    assert {item["visibility"] for item in detail["rubric"]} == {"visible", "hidden"}
    assert _get(classroom, "/api/v1/assignments/layers") == detail, "reads are repeatable"


def test_scores_one_row_per_student_with_latest_best_count_and_flags(classroom: ApiWorld) -> None:
    table = _get(classroom, "/api/v1/assignments/layers/scores")
    assert isinstance(table, dict) and table["assignment"] == "layers"
    rows = {row["student"]: row for row in table["students"]}
    assert [row["student"] for row in table["students"]] == ["alice", "bob", "carol", "dave"]
    summary = {name: (r["submissions"], r["graded"], r["latest_score"], r["best_score"]) for name, r in rows.items()}
    assert summary == {"alice": (2, 2, 90, 90), "bob": (2, 2, 75, 90), "carol": (1, 1, 10, 10),
                       "dave": (1, 0, None, None)}
    assert any(flag.startswith("locked_cell_edited") for flag in rows["alice"]["flags"])
    assert rows["bob"]["flags"] == [] and rows["alice"]["max_score"] == 90


@pytest.mark.parametrize(("policy", "expected"), [
    ("latest", [["alice", "90", "90"], ["bob", "75", "90"], ["carol", "10", "90"], ["dave", "", "90"]]),
    ("best", [["alice", "90", "90"], ["bob", "90", "90"], ["carol", "10", "90"], ["dave", "", "90"]]),
])
def test_scores_csv_is_a_gradebook_import(classroom: ApiWorld, policy: str, expected: list[list[str]]) -> None:
    response = classroom.client.get(f"/api/v1/assignments/layers/scores?format=csv&policy={policy}",
                                    headers=classroom.headers("instructor"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["student_id", "score", "max_score"] and rows[1:] == expected


def test_stats_over_each_students_latest_graded_submission(classroom: ApiWorld) -> None:
    stats = _get(classroom, "/api/v1/assignments/layers/stats")
    assert isinstance(stats, dict)
    assert stats["students"] == 3 and stats["median"] == 75
    assert stats["mean"] == pytest.approx((90 + 75 + 10) / 3)
    counts = [b["count"] for b in stats["histogram"]]
    assert len(counts) == 10 and counts[1] == counts[8] == counts[9] == 1 and sum(counts) == 3
    assert stats["histogram"][-1]["upper"] == 90
    items = {item["id"]: item for item in stats["items"]}
    assert len(items) == 11 and all(item["graded"] == 3 for item in items.values())
    assert items["test-matmul-immediate"]["pass_rate"] == pytest.approx(2 / 3)
    assert items["hidden-dense-forward"]["pass_rate"] == pytest.approx(1 / 3)


def test_unknown_assignment_is_404_everywhere(classroom: ApiWorld) -> None:
    for suffix in ("", "/scores", "/scores?format=csv", "/stats"):
        response = classroom.client.get(f"/api/v1/assignments/pooling{suffix}", headers=classroom.headers("instructor"))
        assert response.status_code == 404 and response.json()["error"] == "not_found"
    response = classroom.client.get("/api/v1/assignments/layers/scores?format=xml",
                                    headers=classroom.headers("instructor"))
    assert response.status_code == 422


@pytest.mark.parametrize(("student", "cell"), [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"), ("+1", "'+1"), ("-2", "'-2"),
    ("@SUM(A1)", "'@SUM(A1)"), ("alice", "alice"), ("o'neil", "o'neil"),
])
def test_gradebook_csv_never_carries_a_formula(student: str, cell: str) -> None:
    """A student id an LMS sends is text in the export: a spreadsheet opening the CSV must not evaluate it."""
    row = ScoreRow(student=student, submissions=1, graded=1, latest_score=90, best_score=90, max_score=90,
                   best_max_score=90, latest_submission_id="s", latest_submitted_at=datetime.now(UTC), flags=[])
    rows = list(csv.reader(io.StringIO(gradebook_csv([row], "latest"))))
    assert rows == [["student_id", "score", "max_score"], [cell, "90", "90"]]
