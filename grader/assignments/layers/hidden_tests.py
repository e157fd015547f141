"""Hidden reference probes for the layers assignment, plus the shadows that keep locked tests honest.

Inputs are drawn fresh for every run (a submission cannot know them in advance); shapes are fixed, so
a given implementation passes or fails the same way every run. Each check compares plain numbers
from the sandbox with tinytorch_ref, outside the sandbox.
"""

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.probe_api import (
    ArrayValue,
    CallResult,
    Calls,
    ProbeCall,
    ProbeDefinition,
    ReferenceTensor,
    Replay,
    Seeds,
    Step,
    SummaryValue,
    Value,
    array,
    as_array,
    call,
    call_failure,
    check,
    describe_shape,
    get,
    judge_seeds,
    method,
    mismatch,
    new,
    none,
    program,
    raised,
    ref,
    returned,
    returned_kind,
    set_attr,
    steps_of,
    tensor,
)
from tinytorch_ref.activations import ReLU, Sigmoid, Softmax, Tanh
from tinytorch_ref.layers import dense_forward, matmul, xavier_scale
from tinytorch_ref.tensor import Tensor

PACKAGE_RELU = "tinytorch.core.activations:ReLU"  # the package's own ReLU, as the locked test imports it
REFERENCE_TENSOR = ReferenceTensor(Tensor.__name__, lambda data: Tensor(data, dtype=data.dtype))


def _matmul_call(a: np.ndarray, b: np.ndarray) -> ProbeCall:
    return program(call("matmul", array(a), array(b)), context={"a": a, "b": b})


def _decoded(call: ProbeCall, key: str) -> np.ndarray:
    return np.asarray(call.context[key])


def _label(a: np.ndarray, b: np.ndarray) -> str:
    return f"matmul(A {describe_shape(a.shape)}, B {describe_shape(b.shape)})"


def _check_matmul_values(calls: Calls, results: list[CallResult]) -> str | None:
    for sent, result in zip(calls, results, strict=True):
        a, b = _decoded(sent, "a"), _decoded(sent, "b")
        problem = call_failure(_label(a, b), result) or mismatch(_label(a, b), matmul(a, b), returned(result))
        if problem:
            return problem
    return None


def _random_matmul(rng: np.random.Generator, _seeds: Seeds) -> Calls:
    shapes = [(4, 4, 4), (3, 5, 2), (2, 7, 6), (6, 1, 3), (5, 3, 5)]
    return [_matmul_call(rng.standard_normal((m, n)), rng.standard_normal((n, p))) for m, n, p in shapes]


def _vector_matmul(rng: np.random.Generator, _seeds: Seeds) -> Calls:
    shapes = [(1, 6, 1), (6, 1, 6), (1, 4, 3), (5, 2, 1), (1, 1, 1)]
    return [_matmul_call(rng.standard_normal((m, n)), rng.standard_normal((n, p))) for m, n, p in shapes]


def _integer_matmul(rng: np.random.Generator, _seeds: Seeds) -> Calls:
    shapes = [(3, 3, 3), (2, 4, 5)]
    return [_matmul_call(rng.integers(-9, 10, (m, n)), rng.integers(-9, 10, (n, p))) for m, n, p in shapes]


def _shape_error_matmul(rng: np.random.Generator, _seeds: Seeds) -> Calls:
    shapes = [((2, 3), (2, 3)), ((1, 2), (3, 1)), ((4, 1), (2, 4))]
    return [_matmul_call(rng.standard_normal(a), rng.standard_normal(b)) for a, b in shapes]


def _check_shape_errors(calls: Calls, results: list[CallResult]) -> str | None:
    for sent, result in zip(calls, results, strict=True):
        label = _label(_decoded(sent, "a"), _decoded(sent, "b"))
        error = raised(result)
        if error is None:
            return f"{label}: the shapes are incompatible, expected ValueError, but it returned a value"
        if error.type != "ValueError":
            return f"{label}: expected ValueError, raised {error.describe()}"
    return None


DENSE_OUTPUT, DENSE_BIAS = 4, 3  # the steps of a forward program whose values the checker reads


