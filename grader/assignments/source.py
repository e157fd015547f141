"""The instructor source of a bundle: a jupytext percent .py or an .ipynb, read as percent text and its cells."""

from pathlib import Path

import jupytext

from grader.errors import BundleInvalid
from grader.notebooks.cells import SourceCell, parse_source_cells

SOURCE_SUFFIXES = (".py", ".ipynb")


def source_text(body: bytes, *, suffix: str, file: str) -> str:
    """The source as percent text (a notebook converted, cells and nbgrader metadata kept)."""
    if suffix.lower() not in SOURCE_SUFFIXES:
        raise BundleInvalid("the instructor source must be a jupytext percent .py or an .ipynb", file=file)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BundleInvalid(f"not UTF-8 text (byte {exc.start})", file=file) from exc
    if suffix.lower() == ".py":
        return text
    try:
        return str(jupytext.writes(jupytext.reads(text, fmt="ipynb"), fmt="py:percent"))
    except Exception as exc:  # nbformat and json raise many kinds for one bad notebook
        raise BundleInvalid(f"not a readable notebook: {type(exc).__name__}: {str(exc)[:300]}", file=file) from exc


def check_solution_regions(text: str, *, file: str) -> None:
    """Every `### BEGIN SOLUTION` is closed by an `### END SOLUTION` before the next begins (the release needs it)."""
    opened: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        marker = line.strip()
        if marker == "### BEGIN SOLUTION":
            if opened is not None:
                raise BundleInvalid(f"a ### BEGIN SOLUTION opened on line {opened} is never closed", file=file,
                                    line=opened)
            opened = number
        elif marker == "### END SOLUTION":
            if opened is None:
                raise BundleInvalid("### END SOLUTION without a ### BEGIN SOLUTION", file=file, line=number)
            opened = None
    if opened is not None:
        raise BundleInvalid("this ### BEGIN SOLUTION is never closed", file=file, line=opened)


def read_source(path: Path, *, file: str) -> tuple[str, tuple[SourceCell, ...]]:
    """The source's percent text and its cells, nbgrader flags resolved."""
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise BundleInvalid(f"cannot read the instructor source: {exc.strerror}", file=file) from exc
    text = source_text(body, suffix=path.suffix, file=file)
    check_solution_regions(text, file=file if path.suffix.lower() == ".py" else f"{file} (as percent text)")
    try:
        cells = parse_source_cells(text)
    except Exception as exc:  # jupytext's percent reader raises on malformed cell metadata
        raise BundleInvalid(f"not a readable percent source: {type(exc).__name__}: {str(exc)[:300]}",
                            file=file) from exc
    seen: dict[str, int] = {}
    for cell in cells:
        if cell.grade_id in seen:
            raise BundleInvalid(f"the grade_id {cell.grade_id!r} is on two cells (cells {seen[cell.grade_id] + 1} "
                                f"and {cell.index + 1}); a grade_id names one cell", file=file)
        if cell.grade_id:
            seen[cell.grade_id] = cell.index
    return text, cells
