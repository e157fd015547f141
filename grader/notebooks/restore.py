"""Locked-cell restoration: locked cells always come from the instructor source; every change of code is flagged.

A locked cell whose code is that cell of another published version of the assignment (an earlier release the
student downloaded) is flagged `locked_cell_outdated`, not `locked_cell_edited`: it is restored the same way,
but it is not a tamper.
"""

from dataclasses import dataclass, field

from grader.notebooks.cells import SourceCell, StudentCell
from grader.notebooks.code_identity import code_key, source_key
from grader.notebooks.matching import match_lost_headers
from grader.notebooks.releases import NO_EARLIER, EarlierReleases, trusted_metadata
from grader.sandbox.job import JobCell

OUTDATED = "locked_cell_outdated"


@dataclass
class RestoredNotebook:
    """The cells to execute, the locked graded tests to run, and what the student changed."""

    cells: list[JobCell] = field(default_factory=list)
    tests: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    @property
    def locked_cells_modified(self) -> bool:
        """A cell of an earlier release was not modified by the student, so it alone does not count."""
        return any(flag.startswith("locked_cell_") and not flag.startswith(f"{OUTDATED}:") for flag in self.flags)


class _Restorer:
    def __init__(self, source_cells: tuple[SourceCell, ...], earlier: EarlierReleases) -> None:
        self.locked = {c.grade_id: c for c in source_cells if c.locked and c.grade_id and c.cell_type == "code"}
        self.by_content = {source_key(c.source): c for c in self.locked.values()}
        self.earlier = earlier
        self.by_earlier_content = {key: self.locked[grade_id] for key, grade_id in earlier.by_code().items()
                                   if grade_id in self.locked and key not in self.by_content}
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
            key = code_key(cell.source)
            locked = self.by_content.get(key)
            outdated = locked is None and key in self.by_earlier_content
            locked = locked or self.by_earlier_content.get(key)
            if locked is not None and locked.grade_id not in self.seen:
                self.result.flags.append(f"locked_cell_metadata_stripped:{locked.grade_id}")
                if outdated:
                    self.result.flags.append(f"{OUTDATED}:{locked.grade_id}")
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
        self.result.flags += self._changes(cell, locked, locked.grade_id)
        self.emit_locked(locked)

    def _changes(self, cell: StudentCell, locked: SourceCell, grade_id: str) -> list[str]:
        """Changed code is an edit unless it is this cell's code in another published version (an old release);
        a changed header likewise, unless that version's header came with it; an edit says enough on its own."""
        code, metadata = code_key(cell.source), trusted_metadata(cell.nbgrader)
        flags = []
        if code != source_key(locked.source):
            flags.append(f"{OUTDATED}:{grade_id}" if self.earlier.holds_code(grade_id, code)
                         else f"locked_cell_edited:{grade_id}")
        if metadata != trusted_metadata(locked.nbgrader):
            if not self.earlier.holds_metadata(grade_id, metadata):
                flags.append(f"locked_cell_metadata_edited:{grade_id}")
            elif not flags:
                flags.append(f"{OUTDATED}:{grade_id}")
        return flags

    def finish(self) -> RestoredNotebook:
        for grade_id, cell in self.locked.items():
            if grade_id not in self.seen:
                self.result.flags.append(f"locked_cell_deleted:{grade_id}")
                self.emit_locked(cell)
        return self.result


def restore_locked_cells(student: list[StudentCell], source_cells: tuple[SourceCell, ...],
                         earlier: EarlierReleases = NO_EARLIER) -> RestoredNotebook:
    """Rebuild the notebook to execute: student code where the student writes, instructor code where locked.

    A student cell whose header was lost runs under the grade_id of the source cell it defines (matching.py),
    so messages name the cell the student knows. `earlier` holds the locked cells of the assignment's other
    published versions (grader.services.earlier_releases).
    """
    restorer = _Restorer(source_cells, earlier)
    position = 0
    for cell in match_lost_headers(student, source_cells):
        if cell.cell_type != "code":
            continue
        position += 1
        restorer.visit(cell, position)
    return restorer.finish()
