"""The zygote's warm-up: harness-written code that walks the paths a job takes, so no fork pays for them again.

Runs INSIDE the sandbox, once, in the zygote, before any job exists. It is not student code and sees no job;
it leaves no module, cache entry or file behind, only warmed interpreter internals (numpy's printing, ufunc
dispatch, the compiler, exception formatting, the probe programs' every verb) that every workspace would
otherwise build for itself. It is made up and uses numpy only, so it fits every assignment's runtime.
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


class Box:
    def __init__(self, data):
        self.data = np.array(data)

    @property
    def shape(self):
        return self.data.shape


def combine(a, b, *, scale=1.0):
    rows, inner = a.shape
    if inner != b.shape[0]:
        raise ValueError(f"cannot combine {a.shape} with {b.shape}")
    out = np.zeros((rows, b.shape[1]))
    for r in range(rows):
        for c in range(b.shape[1]):
            out[r, c] = sum(a[r, k] * b[k, c] for k in range(inner))
    return out * scale


def squash(x):
    shifted = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return shifted / np.sum(shifted, axis=-1, keepdims=True)


class Accumulator:
    def __init__(self, size, offset=0.0, label="acc"):
        limit = np.sqrt(2.0 / (size + size))
        self.state = Box(np.random.normal(0.0, limit, size=(size, size)).astype(np.float32))
        self.offset = None if offset is None else np.zeros(size, dtype=np.float32) + offset
        self.label = label

    def __call__(self, x):
        out = combine(x.data, self.state.data)
        return type(x)(out + self.offset if self.offset is not None else out)

    def describe(self, digits):
        return f"{self.label}: {self.state.data.mean():.{digits}f}"


def test_unit_warmup():
    a = np.array([[1, 2], [3, 4]], dtype=np.float32)
    assert np.allclose(combine(a, a), a @ a), f"expected {a @ a}, got {combine(a, a)}"
    np.testing.assert_allclose(combine(a, a), a @ a)
    out = Accumulator(2)(Box([[1, -2], [2, 1]]))
    for transform in (np.tanh, squash, lambda v: np.maximum(v, 0), lambda v: 1 / (1 + np.exp(-v))):
        assert transform(out.data).shape == (2, 2)
    assert abs(np.sum(squash(out.data)[0]) - 1.0) < 1e-6
    assert not np.array_equal(out.data, np.zeros((2, 2))), f"{out.data.mean():.4f} {out}"
    try:
        combine(a, np.ones((3, 3)))
    except ValueError as exc:
        assert "cannot combine" in str(exc)
    assert False, f"Warm-up failure on purpose: {a} {np.float32(1.5)!r} {[1.0, 2.5]}"
'''

TEST = "def test_warmup():\n    test_unit_warmup()\n\ntest_warmup()\n"


def _array(shape: tuple[int, ...], kind: str = "ndarray") -> dict[str, Any]:
    values = np.arange(float(np.prod(shape))).reshape(shape)
    return {"values": values.reshape(-1).tolist(), "dtype": "float32", "shape": list(shape), "as": kind}


def _number(value: float) -> dict[str, Any]:
    return {"as": "number", "value": value}


def _ref(step: int) -> dict[str, Any]:
    return {"as": "ref", "step": step}


def _probe() -> dict[str, Any]:
    """Two programs that use every verb, input kind and step option, and end in a caught and an uncaught error."""
    return {"probe_id": "warmup", "calls": [
        {"seed": 1, "steps": [{"call": "combine", "args": [_array((2, 3)), _array((3, 2))],
                               "kwargs": {"scale": _number(2)}}]},
        {"seed": 2, "steps": [
            {"new": "Accumulator", "args": [_number(3)], "kwargs": {"label": {"as": "text", "value": "w"}}},
            {"get": 0, "attr": "state"},
            {"set": 0, "attr": "offset", "value": {"as": "none"}},
            {"method": 0, "name": "__call__", "args": [_array((2, 3), "tensor")]},
            {"method": 0, "name": "describe", "args": [_number(3)]},
            {"get": 1, "attr": "data", "summarize": {"sample": [0, 4, 99]}},
            {"get": 3, "attr": "data"},
            {"call": "numpy:transpose", "args": [_ref(6)]},
            {"call": "combine", "args": [_ref(7), {"as": "tuple", "items": [_number(1.5)]}], "catch": True},
            {"call": "squash", "args": [{"as": "list", "items": [_number(1), _number(2.5)]}]},
            {"get": 0, "attr": "missing"},
        ]},
    ]}


def warm_up(tensor_cls: Any = None) -> None:
    """Run a made-up notebook, locked test and probe through the workspace's own functions, to /dev/null;
    values travel as `tensor_cls` (the runtime's tensor class) or, without one, as the notebook's own Box."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    namespace: dict[str, Any] = {"__name__": "_harness_warmup"}
    probe = _probe()
    try:
        names = probes.bind_names({"probes": [probe]})
        workspace.run_cells({"cells": [{"key": "warmup", "source": CELL}]}, namespace, devnull)
        workspace.run_locked_test({"item_id": "warmup-test", "source": TEST, "seeds": [1, 2]}, namespace)
        workspace.run_probe(probe, namespace, tensor_cls or namespace["Box"], names)
        probes.encode_value(np.array([np.nan, 2.0]))
        probes.encode_value(np.float64(2.0))
    finally:
        os.close(devnull)
        for key in [key for key in linecache.cache if key.startswith("<cell warmup")]:
            del linecache.cache[key]
        sys.modules.pop("_harness_warmup", None)
        namespace.clear()
