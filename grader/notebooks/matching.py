"""Finding a submission's cells in the instructor source when their nbgrader headers were lost.

Editors and conversions (VS Code's `# %%` cells, `jupytext --to py`, nbconvert's `# In[ ]:` scripts, a
notebook saved without metadata) drop the `nbgrader={...}` header, and with it the grade_id a cell is matched
by. An unlocked cell of the source is then found by what it defines: a header-less student cell that defines
every top-level function and class a source cell defines takes that cell's grade_id. Locked cells are never
matched this way (restore.py recognises them by their code only), and a grade_id the file already carries
is never given to a second cell.
"""

import ast
from dataclasses import dataclass, replace
from functools import lru_cache

from grader.notebooks.cells import SourceCell, StudentCell
from grader.notebooks.code_identity import code_key, source_key


def defined_names(source: str) -> frozenset[str]:
    """The functions and classes a cell defines at its top level; none when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return frozenset()
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return frozenset(node.name for node in tree.body if isinstance(node, kinds))


@lru_cache(maxsize=256)
def _source_names(source: str) -> frozenset[str]:
    """`defined_names` of an instructor's cell, kept: the same few come back for every submission (a student's
    cells are never kept)."""
    return defined_names(source)


@dataclass(frozen=True)
class Findable:
    """An unlocked source cell with a grade_id that defines something, so a lost header can be recovered."""

    grade_id: str
    names: frozenset[str]


def findable_cells(source_cells: tuple[SourceCell, ...]) -> list[Findable]:
    """The source cells a header-less student cell can be matched to, in source order."""
    found = []
    for cell in source_cells:
        if cell.cell_type != "code" or cell.locked or not cell.grade_id:
            continue
        names = _source_names(cell.source)
        if names:
            found.append(Findable(cell.grade_id, names))
    return found


def match_lost_headers(cells: list[StudentCell], source_cells: tuple[SourceCell, ...]) -> list[StudentCell]:
    """The submission's cells, each header-less cell that defines a source cell's names given its grade_id.

    A cell whose code is a locked cell's is left alone: restoring it (and flagging the stripped header) is
    restore.py's business, and it must keep seeing that cell without a grade_id.
    """
    candidates = findable_cells(source_cells)
    taken = {cell.grade_id for cell in cells if cell.grade_id}
    locked_code = {source_key(c.source) for c in source_cells if c.locked and c.cell_type == "code"}
    matched = []
    for cell in cells:
        if cell.cell_type == "code" and cell.grade_id is None and code_key(cell.source) not in locked_code:
            names = defined_names(cell.source)
            target = next((c for c in candidates if c.grade_id not in taken and c.names <= names), None)
            if target is not None:
                taken.add(target.grade_id)
                cell = replace(cell, grade_id=target.grade_id, nbgrader={})
        matched.append(cell)
    return matched
