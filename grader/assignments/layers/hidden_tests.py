"""Hidden reference probes for the layers assignment, plus the shadows that keep locked tests honest.

Inputs are drawn fresh for every run (a submission cannot know them in advance); shapes are fixed, so
a given implementation passes or fails the same way every run. Each check compares plain numbers
from the sandbox with tinytorch_ref, outside the sandbox.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.verdicts.compare import as_array, call_failure, describe_shape, mismatch, returned_kind
from grader.verdicts.wire import CallResult, DenseValue, encode_array
from tinytorch_ref.layers import dense_forward, matmul, xavier_scale


@dataclass(frozen=True)
class ProbeCall:
    """What the harness receives (`wire`) and what only the judge keeps (`context`: the inputs as arrays)."""

    wire: dict[str, Any]
    context: dict[str, Any]


Calls = list[ProbeCall]
Checker = Callable[[Calls, list[CallResult]], str | None]


@dataclass(frozen=True)
class ProbeDefinition:
    """How to build one probe's calls and how to judge its results (None means passed)."""

    generate: Callable[[np.random.Generator], Calls]
    check: Checker
    expects_errors: bool = False


def _matmul_call(a: np.ndarray, b: np.ndarray) -> ProbeCall:
    return ProbeCall({"op": "call", "target": "matmul", "args": [encode_array(a), encode_array(b)]},
                     {"a": a, "b": b})


def _decoded(call: ProbeCall, key: str) -> np.ndarray:
    return np.asarray(call.context[key])


def _label(a: np.ndarray, b: np.ndarray) -> str:
    return f"matmul(A {describe_shape(a.shape)}, B {describe_shape(b.shape)})"


def _check_matmul_values(calls: Calls, results: list[CallResult]) -> str | None:
    for call, result in zip(calls, results, strict=True):
        a, b = _decoded(call, "a"), _decoded(call, "b")
        problem = call_failure(_label(a, b), result) or mismatch(_label(a, b), matmul(a, b), result.value)
        if problem:
            return problem
    return None


def _random_matmul(rng: np.random.Generator) -> Calls:
    shapes = [(4, 4, 4), (3, 5, 2), (2, 7, 6), (6, 1, 3), (5, 3, 5)]
    return [_matmul_call(rng.standard_normal((m, n)), rng.standard_normal((n, p))) for m, n, p in shapes]


def _vector_matmul(rng: np.random.Generator) -> Calls:
    shapes = [(1, 6, 1), (6, 1, 6), (1, 4, 3), (5, 2, 1), (1, 1, 1)]
    return [_matmul_call(rng.standard_normal((m, n)), rng.standard_normal((n, p))) for m, n, p in shapes]


def _integer_matmul(rng: np.random.Generator) -> Calls:
    shapes = [(3, 3, 3), (2, 4, 5)]
    return [_matmul_call(rng.integers(-9, 10, (m, n)), rng.integers(-9, 10, (n, p))) for m, n, p in shapes]


def _shape_error_matmul(rng: np.random.Generator) -> Calls:
    shapes = [((2, 3), (2, 3)), ((1, 2), (3, 1)), ((4, 1), (2, 4))]
    return [_matmul_call(rng.standard_normal(a), rng.standard_normal(b)) for a, b in shapes]


def _check_shape_errors(calls: Calls, results: list[CallResult]) -> str | None:
    for call, result in zip(calls, results, strict=True):
        label = _label(_decoded(call, "a"), _decoded(call, "b"))
        if result.ok:
            return f"{label}: the shapes are incompatible, expected ValueError, but it returned a value"
        if result.error is None or result.error.type != "ValueError":
            raised = result.error.describe() if result.error else "an unknown error"
            return f"{label}: expected ValueError, raised {raised}"
    return None


def _dense_call(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None, *, seed: int) -> ProbeCall:
    n_in, n_out = weights.shape
    wire = {
        "op": "dense", "seed": seed,
        "init": {"input_size": n_in, "output_size": n_out, "use_bias": bias is not None},
        "set": {"weights": encode_array(weights, as_tensor=True),
                "bias": None if bias is None else encode_array(bias, as_tensor=True)},
        "input": encode_array(x, as_tensor=True),
        "read": ["bias"],
    }
    return ProbeCall(wire, {"x": x, "w": weights, "b": bias})


def _dense_label(call: ProbeCall) -> str:
    x, w = call.context["x"], call.context["w"]
    bias = "no bias" if call.context["b"] is None else "bias"
    return f"Dense({w.shape[0]}, {w.shape[1]}, {bias}) on input {describe_shape(x.shape)}"


