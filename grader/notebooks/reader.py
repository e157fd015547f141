"""Turning uploaded bytes into cells, or a rejection that names the problem."""

import json

import jupytext
import nbformat

from grader.errors import Rejected
from grader.notebooks.cells import SourceCell, StudentCell, student_cells
from grader.notebooks.matching import defined_names, findable_cells


def decode_text(content: bytes, *, max_bytes: int) -> str:
    """UTF-8 text within the size limit; anything else is rejected before parsing."""
    if len(content) > max_bytes:
        raise Rejected(f"the file is {len(content) / 1024:.0f} KiB, over the {max_bytes // 1024} KiB limit",
                       code="too_large")
    if not content.strip():
        raise Rejected("the file is empty", code="empty")
    if b"\0" in content:
        raise Rejected("the file is not text (it contains NUL bytes; is it binary?)", code="not_text")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Rejected(f"the file is not UTF-8 text (bad byte at offset {exc.start})", code="not_text") from exc


SUPPORTED_TYPES = (".py", ".ipynb")
CELL_TYPES = frozenset({"code", "markdown", "raw"})


def parse_notebook(text: str, filename: str) -> nbformat.NotebookNode:
    """.ipynb JSON or a jupytext percent .py file; only the two types the README promises are read."""
    looks_like_json = text.lstrip().startswith("{")
    if filename.lower().endswith(".ipynb") or looks_like_json:
        return _parse_ipynb(text)
    if filename and not filename.lower().endswith(SUPPORTED_TYPES):
        raise Rejected(f"unsupported file type {filename!r}: submit layers_dev.py or layers_dev.ipynb",
                       code="unsupported_type")
    try:
        return jupytext.reads(text, fmt="py:percent")
    except Exception as exc:
        raise Rejected(f"the file could not be read as a percent-format notebook: {str(exc)[:200]}",
                       code="not_notebook") from exc


def _not_notebook(problem: str) -> Rejected:
    return Rejected(f"the file is not a valid .ipynb notebook: {problem}", code="not_notebook")


def _parse_ipynb(text: str) -> nbformat.NotebookNode:
    """Check the shape the grader relies on before nbformat sees it, so odd JSON is a rejection, not a crash."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _not_notebook(f"it is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from exc
    except RecursionError as exc:
        raise _not_notebook("its JSON is nested too deeply") from exc
    if not isinstance(data, dict):
        raise _not_notebook(f"its top level is a JSON {_json_kind(data)}, not an object")
    version = data.get("nbformat")
    if version != 4 or isinstance(version, bool):
        raise _not_notebook(f"it declares nbformat {str(version)[:40]!r}; version 4 notebooks are read "
                            "(Jupyter, JupyterLab and Colab save version 4)" if "nbformat" in data
                            else "it has no \"nbformat\" version (is it a notebook?)")
    minor = data.setdefault("nbformat_minor", 0)
    if not isinstance(minor, int) or isinstance(minor, bool) or minor < 0:
        raise _not_notebook(f"its nbformat_minor is {str(minor)[:40]!r}, not a version number")
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise _not_notebook("it has no list of cells")
    # The notebook's own metadata (kernel, jupytext options) and a cell's, but for its nbgrader hints, decide
    # nothing here, and a student's odd values in them (a number as jupytext's cell_marker) would steer jupytext
    # when the dashboard shows the file: the grader reads the cells' type, source and nbgrader metadata only.
    data["metadata"] = {}
    for index, cell in enumerate(cells):
        problem = _cell_problem(cell)
        if problem:
            raise _not_notebook(f"cell {index} {problem}")
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
        metadata = cell.get("metadata", {})
        cell["metadata"] = {"nbgrader": metadata["nbgrader"]} if "nbgrader" in metadata else {}
    try:
        return nbformat.from_dict(data)
    except RecursionError as exc:
        raise _not_notebook("its metadata is nested too deeply") from exc


def _cell_problem(cell: object) -> str | None:
    """What is wrong with one cell, in the fields the grader reads (type, source, metadata); None if nothing."""
    if not isinstance(cell, dict):
        return f"is a JSON {_json_kind(cell)}, not an object"
    cell_type = cell.get("cell_type")
    if not (isinstance(cell_type, str) and cell_type in CELL_TYPES):
        return f"has cell_type {str(cell_type)[:40]!r}, not one of code, markdown, raw"
    source = cell.get("source")
    if not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source))):
        return "has no source text (a string or a list of strings)"
    if not isinstance(cell.get("metadata", {}), dict):
        return "has metadata that is not an object"
    return None


def _json_kind(value: object) -> str:
    kinds = {list: "array", str: "string", bool: "boolean", int: "number", float: "number", type(None): "null"}
    return kinds.get(type(value), "value")


def check_assignment(cells: list[StudentCell], source_cells: tuple[SourceCell, ...], assignment: str,
                     required_names: tuple[str, ...]) -> None:
    """A submission must carry a cell of the assignment that holds a required name: by its grade_id or, its
    header lost, by defining a required name; otherwise it is rejected, naming the cells it lacks. An assignment
    without required names asks for any cell of its own."""
    required = set(required_names)
    wanted = [c for c in findable_cells(source_cells) if c.names & required]
    ids = {c.grade_id for c in wanted} or {c.grade_id for c in source_cells if c.grade_id}
    if any(cell.grade_id in ids for cell in cells):
        return
    # a header-lost cell that defines what a wanted cell defines defines a required name: one test covers both
    if required & set().union(*(defined_names(c.source) for c in cells if c.cell_type == "code")):
        return
    missing = ", ".join(c.grade_id for c in wanted) or ", ".join(sorted(ids)) or "none"
    names = f" and defines none of {', '.join(required_names)}" if required_names else ""
    raise Rejected(f"this is not a {assignment} notebook: it has no cell of the assignment ({missing}){names}",
                   code="wrong_assignment")


def read_submission(content: bytes, filename: str, *, max_bytes: int) -> list[StudentCell]:
    """Bytes to cells; every failure is a Rejected with a one-line reason."""
    text = decode_text(content, max_bytes=max_bytes)
    return student_cells(parse_notebook(text, filename))
