"""A locked cell from an earlier published version is `locked_cell_outdated`, not `locked_cell_edited`: v1 and v2
of layers-linear (v2 changed the locked edge-case test), written by the tests from the shipped bundle."""

from pathlib import Path

import jupytext
import pytest

from grader.assignments.bundle import AssignmentBundle, load_bundle
from grader.notebooks.cells import student_cells
from grader.notebooks.reader import read_submission
from grader.notebooks.releases import NO_EARLIER, EarlierReleases
from grader.notebooks.restore import RestoredNotebook, restore_locked_cells
from tests.stack.midterm_bundles import FIXED_ITEM, replaced, tampered, write_v1, write_v2

MAX_BYTES = 512 * 1024


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[AssignmentBundle, AssignmentBundle]:
    folder = tmp_path_factory.mktemp("versions")
    return load_bundle(write_v1(folder / "v1")), load_bundle(write_v2(folder / "v2"))


def _restore(text: str, current: AssignmentBundle, *others: AssignmentBundle,
             filename: str = "layers.py") -> RestoredNotebook:
    cells = read_submission(text.encode(), filename, max_bytes=MAX_BYTES)
    return restore_locked_cells(cells, current.source_cells, EarlierReleases.of(b.source_cells for b in others))


def test_a_v1_student_graded_under_v2_is_outdated_and_runs_v2s_test(
        versions: tuple[AssignmentBundle, AssignmentBundle]) -> None:
    v1, v2 = versions
    restored = _restore(v1.source_text, v2, v1)
    assert restored.flags == [f"locked_cell_outdated:{FIXED_ITEM}"]
    assert restored.tests[FIXED_ITEM] == v2.cell(FIXED_ITEM).source, "restored from the current source"
    assert not restored.locked_cells_modified, "an old release is not a modification by the student"


def test_a_tampered_cell_is_still_edited(versions: tuple[AssignmentBundle, AssignmentBundle]) -> None:
    v1, v2 = versions
    restored = _restore(tampered(v1.source_text), v2, v1)
    assert restored.flags == [f"locked_cell_edited:{FIXED_ITEM}"]
    assert restored.locked_cells_modified and restored.tests[FIXED_ITEM] == v2.cell(FIXED_ITEM).source


def test_a_v2_student_has_no_flag(versions: tuple[AssignmentBundle, AssignmentBundle]) -> None:
    v1, v2 = versions
    assert _restore(v2.source_text, v2, v1).flags == []


def test_without_earlier_versions_the_old_cell_is_an_edit(versions: tuple[AssignmentBundle, AssignmentBundle]) -> None:
    """Until the course has published another version there is nothing to be outdated against."""
    v1, v2 = versions
    cells = read_submission(v1.source_text.encode(), "layers.py", max_bytes=MAX_BYTES)
    assert restore_locked_cells(cells, v2.source_cells, NO_EARLIER).flags == [
        f"locked_cell_edited:{FIXED_ITEM}", f"locked_cell_metadata_edited:{FIXED_ITEM}"]


def test_the_old_cell_with_only_whitespace_changed_is_still_outdated(
        versions: tuple[AssignmentBundle, AssignmentBundle]) -> None:
    """Compared by code tokens, as locked_cell_edited is: CRLF and trailing spaces are not an edit of v1 (a
    backslash continuation keeps its line end, or it would not be Python)."""
    v1, v2 = versions
    text = "\r\n".join(line if line.endswith("\\") else f"{line}  " for line in v1.source_text.split("\n"))
    assert _restore(text, v2, v1).flags == [f"locked_cell_outdated:{FIXED_ITEM}"]


def test_the_old_cell_of_a_notebook_is_outdated(versions: tuple[AssignmentBundle, AssignmentBundle]) -> None:
    v1, v2 = versions
    notebook = jupytext.writes(jupytext.reads(v1.source_text, fmt="py:percent"), fmt="ipynb")
    assert _restore(notebook, v2, v1, filename="layers.ipynb").flags == [f"locked_cell_outdated:{FIXED_ITEM}"]


def test_the_old_cell_with_its_header_stripped_is_found_and_outdated(
        versions: tuple[AssignmentBundle, AssignmentBundle]) -> None:
    v1, v2 = versions
    header = '# %% nbgrader={"grade": true, "grade_id": "test-linear-edge-cases", "locked": true, "points": 5}\n'
    stripped = replaced(v1.source_text, (header, "# %%\n"))
    assert _restore(stripped, v2, v1).flags == [f"locked_cell_metadata_stripped:{FIXED_ITEM}",
                                                f"locked_cell_outdated:{FIXED_ITEM}"]


def test_an_old_cell_under_another_cells_id_is_an_edit(versions: tuple[AssignmentBundle, AssignmentBundle]) -> None:
    """Only that very cell's earlier code counts: v1's edge-case test pasted into test-linear is an edit."""
    v1, v2 = versions
    notebook = jupytext.reads(v1.source_text, fmt="py:percent")
    by_id = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in notebook.cells}
    by_id["test-linear"].source = by_id[FIXED_ITEM].source
    restored = restore_locked_cells(student_cells(notebook), v2.source_cells, EarlierReleases.of([v1.source_cells]))
    assert "locked_cell_edited:test-linear" in restored.flags
    assert f"locked_cell_outdated:{FIXED_ITEM}" in restored.flags


def test_a_v2_cell_in_a_file_graded_under_v1_is_outdated_too(
        versions: tuple[AssignmentBundle, AssignmentBundle]) -> None:
    """A course moved back to v1: the v2 student's cell is another published version, not a tamper."""
    v1, v2 = versions
    assert _restore(v2.source_text, v1, v2).flags == [f"locked_cell_outdated:{FIXED_ITEM}"]


def test_write_v2_changed_exactly_the_fixed_cell(versions: tuple[AssignmentBundle, AssignmentBundle],
                                                 tmp_path: Path) -> None:
    v1, v2 = versions
    changed = {c.grade_id for c in v2.source_cells if c.grade_id and c.source != v1.cell(c.grade_id).source}
    assert changed == {FIXED_ITEM}
    assert v1.rubric.max_score == v2.rubric.max_score == 100
