"""The token comparison itself: what counts as the same code, and the fallback for cells that do not tokenize."""

import pytest

from grader.notebooks.code_identity import code_key, same_code

CELL = 'def check():\n    """Docstring."""\n    value = compute(1)\n    assert value == 2, "message"\n\ncheck()\n'


@pytest.mark.parametrize("variant", [
    CELL.replace("\n\n", "\n    \n"),
    CELL.replace("    value", "# a comment\n    value"),
    CELL.replace("value = compute(1)", "value = compute(1)  # why"),
    CELL.replace("\n", "  \n"),
    CELL.replace("\n", "\r\n"),
    CELL.rstrip("\n"),
    CELL.replace("    ", "  "),
    "\n\n" + CELL + "\n\n",
    CELL.replace("compute(1)", "compute(\n        1,\n    )").replace("1,\n", "1\n"),
])
def test_layout_is_not_code(variant: str) -> None:
    assert code_key(variant).tokenized
    assert same_code(variant, CELL)


@pytest.mark.parametrize("variant", [
    CELL.replace("== 2", "== 3"),
    CELL.replace('"message"', "'message'"),
    CELL.replace("Docstring.", "Docstring!"),
    CELL.replace("    assert", "assert"),
    CELL.replace("check()\n", ""),
    CELL.replace('"""Docstring."""', '"""Docstring.\n    more\n    """'),
])
def test_code_changes_are_different_code(variant: str) -> None:
    assert not same_code(variant, CELL)


def test_multiline_string_ignores_trailing_whitespace_of_its_lines_only() -> None:
    doc = 'def f():\n    """First.\n\n    Second.\n    """\n'
    assert same_code(doc.replace("First.", "First.   ").replace("\n\n", "\n    \n"), doc)
    assert not same_code(doc.replace("Second.", "Second, edited."), doc)


def test_a_cell_that_does_not_tokenize_is_compared_as_lines() -> None:
    broken = "value = (1,\n    2\n"
    assert not code_key(broken).tokenized
    assert same_code(broken.replace("\n", "  \r\n") + "\n\n", broken)
    assert not same_code(broken.replace("2", "3"), broken)
    assert not same_code(broken, "value = (1,\n    2)\n")
    assert not same_code("x = $\n", "x = 1\n")