def _dense_call(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None, *, seed: int) -> ProbeCall:
    """Build a layer, give it known weights and bias, read the bias back, then apply it to `x`."""
    n_in, n_out = weights.shape
    return program(
        new("Dense", input_size=n_in, output_size=n_out, use_bias=bias is not None),
        set_attr(0, "weights", tensor(weights)),
        set_attr(0, "bias", none() if bias is None else tensor(bias)),
        get(0, "bias"),
        method(0, "__call__", tensor(x)),
        seed=seed, context={"x": x, "w": weights, "b": bias})


def _dense_label(call: ProbeCall) -> str:
    x, w = call.context["x"], call.context["w"]
    bias = "no bias" if call.context["b"] is None else "bias"
    return f"Dense({w.shape[0]}, {w.shape[1]}, {bias}) on input {describe_shape(x.shape)}"


def _check_dense_outputs(calls: Calls, results: list[CallResult]) -> str | None:
    for sent, result in zip(calls, results, strict=True):
        label = _dense_label(sent)
        failure = call_failure(label, result)
        if failure:
            return failure
        steps = steps_of(result)
        if steps is None or len(steps.values) != DENSE_OUTPUT + 1:
            return f"{label}: the layer could not be built and called"
        expected = dense_forward(sent.context["x"], sent.context["w"], sent.context["b"]).astype(np.float32)
        problem = mismatch(label, expected, steps.values[DENSE_OUTPUT], rtol=1e-4, atol=1e-5)
        if problem:
            return problem
        if sent.context["b"] is None and steps.values[DENSE_BIAS].kind != "none":
            return f"{label}: with use_bias=False the layer's bias should be None"
    return None


def _dense_forward(rng: np.random.Generator, _seeds: Seeds) -> Calls:
    shapes = [(3, 2, 1), (5, 4, 2), (4, 6, 3)]
    return [_dense_call(rng.standard_normal((b, i)), rng.standard_normal((i, o)), rng.standard_normal(o), seed=s)
            for s, (i, o, b) in enumerate(shapes)]


def _dense_no_bias(rng: np.random.Generator, _seeds: Seeds) -> Calls:
    shapes = [(3, 2, 1), (6, 4, 3)]
    return [_dense_call(rng.standard_normal((b, i)), rng.standard_normal((i, o)), None, seed=s)
            for s, (i, o, b) in enumerate(shapes)]


