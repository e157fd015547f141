"""An assignment bundle: instructor source, rubric, hidden tests and reference, under one version hash."""

import hashlib
import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from grader.assignments.rubric import Rubric, RubricItem
from grader.errors import NotFound
from grader.notebooks.cells import SourceCell, parse_source_cells

ASSIGNMENTS_DIR = Path(__file__).parent
REFERENCE_DIR = Path(importlib.import_module("tinytorch_ref").__file__ or "").parent
HARNESS_DIR = Path(__file__).parent.parent / "sandbox" / "harness"


@dataclass(frozen=True)
class AssignmentBundle:
    """Everything the grader knows about one assignment; students never see the hidden parts."""

    name: str
    title: str
    module_name: str
    source_text: str
    source_cells: tuple[SourceCell, ...]
    required_names: tuple[str, ...]
    rubric: Rubric
    hidden_tests: ModuleType

    @property
    def probes(self) -> dict[str, Any]:
        """PROBES of hidden_tests.py: every hidden probe and shadow by name (a ProbeDefinition each)."""
        return dict(self.hidden_tests.PROBES)

    def cell(self, grade_id: str) -> SourceCell:
        for cell in self.source_cells:
            if cell.grade_id == grade_id:
                return cell
        raise NotFound(f"the {self.name} source has no cell {grade_id!r}")


def available_assignments() -> list[str]:
    return sorted(p.parent.name for p in ASSIGNMENTS_DIR.glob("*/rubric.yaml"))


def _version(paths: list[Path]) -> str:
    """Hash of every file that decides a score, so results always say what produced them."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path.name).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _rubric_items(spec: dict[str, Any], cells: tuple[SourceCell, ...]) -> tuple[RubricItem, ...]:
    """Items from the YAML; a locked item's points must equal the source's nbgrader points."""
    by_id = {cell.grade_id: cell for cell in cells if cell.grade_id}
    items = []
    for raw in spec["items"]:
        item = RubricItem(id=raw["id"], name=raw["name"], kind=raw["kind"], points=float(raw["points"]),
                          shadow=raw.get("shadow"))
        if item.kind == "locked":
            cell = by_id.get(item.id)
            if cell is None or not cell.locked or not cell.graded:
                raise ValueError(f"rubric item {item.id} is not a locked graded cell of the source")
            if cell.points != item.points:
                raise ValueError(f"rubric gives {item.id} {item.points} points, the source {cell.points}")
        items.append(item)
    return tuple(items)


@cache
def load_assignment(name: str) -> AssignmentBundle:
    """Load and validate a bundled assignment once per process."""
    folder = ASSIGNMENTS_DIR / name
    rubric_path = folder / "rubric.yaml"
    if not rubric_path.is_file():
        raise NotFound(f"unknown assignment {name!r}; known: {', '.join(available_assignments())}")
    spec = yaml.safe_load(rubric_path.read_text())
    source_path = folder / spec["source"]
    source_text = source_path.read_text(encoding="utf-8")
    cells = parse_source_cells(source_text)
    hidden_path = folder / "hidden_tests.py"
    hidden = importlib.import_module(f"grader.assignments.{name}.hidden_tests")
    decisive = [source_path, rubric_path, hidden_path, *sorted(REFERENCE_DIR.glob("*.py")),
                *sorted(HARNESS_DIR.glob("*.py"))]
    rubric = Rubric(items=_rubric_items(spec, cells), locked_test_seeds=tuple(spec["locked_test_seeds"]),
                    version=_version(decisive))
    return AssignmentBundle(
        name=spec["assignment"], title=spec["title"], module_name=spec["module_name"], source_text=source_text,
        source_cells=cells, required_names=tuple(spec["required_names"]), rubric=rubric, hidden_tests=hidden,
    )
