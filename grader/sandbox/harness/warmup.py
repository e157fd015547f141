"""The zygote's warm-up: harness-written code that walks the paths a job takes, so no fork pays for them again.

Runs INSIDE the sandbox, once, in the zygote, before any job exists. It is not student code and sees no job;
it leaves no module, cache entry or file behind, only warmed interpreter internals (numpy's printing, ufunc
dispatch, the compiler, exception formatting) that every workspace would otherwise build for itself.
"""

import linecache
import os
import sys
from typing import Any

import numpy as np
import probes
import workspace

CELL = '''
import numpy as np
from tinytorch.core.tensor import Tensor
from tinytorch.core.activations import ReLU, Sigmoid, Tanh, Softmax


def matmul(A, B):
    rows, inner = A.shape
    if inner != B.shape[0]:
        raise ValueError(f"Incompatible matrix dimensions: {A.shape} and {B.shape}")
    out = np.zeros((rows, B.shape[1]))
    for r in range(rows):
        for c in range(B.shape[1]):
            out[r, c] = sum(A[r, k] * B[k, c] for k in range(inner))
    return out


class Dense:
    def __init__(self, input_size, output_size, use_bias=True):
        limit = np.sqrt(2.0 / (input_size + output_size))
        self.weights = Tensor(np.random.normal(0.0, limit, size=(input_size, output_size)).astype(np.float32))
        self.bias = Tensor(np.zeros(output_size, dtype=np.float32)) if use_bias else None

    def __call__(self, x):
        out = matmul(x.data, self.weights.data)
        return type(x)(out + self.bias.data if self.bias is not None else out)


def test_unit_warmup():
    a = np.array([[1, 2], [3, 4]], dtype=np.float32)
    assert np.allclose(matmul(a, a), a @ a), f"expected {a @ a}, got {matmul(a, a)}"
    np.testing.assert_allclose(matmul(a, a), a @ a)
    layer = Dense(input_size=2, output_size=3)
    out = layer(Tensor([[1, -2], [2, 1]]))
    for activation in (ReLU(), Sigmoid(), Tanh(), Softmax()):
        assert activation(out).shape == (2, 3)
    assert np.all(ReLU()(out).data >= 0) and abs(np.sum(Softmax()(out).data[0]) - 1.0) < 1e-6
    assert not np.array_equal(out.data, np.zeros((2, 3))), f"{out.data.mean():.4f} {out}"
    try:
        matmul(a, np.ones((3, 3)))
    except ValueError as exc:
        assert "Incompatible matrix dimensions" in str(exc)
    assert False, f"Warm-up failure on purpose: {a} {np.float32(1.5)!r} {[1.0, 2.5]}"
'''

TEST = "def test_warmup():\n    test_unit_warmup()\n\ntest_warmup()\n"


def _array(shape: tuple[int, ...], as_tensor: bool) -> dict[str, Any]:
    values = np.arange(float(np.prod(shape))).reshape(shape)
    return {"values": values.reshape(-1).tolist(), "dtype": "float32", "shape": list(shape),
            "as": "tensor" if as_tensor else "ndarray"}


def _probe() -> dict[str, Any]:
    x, w, weights = _array((2, 3), True), _array((3, 2), False), _array((3, 2), True)
    return {"probe_id": "warmup", "calls": [
        {"op": "call", "target": "matmul", "args": [_array((2, 3), False), w], "seed": 1},
        {"op": "call", "target": "matmul", "args": [w, w], "seed": 1},
        {"op": "dense", "init": {"input_size": 3, "output_size": 2}, "set": {"bias": None, "weights": weights},
         "read": ["weights", "bias"], "input": x, "seed": 2,
         "summarize": {"weights": {"sample": [0, 5]}}},
        {"op": "session", "seed": 3, "steps": [
            {"new": "layer", "init": {"input_size": 3, "output_size": 2}}, {"read": "layer", "attr": "weights"},
            {"apply": "layer", "input": x}, {"apply": "layer", "relu_of": 2}]},
    ]}


def warm_up() -> None:
    """Run a made-up notebook, locked test and probe through the workspace's own functions, to /dev/null."""
    from tinytorch.core.tensor import Tensor

    devnull = os.open(os.devnull, os.O_WRONLY)
    namespace: dict[str, Any] = {"__name__": "_harness_warmup"}
    try:
        workspace.run_cells({"cells": [{"key": "warmup", "source": CELL}]}, namespace, devnull)
        workspace.run_locked_test({"item_id": "warmup-test", "source": TEST, "seeds": [1, 2]}, namespace)
        workspace.run_probe(_probe(), namespace, Tensor)
        probes.encode_value(np.float64(2.0))
    finally:
        os.close(devnull)
        for key in [key for key in linecache.cache if key.startswith("<cell warmup")]:
            del linecache.cache[key]
        sys.modules.pop("_harness_warmup", None)
        namespace.clear()
