"""Turning uploaded bytes into cells, or a rejection that names the problem."""

import ast
import json

import jupytext
import nbformat

from grader.errors import Rejected
from grader.notebooks.cells import SourceCell, StudentCell, student_cells


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


def parse_notebook(text: str, filename: str) -> nbformat.NotebookNode:
    """.ipynb JSON or a jupytext percent .py file."""
    looks_like_json = text.lstrip().startswith("{")
    if filename.lower().endswith(".ipynb") or looks_like_json:
        try:
            notebook = nbformat.reads(text, as_version=4)
        except (json.JSONDecodeError, nbformat.reader.NotJSONError, ValueError, KeyError) as exc:
            raise Rejected(f"the file is not a valid .ipynb notebook: {str(exc)[:200]}", code="not_notebook") from exc
        if not isinstance(notebook.get("cells"), list):
            raise Rejected("the file is not a valid .ipynb notebook: it has no cells", code="not_notebook")
        return notebook
    if not filename.lower().endswith((".py", ".txt")) and filename:
        raise Rejected(f"unsupported file type {filename!r}: submit layers_dev.py or layers_dev.ipynb",
                       code="unsupported_type")
    try:
        return jupytext.reads(text, fmt="py:percent")
    except Exception as exc:
        raise Rejected(f"the file could not be read as a percent-format notebook: {str(exc)[:200]}",
                       code="not_notebook") from exc


def _defined_names(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)}


def check_assignment(cells: list[StudentCell], source_cells: tuple[SourceCell, ...], assignment: str,
                     required_names: tuple[str, ...]) -> None:
    """A submission must carry a cell of the assignment or define one of its required names."""
    known = {cell.grade_id for cell in source_cells if cell.grade_id}
    if any(cell.grade_id in known for cell in cells):
        return
    defined = set().union(*(_defined_names(c.source) for c in cells if c.cell_type == "code"))
    if defined & set(required_names):
        return
    solution_ids = ", ".join(c.grade_id for c in source_cells if c.solution and c.grade_id)
    raise Rejected(
        f"this is not a {assignment} notebook: it has no cell of the assignment ({solution_ids}) "
        f"and defines none of {', '.join(required_names)}",
        code="wrong_assignment",
    )


def read_submission(content: bytes, filename: str, *, max_bytes: int) -> list[StudentCell]:
    """Bytes to cells; every failure is a Rejected with a one-line reason."""
    text = decode_text(content, max_bytes=max_bytes)
    return student_cells(parse_notebook(text, filename))
