"""Cells whose nbgrader headers were lost are found by what they define; locked cells keep every protection.

The sources are written here: a small module of our own (any bundle's source has this shape) and the shipped
layers-linear source, turned into the forms students' files arrive in (headers stripped by an editor, an
nbconvert script, a notebook saved without metadata).
"""

import json
import re
from pathlib import Path

import jupytext
import pytest

from grader.errors import Rejected
from grader.notebooks.cells import StudentCell, parse_source_cells
from grader.notebooks.matching import defined_names, match_lost_headers
from grader.notebooks.reader import check_assignment, read_submission
from grader.notebooks.restore import restore_locked_cells

HEADER = re.compile(r"^# %% nbgrader=\{.*\}$", re.MULTILINE)
LIMIT = 512 * 1024
TINY = '''# %% [markdown]
# A tiny assignment.

# %% nbgrader={"grade": false, "grade_id": "setup", "solution": false}
import math

# %% nbgrader={"grade": false, "grade_id": "add-cell", "solution": true}
def add(a, b):
    ### BEGIN SOLUTION
    return a + b
    ### END SOLUTION

# %% nbgrader={"grade": false, "grade_id": "box-cell", "solution": true}
class Box:
    def __init__(self, value):
        ### BEGIN SOLUTION
        self.value = value
        ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test-add", "locked": true, "points": 2}
def test_add():
    assert add(2, 3) == 5
'''
TINY_CELLS = parse_source_cells(TINY)
LINEAR = (Path(__file__).resolve().parents[2] / "grader/assignments/layers-linear/layers.py").read_text()
LINEAR_CELLS = parse_source_cells(LINEAR)
LINEAR_NAMES = ("Layer", "Linear", "Dropout")


def _cells(text: str, filename: str = "tiny.py") -> list[StudentCell]:
    return read_submission(text.encode(), filename, max_bytes=LIMIT)


def _stripped(text: str) -> str:
    return HEADER.sub("# %%", text)


def _keys(text: str, source: str, filename: str = "tiny.py") -> list[str]:
    return [cell.key for cell in restore_locked_cells(_cells(text, filename), parse_source_cells(source)).cells]


def test_defined_names_are_top_level_functions_and_classes() -> None:
    assert defined_names("import os\nX = 1\ndef f():\n    def g(): pass\nclass C: pass\nasync def h(): pass\n") \
        == {"f", "C", "h"}
    assert defined_names("def broken(:\n") == frozenset()


def test_stripped_solution_cells_get_their_grade_ids_back() -> None:
    matched = match_lost_headers(_cells(_stripped(TINY)), TINY_CELLS)
    assert [c.grade_id for c in matched if c.cell_type == "code"] == [None, "add-cell", "box-cell", None]
    assert _keys(_stripped(TINY), TINY)[:3] == ["cell 1", "add-cell", "box-cell"]


def test_stripped_locked_cell_is_still_restored_by_its_code_and_flagged() -> None:
    restored = restore_locked_cells(_cells(_stripped(TINY)), TINY_CELLS)
    assert restored.flags == ["locked_cell_metadata_stripped:test-add"]
    assert restored.tests == {"test-add": TINY_CELLS[-1].source}


def test_a_headerless_cell_never_takes_a_locked_id_even_defining_its_names() -> None:
    """An edited copy of the locked test without its header defines test_add: it stays a student cell, the real
    test is restored and the file is flagged, exactly as before name matching existed."""
    text = _stripped(TINY).replace("    assert add(2, 3) == 5", "    pass")
    restored = restore_locked_cells(_cells(text), TINY_CELLS)
    assert "test-add" not in [cell.key for cell in restored.cells]
    assert restored.flags == ["locked_cell_deleted:test-add"]
    assert restored.tests["test-add"] == TINY_CELLS[-1].source


def test_an_id_the_file_already_carries_is_not_given_twice() -> None:
    text = TINY + "\n# %%\ndef add(a, b):\n    return 0\n"
    assert _keys(text, TINY)[-1] == "cell 5"


def test_one_merged_cell_takes_the_first_id_and_counts_for_both() -> None:
    merged = "# %%\nimport math\n\ndef add(a, b):\n    return a + b\n\nclass Box:\n    pass\n"
    cells = _cells(merged)
    assert [c.grade_id for c in match_lost_headers(cells, TINY_CELLS)] == ["add-cell"]
    check_assignment(cells, TINY_CELLS, "tiny", ("Box",))


def test_a_file_with_none_of_the_cells_is_rejected_naming_them() -> None:
    with pytest.raises(Rejected) as caught:
        check_assignment(_cells("# %%\ndef subtract(a, b):\n    return a - b\n"), TINY_CELLS, "tiny", ("add", "Box"))
    assert caught.value.code == "wrong_assignment"
    assert "not a tiny notebook" in caught.value.reason
    assert "no cell of the assignment (add-cell, box-cell) and defines none of add, Box" in caught.value.reason


def test_a_header_of_an_unrelated_cell_alone_does_not_make_a_file_match() -> None:
    text = '# %% nbgrader={"grade": false, "grade_id": "setup", "solution": false}\nimport math\n'
    with pytest.raises(Rejected, match=r"no cell of the assignment \(add-cell, box-cell\)"):
        check_assignment(_cells(text), TINY_CELLS, "tiny", ("add", "Box"))


def test_stripped_files_are_accepted() -> None:
    check_assignment(_cells(_stripped(TINY)), TINY_CELLS, "tiny", ("add", "Box"))
    check_assignment(_cells(_stripped(LINEAR), "layers.py"), LINEAR_CELLS, "layers-linear", LINEAR_NAMES)


def _nbconvert_script(source: str) -> str:
    """The source as `jupyter nbconvert --to script` writes it: `# In[ ]:` markers, markdown as comments."""
    parts = ["#!/usr/bin/env python\n# coding: utf-8\n"]
    for cell in jupytext.reads(source, fmt="py:percent").cells:
        if cell.cell_type == "markdown":
            parts.append("\n".join("# " + line for line in cell.source.splitlines()) + "\n")
        else:
            parts.append("# In[ ]:\n\n\n" + cell.source + "\n")
    return "\n\n".join(parts)


def test_an_nbconvert_script_of_layers_linear_finds_its_solution_cells() -> None:
    text = _nbconvert_script(LINEAR)
    check_assignment(_cells(text, "layers.py"), LINEAR_CELLS, "layers-linear", LINEAR_NAMES)
    keys = _keys(text, LINEAR, "layers.py")
    for grade_id in ("layer-base", "linear-layer", "dropout-layer", "analyze-layer-memory"):
        assert keys.count(grade_id) == 1


def test_a_notebook_saved_without_metadata_finds_its_solution_cells() -> None:
    notebook = json.loads(jupytext.writes(jupytext.reads(LINEAR, fmt="py:percent"), fmt="ipynb"))
    for cell in notebook["cells"]:
        cell["metadata"] = {}
    text = json.dumps(notebook)
    restored = restore_locked_cells(_cells(text, "layers.ipynb"), LINEAR_CELLS)
    assert {"layer-base", "linear-layer", "dropout-layer"} <= {cell.key for cell in restored.cells}
    locked = [c.grade_id for c in LINEAR_CELLS if c.locked]
    assert restored.flags == [f"locked_cell_metadata_stripped:{grade_id}" for grade_id in locked]
    assert set(restored.tests) == set(locked)
