"""The rubric items' "weakest" mark: only an item strictly below every other one; a tie is said in words."""

import pytest

from grader.dashboard.views import item_lines
from grader.services.scores import AssignmentStats, ItemStats


def _stats(passed: list[int | None]) -> AssignmentStats:
    items = [ItemStats(id=f"item-{n}", name=f"item {n}", points=10, visibility="visible",
                       graded=0 if count is None else 3, passed=count or 0,
                       pass_rate=None if count is None else count / 3) for n, count in enumerate(passed)]
    return AssignmentStats(assignment="layers", students=3, max_score=10 * len(items), max_scores=[10 * len(items)],
                           mean=None, median=None,
                           histogram=[], items=items)


@pytest.mark.parametrize(("passed", "weakest", "tied"), [
    ([3, 3, 1, 2], {"item-2"}, 0),
    ([2] * 9 + [3, 3], set(), 9),          # 9 of 11 items at 67%: none is "weakest", the caption says they tie
    ([1, 1, 3], set(), 2),
    ([2, 2, 2], set(), 3),                  # all equal: nothing is below the rest
    ([None, 1, 3], {"item-1"}, 0),          # an item with no results is not compared
    ([2], set(), 0),                        # one item is below nothing
    ([None, None], set(), 0),
])
def test_only_an_item_strictly_below_the_rest_is_weakest(passed: list[int | None], weakest: set[str],
                                                          tied: int) -> None:
    rates = item_lines(_stats(passed))
    assert {line.item.id for line in rates.lines if line.weakest} == weakest
    assert rates.tied_at_lowest == tied
