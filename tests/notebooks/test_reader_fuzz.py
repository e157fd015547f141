"""Fuzzing the upload readers: whatever the bytes, the answer is cells or a rejection with a reason, never a crash;
an accepted file can be stored and shown (the dashboard reads it again).

The budget is fixed and the search derandomized, so CI runs the same examples every time and a failure reproduces.
"""

import copy
import json
from typing import Any

import jupytext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.assignments.bundle import load_assignment
from grader.dashboard.code import code_listing
from grader.errors import Rejected
from grader.notebooks.cells import StudentCell
from grader.notebooks.reader import check_assignment, read_submission
from grader.notebooks.stored import cells_from_store, stored_cells

BUNDLE = load_assignment("layers")
LIMIT = 512 * 1024
REJECTION_CODES = {"too_large", "empty", "not_text", "unsupported_type", "not_notebook", "wrong_assignment"}
FILENAMES = ("layers_dev.py", "layers_dev.ipynb", "LAYERS_DEV.IPYNB", "submission", "", "layers_dev.txt")
REAL_NOTEBOOK: dict[str, Any] = json.loads(jupytext.writes(jupytext.reads(BUNDLE.source_text, fmt="py:percent"),
                                                           fmt="ipynb"))
FUZZ = settings(max_examples=300, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
cell_like = st.fixed_dictionaries(
    {"cell_type": st.sampled_from(["code", "markdown", "raw"]) | json_values,
     "source": st.text(max_size=200) | st.lists(st.text(max_size=40), max_size=5) | json_values},
    optional={"metadata": st.fixed_dictionaries({}, optional={
        "nbgrader": st.fixed_dictionaries({}, optional={
            "grade_id": st.sampled_from(["matmul-naive", "dense-layer", ""]) | json_values,
            "locked": json_values, "solution": json_values, "points": json_values})}) | json_values,
        "outputs": json_values, "id": json_values},
)
almost_notebooks = st.fixed_dictionaries(
    {}, optional={"nbformat": st.just(4) | json_values, "nbformat_minor": st.just(5) | json_values,
                  "metadata": json_values, "cells": st.lists(cell_like | json_values, max_size=5) | json_values},
)


def _check_answer(content: bytes, filename: str) -> list[StudentCell] | Rejected:
    """The reader's whole contract: cells that pass the assignment check and can be stored, or a Rejected."""
    try:
        cells = read_submission(content, filename, max_bytes=LIMIT)
        check_assignment(cells, BUNDLE.source_cells, "layers", BUNDLE.required_names)
    except Rejected as rejection:
        assert rejection.code in REJECTION_CODES
        assert rejection.reason.strip() and "\n" not in rejection.reason.strip()
        return rejection
    stored = json.loads(json.dumps(stored_cells(cells)))
    assert cells_from_store(stored) == cells
    code_listing(content, filename, BUNDLE, max_bytes=LIMIT, cells=cells)
    return cells


def _mutate(notebook: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """The real notebook with a few of its values replaced or removed: JSON that is almost right."""
    mutated = copy.deepcopy(notebook)
    for _ in range(data.draw(st.integers(1, 3))):
        parent: Any = mutated
        while True:
            keys = list(parent) if isinstance(parent, dict) else list(range(len(parent)))
            if not keys:
                break
            key = data.draw(st.sampled_from(keys))
            child = parent[key]
            if isinstance(child, dict | list) and child and data.draw(st.booleans()):
                parent = child
                continue
            if isinstance(parent, dict) and data.draw(st.booleans()):
                del parent[key]
            else:
                parent[key] = data.draw(json_values)
            break
    return mutated


@FUZZ
@given(content=st.binary(max_size=2048), filename=st.sampled_from(FILENAMES))
def test_any_bytes_are_read_or_rejected(content: bytes, filename: str) -> None:
    _check_answer(content, filename)


@FUZZ
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=600), filename=st.sampled_from(FILENAMES))
def test_any_text_is_read_or_rejected(text: str, filename: str) -> None:
    _check_answer(("# %%\n" + text).encode("utf-8", "surrogatepass"), filename)


@FUZZ
@given(notebook=almost_notebooks, filename=st.sampled_from(("layers_dev.ipynb", "layers_dev.py", "submission")))
def test_almost_notebook_json_is_read_or_rejected(notebook: dict[str, Any], filename: str) -> None:
    _check_answer(json.dumps(notebook).encode(), filename)


@FUZZ
@given(data=st.data())
def test_a_damaged_real_notebook_is_read_or_rejected(data: st.DataObject) -> None:
    _check_answer(json.dumps(_mutate(REAL_NOTEBOOK, data)).encode(), "layers_dev.ipynb")


def test_the_real_notebook_is_read_and_top_level_non_objects_are_rejected() -> None:
    assert isinstance(_check_answer(json.dumps(REAL_NOTEBOOK).encode(), "layers_dev.ipynb"), list)
    for content in (b'{"not": "nb"}', b"[1, 2]", b'"text"', b"null", b'{"nbformat": 4, "cells": {}}',
                    b'{"nbformat": 4, "cells": [[]]}', b'{"nbformat": 3, "cells": []}', b"[" * 5000):
        answer = _check_answer(content, "layers_dev.ipynb")
        assert isinstance(answer, Rejected) and answer.code == "not_notebook", content[:40]


def test_cells_without_metadata_are_read_and_can_be_shown_again() -> None:
    """Found by the fuzz: a code cell with no "metadata" was accepted, then crashed the dashboard's listing."""
    notebook = copy.deepcopy(REAL_NOTEBOOK)
    for cell in notebook["cells"]:
        cell.pop("metadata", None)
    assert isinstance(_check_answer(json.dumps(notebook).encode(), "layers_dev.ipynb"), list)
