"""Where a cell's code sits in the student's own file, so a message can name the line their editor shows.

The sandbox reports "cell matmul-naive, line 12": the line within the cell it compiled. A student reading
layers_dev.py wants line 61. A cell's source is found in the file as a run of lines (the percent format keeps
each cell's code verbatim below its `# %%` header); a cell that is not there as written (a locked cell the
grader restored, or a notebook file, whose lines mean nothing to the student) keeps the message as it was.
"""

import re
from collections.abc import Sequence

CELL_LINE = re.compile(r"cell (?P<key>[^,\n]{1,200}), line (?P<line>\d{1,7})")


def _find_run(lines: list[str], wanted: list[str], start: int) -> int | None:
    for index in range(start, len(lines) - len(wanted) + 1):
        if lines[index] == wanted[0] and lines[index:index + len(wanted)] == wanted:
            return index
    return None


def locate_cells(lines: list[str], cells: Sequence[tuple[str, str]]) -> dict[str, range]:
    """0-based line range of each (key, source) cell's code, blank lines around it left out, for cells found
    in this order in the file's lines (`str.splitlines`, as the notebook reader splits a cell's source)."""
    found: dict[str, range] = {}
    cursor = 0
    for key, source in cells:
        wanted = source.strip("\n").splitlines()
        at = _find_run(lines, wanted, cursor) if wanted else None
        if at is not None:
            found[key] = range(at, at + len(wanted))
            cursor = at + len(wanted)
    return found


def cell_first_lines(text: str, cells: Sequence[tuple[str, str]]) -> dict[str, int]:
    """1-based file line of each cell's first line (its leading blank lines counted), for cells found."""
    spans = locate_cells(text.splitlines(), cells)
    return {key: spans[key].start + 1 - _leading_blank_lines(source) for key, source in cells if key in spans}


def _leading_blank_lines(source: str) -> int:
    return len(source) - len(source.lstrip("\n"))


def with_file_lines(message: str, first_lines: dict[str, int], filename: str) -> str:
    """'cell K, line N' becomes 'layers_dev.py line M, cell K line N' where cell K was found in the file."""
    def located(match: re.Match[str]) -> str:
        first = first_lines.get(match["key"])
        if first is None:
            return match[0]
        return f"{filename} line {first + int(match['line']) - 1}, cell {match['key']} line {match['line']}"
    return CELL_LINE.sub(located, message)
