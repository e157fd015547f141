"""Scoring is all or nothing per item, and an item without a verdict is an error, never a pass."""

import pytest

from grader.scoring.rubric import Rubric, RubricItem
from grader.scoring.score import item_points, score
from grader.scoring.verdict import STATUSES, Verdict

ITEM = RubricItem(id="a", name="A", kind="hidden", points=5)
RUBRIC = Rubric(items=(ITEM, RubricItem(id="b", name="B", kind="locked", points=10)), locked_test_seeds=(1,),
                version="v")


@pytest.mark.parametrize("status,expected", [(s, 5.0 if s == "passed" else 0.0) for s in STATUSES])
def test_item_points_by_status(status: str, expected: float) -> None:
    assert item_points(ITEM, Verdict("a", status)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("verdicts,total", [
    ({"a": "passed", "b": "passed"}, 15),
    ({"a": "passed", "b": "failed"}, 5),
    ({"a": "timeout", "b": "passed"}, 10),
    ({"a": "memory", "b": "error"}, 0),
    ({"b": "passed"}, 10),
    ({}, 0),
])
def test_totals(verdicts: dict[str, str], total: float) -> None:
    result = score(RUBRIC, {k: Verdict(k, v) for k, v in verdicts.items()})  # type: ignore[arg-type]
    assert result.total == total
    assert result.max_total == 15
    assert [line.item.id for line in result.items] == ["a", "b"]


def test_missing_verdict_is_an_error() -> None:
    result = score(RUBRIC, {})
    assert {line.verdict.status for line in result.items} == {"error"}
