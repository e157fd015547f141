"""Rubric items and the versioned rubric of one assignment: what scoring needs to know of a bundle."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from grader.sandbox.job import UnitLimits

ItemKind = Literal["locked", "hidden"]
Visibility = Literal["visible", "hidden"]


@dataclass(frozen=True)
class RubricItem:
    """One scored line of the rubric: a locked notebook test or a hidden reference probe.

    `probe` names the hidden item's probe in the bundle's PROBES (the item id when the YAML gives none);
    `shadow` names the probe that replays a locked test outside its own asserts. `limits` are the item's own
    per-unit limits (grader.sandbox.job.UnitLimits), None where it keeps the run's.
    """

    id: str
    name: str
    kind: ItemKind
    points: float
    shadow: str | None = None
    probe: str | None = None
    limits: "UnitLimits | None" = None

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
