"""The layers-linear answer key (reference/layers.py), checked against plain NumPy and the contract's numbers."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

REFERENCE = Path(__file__).resolve().parents[2] / "grader" / "assignments" / "layers-linear" / "reference" / "layers.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("layers_linear_reference", REFERENCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.pop("layers_linear_reference", None)
    spec.loader.exec_module(module)
    return module


ref = _load()


def test_linear_forward_is_x_at_w_plus_b_in_float32() -> None:
    x, w, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4) / 7, np.array([1.0, -1.0, 0.5, 0.0])
    out = ref.linear_forward(x, w, b)
    assert out.dtype == np.float32 and np.allclose(out, x @ w + b, rtol=1e-6)
    assert np.allclose(ref.linear_forward(x, w, None), x @ w, rtol=1e-6)


def test_weight_layout_and_init_scale_are_upstreams() -> None:
    assert ref.weight_shape(784, 10) == (784, 10)
    assert ref.init_scale(100) == pytest.approx(0.1) and ref.init_scale(784) == pytest.approx(np.sqrt(1 / 784))
    with pytest.raises(ValueError):
        ref.init_scale(0)


@pytest.mark.parametrize("p,scale", [(0.0, 1.0), (0.25, 4 / 3), (0.5, 2.0), (0.8, 5.0)])
def test_dropout_scale_is_inverted(p: float, scale: float) -> None:
    assert ref.dropout_scale(p) == pytest.approx(scale)


def test_dropout_probabilities_outside_zero_one_are_invalid() -> None:
    assert all(ref.valid_dropout_p(p) for p in (0.0, 0.5, 1.0))
    assert not any(ref.valid_dropout_p(p) for p in (-0.1, 1.01, 2.0))
    with pytest.raises(ValueError):
        ref.dropout_scale(1.0)
    x = np.array([[1.0, -2.0]])
    assert np.array_equal(ref.dropout_eval(x), x) and np.array_equal(ref.dropout_all(x), [[0.0, 0.0]])
