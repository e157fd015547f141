"""The student's file with line numbers, the code of the cells students write (solution cells) marked out."""

from dataclasses import dataclass

import jupytext

from grader.assignments.bundle import AssignmentBundle
from grader.errors import Rejected
from grader.notebooks.cells import StudentCell, student_cells
from grader.notebooks.lines import locate_cells
from grader.notebooks.reader import decode_text, parse_notebook

MAX_MARKED_CELLS = 20


@dataclass(frozen=True)
class CodeLine:
    number: int
    text: str


@dataclass(frozen=True)
class CodeBlock:
    """Consecutive lines; `solution` names the solution cell they are the student's code of, if any."""

    solution: str | None
    lines: list[CodeLine]


@dataclass(frozen=True)
class CodeListing:
    """What the code panel shows; `note` says why nothing is marked when the file could not be read as cells."""

    blocks: list[CodeBlock]
    marked: list[str]
    note: str


def _regions(lines: list[str], cells: list[StudentCell], solution_ids: set[str]) -> dict[int, tuple[int, str]]:
    """start line index -> (end index, grade id) of each solution cell found in the text, in cell order."""
    wanted = [(cell.grade_id, cell.source) for cell in cells
              if cell.cell_type == "code" and cell.grade_id and cell.grade_id in solution_ids]
    found = list(locate_cells(lines, wanted).items())[:MAX_MARKED_CELLS]
    return {span.start: (span.stop, grade_id) for grade_id, span in found}


def _blocks(lines: list[str], regions: dict[int, tuple[int, str]]) -> list[CodeBlock]:
    blocks: list[CodeBlock] = []
    index = 0
    plain: list[CodeLine] = []
    while index < len(lines):
        if index in regions:
            if plain:
                blocks.append(CodeBlock(solution=None, lines=plain))
                plain = []
            end, grade_id = regions[index]
            blocks.append(CodeBlock(solution=grade_id,
                                    lines=[CodeLine(n + 1, lines[n]) for n in range(index, end)]))
            index = end
            continue
        plain.append(CodeLine(index + 1, lines[index]))
        index += 1
    if plain:
        blocks.append(CodeBlock(solution=None, lines=plain))
    return blocks


def code_listing(content: bytes, filename: str, bundle: AssignmentBundle, *, max_bytes: int,
                 cells: list[StudentCell] | None = None) -> CodeListing:
    """Read the stored file with the grader's own reader; cells are matched to the source's by grade_id.

    `cells` are the ones parsed at upload (grader.notebooks.stored); a .py file is then not parsed again. A
    notebook (.ipynb) is shown in its percent-format text, so lines read the same as a .py submission's.
    """
    solution_ids = {cell.grade_id for cell in bundle.source_cells if cell.solution and cell.grade_id}
    try:
        text = decode_text(content, max_bytes=max_bytes)
        is_notebook = filename.lower().endswith(".ipynb") or text.lstrip().startswith("{")
        if cells is None or is_notebook:
            notebook = parse_notebook(text, filename)
            cells = student_cells(notebook)
            text = jupytext.writes(notebook, fmt="py:percent") if is_notebook else text
    except Rejected as exc:
        raw = content.decode("utf-8", errors="replace")
        return CodeListing(blocks=_blocks(raw.split("\n"), {}), marked=[],
                           note=f"The file could not be read as cells ({exc.reason}); nothing is marked.")
    lines = text.split("\n")
    regions = _regions(lines, cells, solution_ids)
    marked = [grade_id for _, grade_id in sorted(regions.values())]
    note = "" if regions else "No solution cell of the assignment was found in this file by its grade_id."
    return CodeListing(blocks=_blocks(lines, regions), marked=marked, note=note)
