"""The student release: the instructor source with every solution cleared, as nbgrader does.

A solution sits between `### BEGIN SOLUTION` and `### END SOLUTION`, or fills a whole code cell marked
`"solution": true` that has no such region; either way only `# YOUR CODE HERE` and `raise NotImplementedError()`
are left.
"""

import json
import re
from pathlib import Path

import jupytext

from grader.assignments.loader import load_bundle
from grader.assignments.registry import find_assignment

BEGIN = re.compile(r"^(?P<indent>\s*)### BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
CELL_HEADER = re.compile(r"^# %%(?P<rest>.*)$")
NBGRADER = re.compile(r"nbgrader=(?P<json>\{.*?\})(\s|$)")
PLACEHOLDER = ["# YOUR CODE HERE\n", "raise NotImplementedError()\n"]


def _clear_regions(lines: list[str]) -> list[str]:
    released: list[str] = []
    inside = False
    for line in lines:
        begin = BEGIN.match(line)
        if begin and not inside:
            indent = begin.group("indent")
            released += [f"{indent}{placeholder}" for placeholder in PLACEHOLDER]
            inside = True
        elif inside and END.match(line):
            inside = False
        elif not inside:
            released.append(line)
    if inside:
        raise ValueError("a ### BEGIN SOLUTION region is never closed")
    return released


def _whole_solution_cell(header: str) -> bool:
    """A code cell whose nbgrader metadata says solution (a markdown cell's header says [markdown])."""
    match = NBGRADER.search(header)
    if match is None or "[markdown]" in header:
        return False
    try:
        metadata = json.loads(match.group("json"))
    except ValueError:
        return False
    return isinstance(metadata, dict) and metadata.get("solution") is True


def _cells(lines: list[str]) -> list[list[str]]:
    """The text split at each `# %%` header (the lines before the first header are a cell of their own)."""
    cells: list[list[str]] = [[]]
    for line in lines:
        if CELL_HEADER.match(line):
            cells.append([])
        cells[-1].append(line)
    return cells


def _clear_cell(cell: list[str]) -> list[str]:
    if cell and CELL_HEADER.match(cell[0]) and _whole_solution_cell(cell[0]) \
            and not any(BEGIN.match(line) for line in cell):
        blank = 0
        while blank < len(cell) - 1 and not cell[-1 - blank].strip():
            blank += 1
        return [cell[0], *PLACEHOLDER, *cell[len(cell) - blank:]]
    return _clear_regions(cell)


def clear_solutions(source: str) -> str:
    """Replace each solution (region or whole solution cell) with `# YOUR CODE HERE` and
    `raise NotImplementedError()`."""
    return "".join(line for cell in _cells(source.splitlines(keepends=True)) for line in _clear_cell(cell))


def release_notebook(source: str) -> str:
    """The release as an nbformat 4 notebook, cells and nbgrader metadata as in the percent file."""
    return str(jupytext.writes(jupytext.reads(clear_solutions(source), fmt="py:percent"), fmt="ipynb"))


def release_of(*, assignment: str | None, bundle: Path | None, suffix: str | None) -> tuple[str, str]:
    """The release of a shipped assignment or of the bundle at a path: (the bundle's submission file name, text).

    `suffix` picks the form (.py percent or .ipynb); without one it is the submission file's own.
    """
    loaded = load_bundle(bundle) if bundle is not None else find_assignment(assignment or "")
    form = suffix or Path(loaded.submission_filename).suffix.lower()
    text = release_notebook(loaded.source_text) if form == ".ipynb" else clear_solutions(loaded.source_text)
    return loaded.submission_filename, text
