"""Rubric items and the versioned rubric of one assignment."""

from dataclasses import dataclass
from typing import Literal

ItemKind = Literal["locked", "hidden"]
Visibility = Literal["visible", "hidden"]


@dataclass(frozen=True)
class RubricItem:
    """One scored line of the rubric: a locked notebook test or a hidden reference probe."""

    id: str
    name: str
    kind: ItemKind
    points: float
    shadow: str | None = None

    @property
    def visibility(self) -> Visibility:
        return "hidden" if self.kind == "hidden" else "visible"


@dataclass(frozen=True)
class Rubric:
    """Items in display order, and the content hash of everything that decides a score."""

    items: tuple[RubricItem, ...]
    locked_test_seeds: tuple[int, ...]
    version: str

    @property
    def max_score(self) -> float:
        return sum(item.points for item in self.items)
