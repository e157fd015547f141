"""Cells parsed once, at upload, and kept with the submission: grading and every regrade skip the parse.

Reading a notebook with jupytext is the largest host-side cost of grading (about 10 ms, 40% of a worker's CPU
per submission). The upload already parses it to validate it, so the cells are stored then, stamped with the
reader that produced them; a different reader (an upgrade of jupytext, nbformat or this code) parses again.
"""

from typing import Any

import jupytext
import nbformat

from grader.notebooks.cells import StudentCell

READER_VERSION = f"jupytext {jupytext.__version__}; nbformat {nbformat.__version__}; cells 1"


def stored_cells(cells: list[StudentCell]) -> dict[str, Any]:
    """The JSON kept in `submissions.parsed_cells`."""
    return {"reader": READER_VERSION,
            "cells": [{"index": cell.index, "cell_type": cell.cell_type, "source": cell.source,
                       "grade_id": cell.grade_id, "nbgrader": cell.nbgrader} for cell in cells]}


def _cell(entry: Any) -> StudentCell:
    if not isinstance(entry, dict):
        raise TypeError("a stored cell is not an object")
    index, cell_type, source = entry["index"], entry["cell_type"], entry["source"]
    grade_id, nbgrader = entry.get("grade_id"), entry.get("nbgrader") or {}
    if not (isinstance(index, int) and isinstance(cell_type, str) and isinstance(source, str)
            and (grade_id is None or isinstance(grade_id, str)) and isinstance(nbgrader, dict)):
        raise TypeError("a stored cell has a field of the wrong type")
    return StudentCell(index=index, cell_type=cell_type, source=source, grade_id=grade_id, nbgrader=nbgrader)


def cells_from_store(stored: Any) -> list[StudentCell] | None:
    """The stored cells when this reader produced them; None (parse the bytes again) for anything else."""
    if not isinstance(stored, dict) or stored.get("reader") != READER_VERSION or not isinstance(
            stored.get("cells"), list):
        return None
    try:
        return [_cell(entry) for entry in stored["cells"]]
    except (KeyError, TypeError):
        return None
