"""Rubric items from assignment.yaml, checked against the source's cells and the bundle's probes."""

from collections.abc import Mapping
from typing import Any

from grader.assignments.marked_yaml import MarkedDocument
from grader.assignments.schema import AssignmentSpec, ItemSpec
from grader.notebooks.cells import SourceCell
from grader.sandbox.job import UnitLimits
from grader.scoring.rubric import RubricItem


def _known(probes: Mapping[str, Any]) -> str:
    return ", ".join(sorted(probes)) if probes else "none: the bundle has no hidden_tests.py or its PROBES is empty"


def _locked(item: ItemSpec, index: int, cells: dict[str, SourceCell], document: MarkedDocument) -> None:
    cell = cells.get(item.id)
    if cell is None:
        raise document.error(("items", index, "id"), f"item {item.id}: the source has no cell {item.id!r}")
    if not (cell.locked and cell.graded):
        raise document.error(("items", index, "id"), f"item {item.id}: the source's cell {item.id} is not a locked "
                                                     "graded cell (nbgrader locked and grade)")
    if cell.points != item.points:
        raise document.error(("items", index, "points"), f"item {item.id} gives {item.points:g} points; the "
                                                         f"source's cell gives {cell.points:g} (nbgrader points)")


def _probe_name(item: ItemSpec, index: int, probes: Mapping[str, Any], document: MarkedDocument) -> str | None:
    named = item.shadow if item.kind == "locked" else item.probe or item.id
    if named is None or named in probes:
        return named
    field = "shadow" if item.kind == "locked" else "probe" if item.probe else "id"
    raise document.error(("items", index, field), f"item {item.id}: unknown probe {named!r}; the hidden tests "
                                                  f"define {_known(probes)}")


def rubric_items(spec: AssignmentSpec, cells: tuple[SourceCell, ...], probes: Mapping[str, Any],
                 document: MarkedDocument) -> tuple[RubricItem, ...]:
    """The items in YAML order; a locked item's points must equal its cell's nbgrader points."""
    by_id = {cell.grade_id: cell for cell in cells if cell.grade_id}
    items = []
    for index, item in enumerate(spec.items):
        if item.kind == "locked":
            _locked(item, index, by_id, document)
        probe = _probe_name(item, index, probes, document)
        limits = None if item.limits is None else UnitLimits(**item.limits.model_dump())
        items.append(RubricItem(id=item.id, name=item.name, kind=item.kind, points=item.points,
                                shadow=item.shadow, probe=probe if item.kind == "hidden" else None, limits=limits))
    return tuple(items)
