"""Every sample, hostile and example submission keeps exactly the score and verdicts recorded before layers
became a bundle (tests/data/recorded_table.json, recorded at main 7bc50b5 by record_table.py).

Each file is graded through the public embedded path on the real bubblewrap sandbox, with the probe seed fixed,
and its row must equal the recorded one: the rejection code and reason, or the run's status, score, integrity
flags, and every rubric item's status, points, message and instructor detail.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.sandbox.runner import SandboxRunner

from .record_table import TABLE, cases, grade, grading

RECORDED: dict[str, dict[str, Any]] = json.loads(TABLE.read_text(encoding="utf-8"))
CASES = {case.key: case for case in cases()}


@pytest.fixture(scope="module")
def graded_in() -> Iterator[tuple[Path, SandboxRunner]]:
    with grading() as context:
        yield context


def test_the_table_covers_every_submission_file() -> None:
    """A file added to (or removed from) the data folders needs its row, recorded from the code of its day."""
    assert sorted(CASES) == sorted(RECORDED)


def test_the_table_holds_every_kind_of_outcome() -> None:
    """Guards the table itself: full marks, partial marks, rejections, flags and every status are in it."""
    rows = RECORDED.values()
    statuses = {item["status"] for row in rows for item in row.get("items", [])}
    assert statuses == {"passed", "failed", "error", "timeout", "memory"}
    assert {row.get("rejected") for row in rows} >= {"empty", "not_text", None}
    assert any(row.get("flags") for row in rows) and any(row.get("score") == 90 for row in rows)
    assert len({row.get("score") for row in rows}) >= 6


def _by_id(row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in row.get("items", [])}


@pytest.mark.parametrize("key", sorted(RECORDED))
def test_submission_keeps_its_recorded_score_and_verdicts(key: str, graded_in: tuple[Path, SandboxRunner]) -> None:
    home, runner = graded_in
    row = grade(CASES[key], home, runner)
    recorded = RECORDED[key]
    assert {k: v for k, v in row.items() if k != "items"} == {k: v for k, v in recorded.items() if k != "items"}
    graded = _by_id(row)
    for item_id, verdict in _by_id(recorded).items():
        assert graded.get(item_id) == verdict, item_id
    assert list(graded) == list(_by_id(recorded)), "the rubric's items in their recorded order"
