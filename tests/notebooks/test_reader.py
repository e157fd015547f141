"""Reading uploads: percent files and notebooks are accepted, everything else is rejected with a reason."""

import json
from pathlib import Path

import jupytext
import pytest

from grader.assignments.bundle import load_assignment
from grader.errors import Rejected
from grader.notebooks.reader import check_assignment, read_submission

BUNDLE = load_assignment("layers")
SUBMISSIONS = Path(__file__).resolve().parents[1] / "data" / "submissions"
LIMIT = 512 * 1024


def _check(content: bytes, filename: str) -> None:
    cells = read_submission(content, filename, max_bytes=LIMIT)
    check_assignment(cells, BUNDLE.source_cells, "layers", BUNDLE.required_names)


def test_percent_file_cells_carry_grade_ids() -> None:
    cells = read_submission(BUNDLE.source_text.encode(), "layers_dev.py", max_bytes=LIMIT)
    ids = [cell.grade_id for cell in cells if cell.grade_id]
    assert "matmul-naive" in ids and "test-dense-layer" in ids


def test_ipynb_is_read_like_the_percent_file() -> None:
    notebook = jupytext.reads(BUNDLE.source_text, fmt="py:percent")
    content = jupytext.writes(notebook, fmt="ipynb").encode()
    from_ipynb = read_submission(content, "layers_dev.ipynb", max_bytes=LIMIT)
    from_py = read_submission(BUNDLE.source_text.encode(), "layers_dev.py", max_bytes=LIMIT)
    assert [c.grade_id for c in from_ipynb] == [c.grade_id for c in from_py]
    assert [c.source for c in from_ipynb if c.cell_type == "code"] == [
        c.source for c in from_py if c.cell_type == "code"]


@pytest.mark.parametrize("content,filename,code,needle", [
    (b"", "layers_dev.py", "empty", "empty"),
    (b"   \n\n", "layers_dev.py", "empty", "empty"),
    (bytes(range(256)), "layers_dev.py", "not_text", "not text"),
    (b"\xff\xfe\xfa caf\xe9", "layers_dev.py", "not_text", "UTF-8"),
    (b"x" * (LIMIT + 1), "layers_dev.py", "too_large", "limit"),
    (b'{"cells": 3', "layers_dev.ipynb", "not_notebook", ".ipynb"),
    (b"print('hello')\n", "layers_dev.py", "wrong_assignment", "not a layers notebook"),
    (b"def matmul(A, B):\n    return A @ B\n", "layers_dev.docx", "unsupported_type", "unsupported"),
])
def test_bad_input_is_rejected_with_a_reason(content: bytes, filename: str, code: str, needle: str) -> None:
    with pytest.raises(Rejected) as caught:
        _check(content, filename)
    assert caught.value.code == code
    assert needle in caught.value.reason


def test_flattened_seed_is_not_a_layers_notebook() -> None:
    with pytest.raises(Rejected) as caught:
        _check((SUBMISSIONS / "flattened_seed.py").read_bytes(), "layers_dev.py")
    assert caught.value.code == "wrong_assignment"


def test_plain_python_defining_the_functions_is_accepted() -> None:
    _check(b"import numpy as np\n\ndef matmul(A, B):\n    return A @ B\n", "layers_dev.py")


def test_notebook_json_without_extension_is_detected() -> None:
    notebook = jupytext.reads(BUNDLE.source_text, fmt="py:percent")
    content = json.dumps(json.loads(jupytext.writes(notebook, fmt="ipynb"))).encode()
    _check(content, "submission")
