"""The locked cells of an assignment's other published versions: what a student who downloaded an earlier release
holds. A copy of one of them is `locked_cell_outdated`, not a tamper (grader.notebooks.restore).

Compared as restoration compares with the current source: the code by its tokens (code_identity), and the trusted
nbgrader metadata, because a version that changed a test's points changed its header too.
"""

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from grader.notebooks.cells import SourceCell
from grader.notebooks.code_identity import CodeKey, source_key

TRUSTED_METADATA = ("grade", "locked", "points", "solution")


def trusted_metadata(nbgrader: Mapping[str, object]) -> tuple[object, ...]:
    """The nbgrader fields that decide grading; a student may edit any of them in a .py header."""
    return tuple(nbgrader.get(key) for key in TRUSTED_METADATA)


class ReleasedCell(NamedTuple):
    """One locked cell as one earlier version had it."""

    code: CodeKey
    metadata: tuple[object, ...]


class EarlierReleases:
    """By grade_id, each form a locked cell had in the assignment's other published versions."""

    def __init__(self, cells: Mapping[str, tuple[ReleasedCell, ...]]) -> None:
        self._cells = dict(cells)

    @classmethod
    def of(cls, cell_sets: Iterable[tuple[SourceCell, ...]]) -> "EarlierReleases":
        """From the source cells of each other version."""
        found: dict[str, list[ReleasedCell]] = {}
        for cells in cell_sets:
            for cell in cells:
                if cell.locked and cell.grade_id and cell.cell_type == "code":
                    released = ReleasedCell(source_key(cell.source), trusted_metadata(cell.nbgrader))
                    if released not in found.setdefault(cell.grade_id, []):
                        found[cell.grade_id].append(released)
        return cls({grade_id: tuple(forms) for grade_id, forms in found.items()})

    def __bool__(self) -> bool:
        return bool(self._cells)

    def holds_code(self, grade_id: str, code: CodeKey) -> bool:
        return any(form.code == code for form in self._cells.get(grade_id, ()))

    def holds_metadata(self, grade_id: str, metadata: tuple[object, ...]) -> bool:
        """Compared, never hashed: a student's header may hold anything."""
        return any(form.metadata == metadata for form in self._cells.get(grade_id, ()))

    def by_code(self) -> dict[CodeKey, str]:
        """Grade_id by earlier code, to recognise an earlier locked cell whose header was lost."""
        return {form.code: grade_id for grade_id, forms in self._cells.items() for form in forms}


NO_EARLIER = EarlierReleases({})
