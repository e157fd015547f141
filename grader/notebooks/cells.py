"""Cells as the grader sees them: code, kind and the nbgrader metadata that only the instructor may set."""

from dataclasses import dataclass, field
from typing import Any

import jupytext
import nbformat


@dataclass(frozen=True)
class SourceCell:
    """A cell of the instructor source; its metadata is the truth about ids, points and locks."""

    index: int
    cell_type: str
    source: str
    grade_id: str | None
    locked: bool
    graded: bool
    solution: bool
    points: float
    nbgrader: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StudentCell:
    """A cell of a submission; its metadata is only a hint for matching, never trusted."""

    index: int
    cell_type: str
    source: str
    grade_id: str | None
    nbgrader: dict[str, Any] = field(default_factory=dict)


def nbgrader_metadata(cell: nbformat.NotebookNode) -> dict[str, Any]:
    metadata = cell.get("metadata", {}).get("nbgrader", {})
    return dict(metadata) if isinstance(metadata, dict) else {}


def _grade_id(metadata: dict[str, Any]) -> str | None:
    value = metadata.get("grade_id")
    return value if isinstance(value, str) and value else None


def parse_source_cells(text: str) -> tuple[SourceCell, ...]:
    """Cells of the instructor's percent-format source, with nbgrader flags resolved."""
    notebook = jupytext.reads(text, fmt="py:percent")
    cells = []
    for index, cell in enumerate(notebook.cells):
        metadata = nbgrader_metadata(cell)
        cells.append(SourceCell(
            index=index, cell_type=cell.cell_type, source=cell.source, grade_id=_grade_id(metadata),
            locked=bool(metadata.get("locked", False)), graded=bool(metadata.get("grade", False)),
            solution=bool(metadata.get("solution", False)), points=float(metadata.get("points", 0) or 0),
            nbgrader=metadata,
        ))
    return tuple(cells)


def student_cells(notebook: nbformat.NotebookNode) -> list[StudentCell]:
    cells = []
    for index, cell in enumerate(notebook.cells):
        source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        metadata = nbgrader_metadata(cell)
        cells.append(StudentCell(index=index, cell_type=cell.cell_type, source=source,
                                 grade_id=_grade_id(metadata), nbgrader=metadata))
    return cells

