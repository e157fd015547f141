"""The layers-linear bundle's own parts, without the sandbox: its package (tensor, activations), its answer key,
its source (the cells upstream's students have, and a solution that passes its own tests) and its release."""

import ast
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import jupytext
import numpy as np
import pytest

from grader.assignments.release import clear_solutions
from grader.notebooks.cells import parse_source_cells

BUNDLE_DIR = Path(__file__).resolve().parents[2] / "grader" / "assignments" / "layers-linear"
PACKAGE_DIR = BUNDLE_DIR / "package"
SOURCE = (BUNDLE_DIR / "layers.py").read_text(encoding="utf-8")
# facts of upstream MLSysBook/TinyTorch modules/03_layers/layers.py at 02364f80: its cells' grade_ids, in order,
# and the points of its locked graded cells
UPSTREAM_IDS = ["imports", "layer-base", "linear-layer", "test-linear", "test-linear-edge-cases",
                "test-linear-grad-prep", "dropout-layer", "test-dropout", "analyze-layer-memory",
                "analyze-layer-performance", "module-integration", "main-execution"]
UPSTREAM_POINTS = {"test-linear": 15, "test-linear-edge-cases": 5, "test-linear-grad-prep": 5, "test-dropout": 10,
                   "module-integration": 20}


@pytest.fixture(scope="module")
def course() -> Iterator[tuple[ModuleType, ModuleType]]:
    """The package's tensor and activations modules, imported from the bundle (writing no bytecode into the
    shipped folder) and forgotten afterwards."""
    sys.path.insert(0, str(PACKAGE_DIR))
    writes, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        yield importlib.import_module("tinytorch.core.tensor"), importlib.import_module("tinytorch.core.activations")
    finally:
        sys.dont_write_bytecode = writes
        sys.path.remove(str(PACKAGE_DIR))
        for name in [name for name in sys.modules if name == "tinytorch" or name.startswith("tinytorch.")]:
            del sys.modules[name]


def test_tensor_holds_float32_and_the_autograd_slots(course: tuple[ModuleType, ModuleType]) -> None:
    Tensor = course[0].Tensor
    t = Tensor([[1, 2, 3]], requires_grad=True)
    assert t.dtype == np.float32 and t.shape == (1, 3) and t.size == 3 and t.ndim == 2
    assert t.requires_grad is True and t.grad is None and Tensor(t).requires_grad is False
    assert t.backward() is None and t.numpy() is t.data


def test_setting_data_replaces_the_values_and_the_shape_follows(course: tuple[ModuleType, ModuleType]) -> None:
    t = course[0].Tensor(np.zeros((3, 2)))
    t.data = np.ones((4, 5)) * 100
    assert t.shape == (4, 5) and t.dtype == np.float32 and float(t.data.sum()) == 2000


def test_matmul_at_sign_and_transposes_agree(course: tuple[ModuleType, ModuleType]) -> None:
    Tensor = course[0].Tensor
    x, w = Tensor(np.arange(6.0).reshape(2, 3)), Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    expected = np.arange(6.0).reshape(2, 3) @ np.arange(12.0).reshape(3, 4)
    for product in (x.matmul(w), x @ w, x.matmul(w.data), x @ w.T.T, x @ w.transpose().transpose(0, 1)):
        assert product.shape == (2, 4) and np.allclose(product.data, expected)
    assert (x @ w).requires_grad and not (x @ x.T).requires_grad
    assert w.T.shape == (4, 3) and Tensor([1.0, 2.0]).T.shape == (2,)
    assert isinstance(np.ones((1, 2)) @ x, Tensor)


def test_matmul_of_mismatched_shapes_names_both(course: tuple[ModuleType, ModuleType]) -> None:
    Tensor = course[0].Tensor
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(2, 3\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3)))


def test_arithmetic_broadcasts_and_keeps_tensors(course: tuple[ModuleType, ModuleType]) -> None:
    Tensor = course[0].Tensor
    x, b = Tensor([[1.0, 2.0], [3.0, 4.0]]), Tensor([10.0, 20.0], requires_grad=True)
    assert np.array_equal((x + b).data, [[11, 22], [13, 24]]) and (x + b).requires_grad
    assert np.array_equal((np.ones(2) + x).data, [[2, 3], [4, 5]]) and isinstance(np.ones(2) + x, Tensor)
    assert np.array_equal((2 - x).data, [[1, 0], [-1, -2]]) and np.array_equal((-x * 2 / 4).data, -x.data / 2)
    assert x.reshape(-1).shape == (4,) and x.reshape((1, 4)).shape == (1, 4) and x[0].shape == (2,)
    assert float(x.sum().data) == 10 and x.mean(axis=0).shape == (2,) and float(x.max().data) == 4


def test_activations_are_callable_layers(course: tuple[ModuleType, ModuleType]) -> None:
    Tensor, act = course[0].Tensor, course[1]
    x = Tensor([[-1000.0, 0.0, 2.0]])
    assert np.array_equal(act.ReLU()(x).data, [[0, 0, 2]])
    sig = act.Sigmoid().forward(x).data
    assert np.all(np.isfinite(sig)) and sig[0, 1] == 0.5
    assert np.allclose(act.Tanh()(x).data, np.tanh(x.data))
    assert np.allclose(act.GELU()(Tensor([0.0])).data, 0.0)
    rows = act.Softmax()(Tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]))
    assert np.allclose(rows.data.sum(axis=1), 1) and np.allclose(act.Softmax()(x, dim=0).data, 1)


def test_the_package_holds_no_layer_and_shadows_no_student_module() -> None:
    staged = sorted(p.relative_to(PACKAGE_DIR).as_posix() for p in PACKAGE_DIR.rglob("*.py"))
    assert staged == ["tinytorch/__init__.py", "tinytorch/core/__init__.py", "tinytorch/core/activations.py",
                      "tinytorch/core/tensor.py"]
    for path in staged:
        tree = ast.parse((PACKAGE_DIR / path).read_text())
        assert not {n.name for n in tree.body if isinstance(n, ast.ClassDef)} & {"Linear", "Dropout", "Layer"}


def test_source_has_upstreams_cells_points_and_header_kinds() -> None:
    cells = parse_source_cells(SOURCE)
    assert [c.grade_id for c in cells if c.grade_id] == UPSTREAM_IDS
    locked = {c.grade_id: c for c in cells if c.locked}
    assert {grade_id: c.points for grade_id, c in locked.items()} == UPSTREAM_POINTS
    for cell in locked.values():  # the header upstream's students' files carry, so theirs compare equal
        assert cell.graded and set(cell.nbgrader) == {"grade", "grade_id", "locked", "points"}


def test_instructor_solution_passes_its_own_tests_as_a_script() -> None:
    """The source run as upstream's students run theirs (its __main__ block calls every test)."""
    environment = {"PYTHONPATH": str(PACKAGE_DIR), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, str(BUNDLE_DIR / "layers.py")], capture_output=True, text=True,
                          env=environment, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "All layer tests passed." in done.stdout


def test_release_clears_linear_and_dropout_and_still_parses() -> None:
    release = clear_solutions(SOURCE)
    assert release.count("raise NotImplementedError()") == 5
    notebook = jupytext.reads(release, fmt="py:percent")
    for cell in notebook.cells:
        if cell.cell_type == "code":
            ast.parse(cell.source)
    assert json.dumps([c.metadata for c in notebook.cells]) == json.dumps(
        [c.metadata for c in jupytext.reads(SOURCE, fmt="py:percent").cells])
