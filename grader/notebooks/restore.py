"""Locked-cell restoration: locked cells always come from the instructor source; every change of code is flagged."""

from dataclasses import dataclass, field

from grader.notebooks.cells import SourceCell, StudentCell
from grader.notebooks.code_identity import code_key, same_code, source_key
from grader.notebooks.matching import match_lost_headers
from grader.sandbox.job import JobCell

TRUSTED_METADATA = ("grade", "locked", "points", "solution")


@dataclass
class RestoredNotebook:
    """The cells to execute, the locked graded tests to run, and what the student changed."""

    cells: list[JobCell] = field(default_factory=list)
    tests: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    @property
    def locked_cells_modified(self) -> bool:
        return any(flag.startswith("locked_cell_") for flag in self.flags)


class _Restorer:
    def __init__(self, source_cells: tuple[SourceCell, ...]) -> None:
        self.locked = {c.grade_id: c for c in source_cells if c.locked and c.grade_id and c.cell_type == "code"}
        self.by_content = {source_key(c.source): c for c in self.locked.values()}
        self.seen: set[str] = set()
        self.result = RestoredNotebook()

    def emit_locked(self, cell: SourceCell) -> None:
        """A locked cell runs as the instructor wrote it; graded ones are run as tests, not inline."""
        assert cell.grade_id is not None
        self.seen.add(cell.grade_id)
        if cell.graded:
            self.result.tests[cell.grade_id] = cell.source
        else:
            self.result.cells.append(JobCell(key=cell.grade_id, source=cell.source))

    def visit(self, cell: StudentCell, position: int) -> None:
        locked = self.locked.get(cell.grade_id or "")
        if locked is None and cell.grade_id is None:
            locked = self.by_content.get(code_key(cell.source))
            if locked is not None and locked.grade_id not in self.seen:
                self.result.flags.append(f"locked_cell_metadata_stripped:{locked.grade_id}")
                self.emit_locked(locked)
                return
            if locked is not None:
                self.result.flags.append(f"locked_cell_duplicated:{locked.grade_id}")
                return
        if locked is None:
            self.result.cells.append(JobCell(key=cell.grade_id or f"cell {position}", source=cell.source))
            return
        assert locked.grade_id is not None
        if locked.grade_id in self.seen:
            self.result.flags.append(f"locked_cell_duplicated:{locked.grade_id}")
            return
        if not same_code(cell.source, locked.source):
            self.result.flags.append(f"locked_cell_edited:{locked.grade_id}")
        if any(cell.nbgrader.get(key) != locked.nbgrader.get(key) for key in TRUSTED_METADATA):
            self.result.flags.append(f"locked_cell_metadata_edited:{locked.grade_id}")
        self.emit_locked(locked)

    def finish(self) -> RestoredNotebook:
        for grade_id, cell in self.locked.items():
            if grade_id not in self.seen:
                self.result.flags.append(f"locked_cell_deleted:{grade_id}")
                self.emit_locked(cell)
        return self.result


def restore_locked_cells(student: list[StudentCell], source_cells: tuple[SourceCell, ...]) -> RestoredNotebook:
    """Rebuild the notebook to execute: student code where the student writes, instructor code where locked.

    A student cell whose header was lost runs under the grade_id of the source cell it defines (matching.py),
    so messages name the cell the student knows.
    """
    restorer = _Restorer(source_cells)
    position = 0
    for cell in match_lost_headers(student, source_cells):
        if cell.cell_type != "code":
            continue
        position += 1
        restorer.visit(cell, position)
    return restorer.finish()
