"""Locked-cell restoration: the instructor's locked cells always run, and every change is flagged."""

import json

import jupytext
import nbformat
import pytest

from grader.assignments.bundle import load_assignment
from grader.notebooks.cells import student_cells
from grader.notebooks.restore import restore_locked_cells

BUNDLE = load_assignment("layers")
TEST_ID = "test-matmul-immediate"


def _notebook() -> nbformat.NotebookNode:
    return jupytext.reads(BUNDLE.source_text, fmt="py:percent")


def _restore(notebook: nbformat.NotebookNode):  # type: ignore[no-untyped-def]
    return restore_locked_cells(student_cells(notebook), BUNDLE.source_cells)


def _find(notebook: nbformat.NotebookNode, grade_id: str) -> int:
    for index, cell in enumerate(notebook.cells):
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return index
    raise AssertionError(grade_id)


def test_untouched_source_has_no_flags_and_all_locked_tests() -> None:
    restored = _restore(_notebook())
    assert restored.flags == []
    assert not restored.locked_cells_modified
    assert set(restored.tests) == {"test-matmul-immediate", "test-dense-layer", "test-layer-activation-comprehensive"}
    assert "matmul-naive" in [cell.key for cell in restored.cells]


def test_edited_locked_test_is_restored_and_flagged() -> None:
    notebook = _notebook()
    notebook.cells[_find(notebook, TEST_ID)].source = "def test_unit_matrix_multiplication():\n    pass\n"
    restored = _restore(notebook)
    assert restored.tests[TEST_ID] == BUNDLE.cell(TEST_ID).source
    assert f"locked_cell_edited:{TEST_ID}" in restored.flags
    assert restored.locked_cells_modified


def test_deleted_locked_test_is_restored_and_flagged() -> None:
    notebook = _notebook()
    del notebook.cells[_find(notebook, TEST_ID)]
    restored = _restore(notebook)
    assert restored.tests[TEST_ID] == BUNDLE.cell(TEST_ID).source
    assert f"locked_cell_deleted:{TEST_ID}" in restored.flags


def test_stripped_metadata_is_recognised_by_content() -> None:
    notebook = _notebook()
    notebook.cells[_find(notebook, TEST_ID)].metadata = {}
    restored = _restore(notebook)
    assert f"locked_cell_metadata_stripped:{TEST_ID}" in restored.flags
    assert restored.tests[TEST_ID] == BUNDLE.cell(TEST_ID).source


def test_stripped_metadata_and_edited_code_runs_as_student_code_but_test_is_restored() -> None:
    notebook = _notebook()
    cell = notebook.cells[_find(notebook, TEST_ID)]
    cell.metadata = {}
    cell.source = "def test_unit_matrix_multiplication():\n    pass\n"
    restored = _restore(notebook)
    assert f"locked_cell_deleted:{TEST_ID}" in restored.flags
    assert restored.tests[TEST_ID] == BUNDLE.cell(TEST_ID).source


def test_duplicated_locked_cell_runs_once() -> None:
    notebook = _notebook()
    index = _find(notebook, TEST_ID)
    notebook.cells.insert(index + 1, nbformat.from_dict(json.loads(json.dumps(notebook.cells[index]))))
    restored = _restore(notebook)
    assert f"locked_cell_duplicated:{TEST_ID}" in restored.flags
    assert list(restored.tests).count(TEST_ID) == 1


@pytest.mark.parametrize("field,value", [("locked", False), ("points", 100), ("grade", False)])
def test_metadata_edits_are_flagged_and_ignored(field: str, value: object) -> None:
    notebook = _notebook()
    notebook.cells[_find(notebook, TEST_ID)].metadata["nbgrader"][field] = value
    restored = _restore(notebook)
    assert f"locked_cell_metadata_edited:{TEST_ID}" in restored.flags
    assert restored.tests[TEST_ID] == BUNDLE.cell(TEST_ID).source


def test_student_solution_cells_are_kept() -> None:
    notebook = _notebook()
    notebook.cells[_find(notebook, "matmul-naive")].source = "def matmul(A, B):\n    return A @ B\n"
    restored = _restore(notebook)
    sources = {cell.key: cell.source for cell in restored.cells}
    assert sources["matmul-naive"] == "def matmul(A, B):\n    return A @ B\n"
    assert restored.flags == []


def test_extra_student_cells_keep_their_place() -> None:
    notebook = _notebook()
    index = _find(notebook, "matmul-naive")
    notebook.cells.insert(index + 1, nbformat.v4.new_code_cell("helper = 1"))
    restored = _restore(notebook)
    keys = [cell.key for cell in restored.cells]
    assert keys[keys.index("matmul-naive") + 1].startswith("cell ")