def _check_dense_outputs(calls: Calls, results: list[CallResult]) -> str | None:
    for call, result in zip(calls, results, strict=True):
        label = _dense_label(call)
        failure = call_failure(label, result)
        if failure:
            return failure
        if not isinstance(result.value, DenseValue):
            return f"{label}: the layer could not be built and called"
        expected = dense_forward(call.context["x"], call.context["w"], call.context["b"]).astype(np.float32)
        problem = mismatch(label, expected, result.value.output, rtol=1e-4, atol=1e-5)
        if problem:
            return problem
        bias_value = result.value.attrs.get("bias")
        if call.context["b"] is None and bias_value is not None and bias_value.kind != "none":
            return f"{label}: with use_bias=False the layer's bias should be None"
    return None


def _dense_forward(rng: np.random.Generator) -> Calls:
    shapes = [(3, 2, 1), (5, 4, 2), (4, 6, 3)]
    return [_dense_call(rng.standard_normal((b, i)), rng.standard_normal((i, o)), rng.standard_normal(o), seed=s)
            for s, (i, o, b) in enumerate(shapes)]


def _dense_no_bias(rng: np.random.Generator) -> Calls:
    shapes = [(3, 2, 1), (6, 4, 3)]
    return [_dense_call(rng.standard_normal((b, i)), rng.standard_normal((i, o)), None, seed=s)
            for s, (i, o, b) in enumerate(shapes)]


