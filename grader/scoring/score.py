"""Points from verdicts: an item earns its points only when its trusted verdict is `passed`."""

from dataclasses import dataclass

from grader.scoring.rubric import Rubric, RubricItem
from grader.scoring.verdict import Verdict


@dataclass(frozen=True)
class ScoredItem:
    """A rubric item with its verdict and the points it earned."""

    item: RubricItem
    verdict: Verdict
    points: float


@dataclass(frozen=True)
class Score:
    items: tuple[ScoredItem, ...]

    @property
    def total(self) -> float:
        return round(sum(scored.points for scored in self.items), 4)

    @property
    def max_total(self) -> float:
        return round(sum(scored.item.points for scored in self.items), 4)


def item_points(item: RubricItem, verdict: Verdict) -> float:
    """All or nothing: partial credit would let random inputs change a score between runs."""
    return item.points if verdict.status == "passed" else 0.0


def score(rubric: Rubric, verdicts: dict[str, Verdict]) -> Score:
    """Every rubric item gets a line; an item without a verdict is `error`, never a pass."""
    lines = []
    for item in rubric.items:
        verdict = verdicts.get(item.id) or Verdict(item.id, "error", "the grader produced no result for this item")
        lines.append(ScoredItem(item=item, verdict=verdict, points=item_points(item, verdict)))
    return Score(items=tuple(lines))