def _dense_batches(rng: np.random.Generator, _seeds: Seeds) -> Calls:
    return [_dense_call(rng.standard_normal((b, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3), seed=b)
            for b in (1, 8, 32)]


SUMMARIZED_FROM = 1000  # weights at least this large come back summarized, not as every entry
SAMPLED_ENTRIES = 32


def _init_call(n_in: int, n_out: int, *, seed: int, rng: np.random.Generator) -> ProbeCall:
    """Build a layer with the student's own initialisation (seeded) and read it back: a large weight matrix as
    its summary and the entries at indices drawn here, so ~15,000 floats never cross the sandbox's pipes."""
    sample: list[int] = []
    reads: list[Step] = [get(0, "weights"), get(0, "bias")]
    if n_in * n_out >= SUMMARIZED_FROM:
        sample = sorted(int(i) for i in rng.choice(n_in * n_out, size=SAMPLED_ENTRIES, replace=False))
        reads = [get(0, "bias"), get(0, "weights").summarized(sample)]
    steps = [new("Dense", input_size=n_in, output_size=n_out, use_bias=True), *reads]
    where = {"weights_step": 1 + [step.wire["attr"] for step in reads].index("weights"),
             "bias_step": 1 + [step.wire["attr"] for step in reads].index("bias")}
    return program(*steps, seed=seed, context={"n_in": n_in, "n_out": n_out, "sample": sample, **where})


def _dense_init(rng: np.random.Generator, _seeds: Seeds) -> Calls:
    return [_init_call(n_in, n_out, seed=7, rng=rng) for n_in, n_out in ((100, 150), (3, 2))]


def _weights_moments(value: Value | None, sample: list[int]) -> tuple[tuple[int, ...], float, float] | str | None:
    """Shape, mean and std of the returned weights; a message when a summary is not finite or contradicts its
    own sampled entries (an honest one never does); None when the weights are not an array at all."""
    if isinstance(value, SummaryValue):
        if not value.finite():
            return "weights should be finite numbers, got nan or inf"
        low, high, entries = float(value.min), float(value.max), [float(v or 0) for v in value.sample]
        consistent = len(entries) == len(sample) and low <= float(value.mean) <= high \
            and all(low <= v <= high for v in entries) and float(value.std) <= (high - low) / 2 * (1 + 1e-6)
        if not consistent:
            return "the weights' summary does not agree with the weights it was computed from"
        return tuple(value.shape), float(value.mean), float(value.std)
    weights = as_array(value)
    if weights is None:
        return None
    return weights.shape, float(weights.mean()) if weights.size else 0.0, float(weights.std()) if weights.size else 0.0


def _check_dense_init(calls: Calls, results: list[CallResult]) -> str | None:
    for sent, result in zip(calls, results, strict=True):
        n_in, n_out = sent.context["n_in"], sent.context["n_out"]
        label = f"Dense({n_in}, {n_out})"
        failure = call_failure(label, result)
        if failure:
            return failure
        steps = steps_of(result)
        if steps is None or len(steps.values) != 3:
            return f"{label}: the layer could not be built"
        weights = steps.values[sent.context["weights_step"]]
        moments = _weights_moments(weights, sent.context["sample"])
        if isinstance(moments, str):
            return f"{label}: {moments}"
        if moments is None or moments[0] != (n_in, n_out):
            got = describe_shape(moments[0]) if moments is not None else returned_kind(weights)
            return f"{label}: weights should have shape {describe_shape((n_in, n_out))}, got {got}"
        bias = as_array(steps.values[sent.context["bias_step"]])
        if bias is None or bias.shape != (n_out,) or np.any(bias != 0):
            return f"{label}: bias should be zeros of shape {describe_shape((n_out,))}"
        _, mean, spread = moments
        scale = xavier_scale(n_in, n_out)
        if n_in * n_out >= SUMMARIZED_FROM and (not 0.85 * scale <= spread <= 1.15 * scale or abs(mean) > 0.1 * scale):
            return (f"{label}: weights should be random with std sqrt(2/(in+out)) = {scale:.4f} and mean 0, "
                    f"got std {spread:.4f}, mean {mean:.4f}")
    return None


def _f32(rows: list[list[float]]) -> np.ndarray:
    return np.array(rows, dtype=np.float32)


def _shadow_matmul(_rng: np.random.Generator, _seeds: Seeds) -> Calls:
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
    error = raised(results[3])
    if error is None or error.type != "ValueError" or "Incompatible matrix dimensions" not in error.message:
        return "matmul(A (1, 2), B (3, 1)): expected ValueError('Incompatible matrix dimensions ...')"
    return None


def _int_tensor(rows: list[list[int]]) -> Any:
    """`Tensor([[1, 2, 3]])` as the locked tests write it: Python ints, so an int64 Tensor."""
    return tensor(np.array(rows, dtype=np.int64))


def _dense(n_in: int, n_out: int, **options: bool) -> Step:
    return new("Dense", input_size=n_in, output_size=n_out, **options)


def _apply(layer: int, rows: list[list[int]]) -> Step:
    return method(layer, "__call__", _int_tensor(rows))


def _replay_calls(steps: list[Step], seeds: Seeds) -> Calls:
    """One program per locked-test seed, in the rubric's order, as the harness retries the test."""
    return [program(*steps, seed=seed, context={"seed": seed}) for seed in seeds]


DENSE_TEST_STEPS = [
    _dense(3, 2), get(0, "weights"), get(0, "bias"), _apply(0, [[1, 2, 3]]), _apply(0, [[1, 2, 3], [4, 5, 6]]),
    _dense(3, 2, use_bias=False), get(5, "bias"), _apply(5, [[1, 2, 3]]),
    _apply(0, [[1, 0, 0]]), _apply(0, [[0, 1, 0]]), _apply(0, [[2, 4, 6]]),
]


def _replay_dense_test(r: Replay) -> None:
    """test_unit_dense_layer's assertions, in its order, on the values its calls returned."""
    r.value(0)
    check(r.shape(1) == (3, 2), f"Weight shape should be (3, 2), got {r.shape(1)}")
    check(not r.is_none(2), "Bias should not be None when use_bias=True")
    check(r.shape(2) == (2,), f"Bias shape should be (2,), got {r.shape(2)}")
    check(r.shape(3) == (1, 2), f"Output shape should be (1, 2), got {r.shape(3)}")
    check(r.shape(4) == (2, 2), f"Batch output shape should be (2, 2), got {r.shape(4)}")
    r.value(5)
    check(r.is_none(6), "Layer without bias should have None bias")
    check(r.shape(7) == (1, 2), "No-bias layer should still produce correct shape")
    check(not np.allclose(r.data(8), r.data(9)), "Different inputs should produce different outputs")
    r.value(10)


LOCKED_INPUT = [[1, -2, 3, -4], [2, 1, -1, 3]]
ACTIVATION_TEST_STEPS = [
    _dense(4, 3), _apply(0, LOCKED_INPUT), _dense(4, 5), _dense(5, 3), _apply(2, LOCKED_INPUT),
    new(PACKAGE_RELU), method(5, "__call__", ref(4)), method(3, "__call__", ref(6)),
    get(2, "weights"), get(2, "bias"),
]


def _check_distribution(output: Tensor, label: str) -> None:
    check(output.shape == (2, 3), f"{label} should preserve shape")
    for i in range(2):
        row_sum = np.sum(output.data[i])
        check(abs(row_sum - 1.0) < 1e-6, f"{label} row {i} should sum to 1, got {row_sum}")


def _replay_activation_test(r: Replay) -> None:
    """test_unit_layer_activation's assertions, with the reference activations, on the layers' outputs."""
    r.value(0)
    linear_output = r.tensor(1)
    relu_output = ReLU()(linear_output)
    check(relu_output.shape == (2, 3), "ReLU output should preserve shape")
    check(np.all(relu_output.data >= 0), "ReLU output should be non-negative")
    _check_distribution(Softmax()(linear_output), "Softmax output")
    sigmoid_output = Sigmoid()(linear_output)
    check(sigmoid_output.shape == (2, 3), "Sigmoid output should preserve shape")
    check(np.all(sigmoid_output.data > 0) and np.all(sigmoid_output.data < 1), "Sigmoid output should be in (0, 1)")
    tanh_output = Tanh()(linear_output)
    check(tanh_output.shape == (2, 3), "Tanh output should preserve shape")
    check(np.all(tanh_output.data > -1) and np.all(tanh_output.data < 1), "Tanh output should be in (-1, 1)")
    r.value(2)
    r.value(3)
    r.tensor(4)
    _check_distribution(Softmax()(r.tensor(7)), "Network output")
    check(r.has(8) and r.has(9), "Layer should have weights and bias")
    for index, name in ((8, "Weights"), (9, "Bias")):
        value = r.value(index)
        check(isinstance(value, ArrayValue) and value.container == "Tensor", f"{name} should be Tensor")


def _replay(steps: list[Step], replica: Callable[[Replay], None]) -> ProbeDefinition:
    """A shadow that replays a locked test's calls under its seeds and judges the replica of its asserts."""
    return ProbeDefinition(lambda _rng, seeds: _replay_calls(steps, seeds),
                           lambda _calls, results: judge_seeds(results, replica, tensor=REFERENCE_TENSOR))


PROBES: dict[str, ProbeDefinition] = {
    "shadow-matmul-immediate": ProbeDefinition(_shadow_matmul, _check_shadow_matmul, expects_errors=True),
    "shadow-dense-layer": _replay(DENSE_TEST_STEPS, _replay_dense_test),
    "shadow-layer-activation": _replay(ACTIVATION_TEST_STEPS, _replay_activation_test),
    "hidden-matmul-random": ProbeDefinition(_random_matmul, _check_matmul_values),
    "hidden-matmul-vectors": ProbeDefinition(_vector_matmul, _check_matmul_values),
    "hidden-matmul-integer": ProbeDefinition(_integer_matmul, _check_matmul_values),
    "hidden-matmul-shape-errors": ProbeDefinition(_shape_error_matmul, _check_shape_errors, expects_errors=True),
    "hidden-dense-forward": ProbeDefinition(_dense_forward, _check_dense_outputs),
    "hidden-dense-no-bias": ProbeDefinition(_dense_no_bias, _check_dense_outputs),
    "hidden-dense-batches": ProbeDefinition(_dense_batches, _check_dense_outputs),
    "hidden-dense-xavier-init": ProbeDefinition(_dense_init, _check_dense_init),
}