def _dense_batches(rng: np.random.Generator) -> Calls:
    return [_dense_call(rng.standard_normal((b, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3), seed=b)
            for b in (1, 8, 32)]


def _init_call(n_in: int, n_out: int, *, seed: int, use_bias: bool = True,
               x: np.ndarray | None = None) -> ProbeCall:
    """Build a layer with the student's own initialisation (seeded) and read it back."""
    wire = {"op": "dense", "seed": seed, "init": {"input_size": n_in, "output_size": n_out, "use_bias": use_bias},
            "read": ["weights", "bias"], "input": None if x is None else encode_array(x, as_tensor=True)}
    return ProbeCall(wire, {"n_in": n_in, "n_out": n_out, "x": x})


def _dense_init(_rng: np.random.Generator) -> Calls:
    return [_init_call(n_in, n_out, seed=7) for n_in, n_out in ((100, 150), (3, 2))]


def _check_dense_init(calls: Calls, results: list[CallResult]) -> str | None:
    for call, result in zip(calls, results, strict=True):
        n_in, n_out = call.context["n_in"], call.context["n_out"]
        label = f"Dense({n_in}, {n_out})"
        failure = call_failure(label, result)
        if failure:
            return failure
        if not isinstance(result.value, DenseValue):
            return f"{label}: the layer could not be built"
        weights = as_array(result.value.attrs.get("weights"))
        bias = as_array(result.value.attrs.get("bias"))
        if weights is None or weights.shape != (n_in, n_out):
            got = describe_shape(weights.shape) if weights is not None else returned_kind(
                result.value.attrs.get("weights"))
            return f"{label}: weights should have shape {describe_shape((n_in, n_out))}, got {got}"
        if bias is None or bias.shape != (n_out,) or np.any(bias != 0):
            return f"{label}: bias should be zeros of shape {describe_shape((n_out,))}"
        if weights.size >= 1000:
            scale, spread = xavier_scale(n_in, n_out), float(weights.std())
            if not 0.85 * scale <= spread <= 1.15 * scale or abs(float(weights.mean())) > 0.1 * scale:
                return (f"{label}: weights should be random with std sqrt(2/(in+out)) = {scale:.4f} and mean 0, "
                        f"got std {spread:.4f}, mean {float(weights.mean()):.4f}")
    return None


def _f32(rows: list[list[float]]) -> np.ndarray:
    return np.array(rows, dtype=np.float32)


def _shadow_matmul(_rng: np.random.Generator) -> Calls:
    """The locked matmul test's own inputs, so its verdict can be re-derived from plain numbers."""
    identity = np.eye(3, dtype=np.float32)
    pairs = [
        (_f32([[1, 2], [3, 4]]), _f32([[5, 6], [7, 8]])),
        (_f32([[1, 2, 3]]), _f32([[4], [5], [6]])),
        (_f32([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), identity),
        (_f32([[1, 2]]), _f32([[3], [4], [5]])),
    ]
    return [_matmul_call(a, b) for a, b in pairs]


def _check_shadow_matmul(calls: Calls, results: list[CallResult]) -> str | None:
    problem = _check_matmul_values(calls[:3], results[:3])
    if problem:
        return problem
    last = results[3]
    if last.ok or last.error is None or last.error.type != "ValueError" \
            or "Incompatible matrix dimensions" not in last.error.message:
        return "matmul(A (1, 2), B (3, 1)): expected ValueError('Incompatible matrix dimensions ...')"
    return None


def _shadow_dense(_rng: np.random.Generator) -> Calls:
    """What the locked Dense test asserts: shapes, bias or no bias, different inputs give different outputs."""
    return [
        _init_call(3, 2, seed=11, x=_f32([[1, 2, 3]])),
        _init_call(3, 2, seed=11, x=_f32([[1, 2, 3], [4, 5, 6]])),
        _init_call(3, 2, seed=11, use_bias=False, x=_f32([[1, 2, 3]])),
        _init_call(3, 2, seed=11, x=_f32([[1, 0, 0]])),
        _init_call(3, 2, seed=11, x=_f32([[0, 1, 0]])),
    ]


def _output_shape_problem(call: ProbeCall, result: CallResult, expected: tuple[int, ...]) -> str | None:
    label = f"Dense({call.context['n_in']}, {call.context['n_out']}) on input " \
            f"{describe_shape(call.context['x'].shape)}"
    failure = call_failure(label, result)
    if failure:
        return failure
    if not isinstance(result.value, DenseValue):
        return f"{label}: the layer could not be built and called"
    output = as_array(result.value.output)
    if output is None or output.shape != expected:
        got = describe_shape(output.shape) if output is not None else returned_kind(result.value.output)
        return f"{label}: expected output shape {describe_shape(expected)}, got {got}"
    if not np.all(np.isfinite(output)):
        return f"{label}: the output contains nan or inf"
    return None


def _check_shadow_dense(calls: Calls, results: list[CallResult]) -> str | None:
    for call, result, shape in zip(calls, results, [(1, 2), (2, 2), (1, 2), (1, 2), (1, 2)], strict=True):
        problem = _output_shape_problem(call, result, shape)
        if problem:
            return problem
    values = [r.value for r in results]
    assert all(isinstance(v, DenseValue) for v in values)
    weights, bias = as_array(values[0].attrs.get("weights")), as_array(values[0].attrs.get("bias"))  # type: ignore[union-attr]
    if weights is None or weights.shape != (3, 2) or bias is None or bias.shape != (2,):
        return "Dense(3, 2): weights should have shape (3, 2) and bias shape (2,)"
    no_bias = values[2].attrs.get("bias")  # type: ignore[union-attr]
    if no_bias is not None and no_bias.kind != "none":
        return "Dense(3, 2, use_bias=False): bias should be None"
    first, second = as_array(values[3].output), as_array(values[4].output)  # type: ignore[union-attr]
    if first is not None and second is not None and np.allclose(first, second):
        return "Dense(3, 2): different inputs produced the same output"
    return None


LOCKED_INPUT = [[1, -2, 3, -4], [2, 1, -1, 3]]


def _shadow_activation(rng: np.random.Generator) -> Calls:
    """The comprehensive test's layers: output shapes, finite values, and Tensor parameters."""
    x = np.array(LOCKED_INPUT, dtype=np.int64)
    hidden = np.abs(rng.standard_normal((2, 5))).astype(np.float32)
    return [_init_call(4, 3, seed=13, x=x), _init_call(4, 5, seed=13, x=x), _init_call(5, 3, seed=13, x=hidden)]


def _check_shadow_activation(calls: Calls, results: list[CallResult]) -> str | None:
    for call, result, shape in zip(calls, results, [(2, 3), (2, 5), (2, 3)], strict=True):
        problem = _output_shape_problem(call, result, shape)
        if problem:
            return problem
        value = result.value
        assert isinstance(value, DenseValue)
        for name in ("weights", "bias"):
            attribute = value.attrs.get(name)
            if attribute is None or attribute.kind != "array" or attribute.container != "Tensor":  # type: ignore[union-attr]
                return f"Dense: {name} should be a Tensor, got {returned_kind(attribute)}"
    return None


SHADOWS: dict[str, ProbeDefinition] = {
    "shadow-matmul-immediate": ProbeDefinition(_shadow_matmul, _check_shadow_matmul, expects_errors=True),
    "shadow-dense-layer": ProbeDefinition(_shadow_dense, _check_shadow_dense),
    "shadow-layer-activation": ProbeDefinition(_shadow_activation, _check_shadow_activation),
}


PROBES: dict[str, ProbeDefinition] = {
    "hidden-matmul-random": ProbeDefinition(_random_matmul, _check_matmul_values),
    "hidden-matmul-vectors": ProbeDefinition(_vector_matmul, _check_matmul_values),
    "hidden-matmul-integer": ProbeDefinition(_integer_matmul, _check_matmul_values),
    "hidden-matmul-shape-errors": ProbeDefinition(_shape_error_matmul, _check_shape_errors, expects_errors=True),
    "hidden-dense-forward": ProbeDefinition(_dense_forward, _check_dense_outputs),
    "hidden-dense-no-bias": ProbeDefinition(_dense_no_bias, _check_dense_outputs),
    "hidden-dense-batches": ProbeDefinition(_dense_batches, _check_dense_outputs),
    "hidden-dense-xavier-init": ProbeDefinition(_dense_init, _check_dense_init),
}
