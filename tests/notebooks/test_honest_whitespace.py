"""Honest files are never flagged: what real distributions and editors do to whitespace is not an edit of code.

Every variant is written here from our own instructor source (which is also the instructor solution), with the
traits TinyTorch's own 2025 distributions of layers_dev.py carry (blank lines holding the indentation, comments
at column 0 inside test functions, trailing whitespace, no final newline) and what editors and tools do (trim or
add trailing whitespace, CRLF, re-indent comments, a jupytext round trip through .ipynb). Real edits of a locked
cell's code keep their `locked_cell_edited` flag.
"""

import re
from collections.abc import Callable

import jupytext
import pytest

from grader.assignments.bundle import load_assignment
from grader.notebooks.cells import parse_source_cells
from grader.notebooks.reader import read_submission
from grader.notebooks.restore import RestoredNotebook, restore_locked_cells

BUNDLE = load_assignment("layers")
SOURCE = BUNDLE.source_text
LOCKED_TESTS = ("test-matmul-immediate", "test-dense-layer", "test-layer-activation-comprehensive")
COMMENT_LINE = re.compile(r"^[ \t]+(#(?! %%).*)$")


def _grade_text(text: str, filename: str = "layers_dev.py") -> RestoredNotebook:
    cells = read_submission(text.encode("utf-8"), filename, max_bytes=512 * 1024)
    return restore_locked_cells(cells, BUNDLE.source_cells)


def _lines(text: str) -> list[str]:
    return text.split("\n")


def indented_blank_lines(text: str) -> str:
    """A blank line holds the indentation of the code line after it (upstream's test functions do)."""
    lines = _lines(text)
    for index in range(len(lines) - 2, -1, -1):
        if not lines[index].strip():
            following = lines[index + 1]
            lines[index] = following[:len(following) - len(following.lstrip())]
    return "\n".join(lines)


def comments_at_column_zero(text: str) -> str:
    """Indented comment lines start at column 0 (upstream's `# Test simple 2x2 case`)."""
    return "\n".join(COMMENT_LINE.sub(r"\1", line) for line in _lines(text))


def comments_reindented(text: str) -> str:
    """Indented comment lines move four columns right, as a reformat of comments does."""
    return "\n".join(COMMENT_LINE.sub(lambda m: m[0][:m.start(1)] + "    " + m[1], line) for line in _lines(text))


def trailing_whitespace_trimmed(text: str) -> str:
    return "\n".join(line.rstrip() for line in _lines(text))


def trailing_whitespace_added(text: str) -> str:
    """Two spaces after every code and text line (a cell header keeps its own line end)."""
    return "\n".join(line if not line.strip() or line.startswith("# %%") else line + "  " for line in _lines(text))


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def final_newline_dropped(text: str) -> str:
    return text.rstrip("\n")


def upstream_distribution(text: str) -> str:
    """Everything upstream's fd6c15da file carries at once, ending, as it does, in a space and no newline."""
    return final_newline_dropped(comments_at_column_zero(indented_blank_lines(text))) + " "


VARIANTS: dict[str, Callable[[str], str]] = {
    "indented_blank_lines": indented_blank_lines,
    "comments_at_column_zero": comments_at_column_zero,
    "comments_reindented": comments_reindented,
    "trailing_whitespace_trimmed": trailing_whitespace_trimmed,
    "trailing_whitespace_added": trailing_whitespace_added,
    "crlf": crlf,
    "final_newline_dropped": final_newline_dropped,
    "upstream_distribution": upstream_distribution,
    "everything_and_crlf": lambda text: crlf(trailing_whitespace_added(upstream_distribution(text))),
}


INSTRUCTOR_SOURCES = {
    "ours": SOURCE,
    # an instructor whose source carries upstream's whitespace, as TinyTorch's 2025 releases did
    "upstream_shaped": trailing_whitespace_added(upstream_distribution(SOURCE)),
}


def _restore(text: str, instructor: str, filename: str = "layers_dev.py") -> RestoredNotebook:
    cells = read_submission(text.encode("utf-8"), filename, max_bytes=512 * 1024)
    return restore_locked_cells(cells, parse_source_cells(instructor))


@pytest.mark.parametrize("instructor", sorted(INSTRUCTOR_SOURCES))
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_whitespace_variants_of_the_source_raise_no_flag(name: str, instructor: str) -> None:
    source = INSTRUCTOR_SOURCES[instructor]
    restored = _restore(VARIANTS[name](source), source)
    assert restored.flags == []
    assert not restored.locked_cells_modified
    expected = {cell.grade_id: cell.source for cell in parse_source_cells(source) if cell.grade_id in LOCKED_TESTS}
    assert restored.tests == expected


@pytest.mark.parametrize("instructor", sorted(INSTRUCTOR_SOURCES))
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variants_round_tripped_through_ipynb_raise_no_flag(name: str, instructor: str) -> None:
    source = INSTRUCTOR_SOURCES[instructor]
    notebook = jupytext.reads(VARIANTS[name](source), fmt="py:percent")
    restored = _restore(jupytext.writes(notebook, fmt="ipynb"), source, "layers_dev.ipynb")
    assert restored.flags == []


@pytest.mark.parametrize("name", sorted(set(VARIANTS) - {"final_newline_dropped", "crlf"}))
def test_the_variants_really_touch_the_locked_test_cells(name: str) -> None:
    """Each variant changes the text of a locked test cell as the reader sees it, for one of the instructor
    sources at least, so its missing flag is a real result. Dropping the final newline touches the file's last
    cell, which is not locked (it is covered with the other traits by `upstream_distribution`); the .py reader
    splits CRLF lines itself, so CRLF reaches a cell only in a notebook (the next test)."""
    touched = []
    for instructor in INSTRUCTOR_SOURCES.values():
        original = {c.grade_id: c.source for c in parse_source_cells(instructor) if c.grade_id in LOCKED_TESTS}
        cells = read_submission(VARIANTS[name](instructor).encode(), "layers_dev.py", max_bytes=512 * 1024)
        touched.append({c.grade_id: c.source for c in cells if c.grade_id in LOCKED_TESTS} != original)
    assert any(touched)


def _edit_cell(grade_id: str, edit: Callable[[str], str], text: str = SOURCE) -> str:
    """The file with one locked cell's code changed by `edit` (and nothing else)."""
    source = BUNDLE.cell(grade_id).source
    assert source in text
    changed = edit(source)
    assert changed != source
    return text.replace(source, changed, 1)


REAL_EDITS: dict[str, tuple[str, Callable[[str], str]]] = {
    "changed_assert": ("test-matmul-immediate",
                       lambda s: s.replace("assert np.allclose(result, expected)",
                                           "assert True or np.allclose(result, expected)")),
    "deleted_line": ("test-matmul-immediate",
                     lambda s: s.replace('        assert False, "Should raise error for incompatible shapes"\n', "")),
    "changed_docstring": ("test-matmul-immediate",
                          lambda s: s.replace('"""Test matrix multiplication implementation"""',
                                              '"""Test matrix multiplication implementation (edited)"""')),
    "dedented_block": ("test-matmul-immediate",
                       lambda s: s.replace("        assert False,", "    assert False,")),
    "statement_out_of_function": ("test-dense-layer", lambda s: _dedent_last_statement(s)),
    "string_literal_changed": ("test-dense-layer", lambda s: s.replace("✅", "OK", 1)),
    "does_not_tokenize": ("test-dense-layer", lambda s: s + "\nleftover = (1,\n"),
}


def _dedent_last_statement(source: str) -> str:
    """The function's last indented line moves to module level: same words, different blocks."""
    lines = source.split("\n")
    index = max(i for i, line in enumerate(lines) if line.startswith("    ") and line.strip())
    lines[index] = lines[index].lstrip()
    return "\n".join(lines)


@pytest.mark.parametrize("name", sorted(REAL_EDITS))
def test_real_edits_are_still_flagged(name: str) -> None:
    grade_id, edit = REAL_EDITS[name]
    restored = _grade_text(_edit_cell(grade_id, edit))
    assert f"locked_cell_edited:{grade_id}" in restored.flags
    assert restored.tests[grade_id] == BUNDLE.cell(grade_id).source


@pytest.mark.parametrize("name", sorted(REAL_EDITS))
def test_real_edits_in_an_upstream_shaped_file_are_still_flagged(name: str) -> None:
    """Whitespace around a real edit hides nothing: the edit is flagged in a file that is otherwise honest."""
    grade_id, edit = REAL_EDITS[name]
    restored = _grade_text(upstream_distribution(_edit_cell(grade_id, edit)))
    assert restored.flags == [f"locked_cell_edited:{grade_id}"]


def test_crlf_inside_notebook_cell_sources_raises_no_flag() -> None:
    """A notebook saved on Windows can keep CRLF inside its cells' source strings."""
    notebook = jupytext.reads(upstream_distribution(SOURCE), fmt="py:percent")
    for cell in notebook.cells:
        cell.source = cell.source.replace("\n", "\r\n")
    text = jupytext.writes(notebook, fmt="ipynb")
    cells = read_submission(text.encode(), "layers_dev.ipynb", max_bytes=512 * 1024)
    assert any("\r\n" in cell.source for cell in cells if cell.grade_id in LOCKED_TESTS)
    assert restore_locked_cells(cells, BUNDLE.source_cells).flags == []
