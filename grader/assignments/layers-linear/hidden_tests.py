"""Hidden probes of the layers-linear bundle: Linear and Dropout checked against reference/ outside the sandbox.

Each probe is a few programs of the generic protocol (build a layer, set or read its attributes, call its
methods); inputs are drawn fresh for every run, shapes and seeds are fixed, so a given implementation passes
or fails the same way every run. What comes back is plain data, judged here.
"""

from typing import Any

import numpy as np

from grader.probe_api import (
    CallResult,
    Calls,
    ProbeCall,
    ProbeDefinition,
    Seeds,
    Step,
    as_array,
    describe_shape,
    get,
    method,
    mismatch,
    new,
    program,
    ref,
    set_attr,
    tensor,
)
from grader.probe_api import (
    call as call_function,
)

from .reference.layers import (
    dropout_all,
    dropout_eval,
    dropout_scale,
    init_scale,
    linear_forward,
    weight_shape,
)
from .reference.programs import Outcome, failure_of, outcome
from .reference.shadows import SHADOWS

# ---------------------------------------------------------------- Linear


def _own_layout_hint(own: Any, n_in: int, n_out: int) -> str:
    """When the layer made its weight PyTorch's way round, say so: that is the usual cause of what follows."""
    weights = as_array(own)
    if weights is not None and n_in != n_out and weights.shape == (n_out, n_in):
        return (f" (your Linear({n_in}, {n_out}) creates its weight as (out_features, in_features) = "
                f"{describe_shape((n_out, n_in))}, PyTorch's layout; this course's Linear keeps "
                f"(in_features, out_features) = {describe_shape((n_in, n_out))} and computes x @ weight + bias)")
    return ""


def _forward_program(rng: np.random.Generator, n_in: int, n_out: int, batch: int, seed: int) -> ProbeCall:
    w = rng.standard_normal((n_in, n_out)).astype(np.float32)
    b = rng.standard_normal(n_out).astype(np.float32)
    x = rng.standard_normal((batch, n_in)).astype(np.float32)
    x2 = rng.standard_normal((batch + 1, n_in)).astype(np.float32)
    steps = [new("Linear", n_in, n_out), get(0, "weight"),
             set_attr(0, "weight", tensor(w)), set_attr(0, "bias", tensor(b)),
             method(0, "forward", tensor(x)), method(0, "__call__", tensor(x2))]
    return program(*steps, seed=seed, context={"w": w, "b": b, "x": x, "x2": x2})


def _linear_forward(rng: np.random.Generator, _seeds: Seeds) -> Calls:
    shapes = [(3, 2, 1), (5, 4, 3), (6, 3, 8), (4, 4, 2)]
    return [_forward_program(rng, i, o, batch, seed=s) for s, (i, o, batch) in enumerate(shapes)]


def _check_linear_forward(calls: Calls, results: list[CallResult]) -> str | None:
    for call, result in zip(calls, results, strict=True):
        w, b = call.context["w"], call.context["b"]
        n_in, n_out = w.shape
        label = f"Linear({n_in}, {n_out}) with weight {describe_shape(w.shape)} and bias {describe_shape(b.shape)}"
        got = outcome(result)
        hint = _own_layout_hint(got.value(1), n_in, n_out)
        problem = failure_of(got, label, upto=6)
        for step, key, how in ((4, "x", "forward"), (5, "x2", "calling the layer")):
            if problem:
                break
            x = call.context[key]
            problem = mismatch(f"{label}, {how} on input {describe_shape(x.shape)}", linear_forward(x, w, b),
                               got.value(step), rtol=1e-4, atol=1e-5)
        if problem:
            return problem + hint
    return None


def _layout_program(rng: np.random.Generator, n_in: int, n_out: int, seed: int) -> ProbeCall:
    x = rng.standard_normal((3, n_in)).astype(np.float32)
    steps = [new("Linear", n_in, n_out), get(0, "weight"), get(0, "bias"),
             method(0, "forward", tensor(x))]
    return program(*steps, seed=seed, context={"x": x, "n_in": n_in, "n_out": n_out})


def _linear_layout(rng: np.random.Generator, _seeds: Seeds) -> Calls:
    return [_layout_program(rng, n_in, n_out, seed=20 + s) for s, (n_in, n_out) in enumerate([(5, 3), (4, 4)])]


def _layout_problem(call: ProbeCall, got: Outcome) -> str | None:
    n_in, n_out = call.context["n_in"], call.context["n_out"]
    label = f"Linear({n_in}, {n_out})"
    problem = failure_of(got, label, upto=4)
    if problem:
        return problem
    weight, bias = as_array(got.value(1)), as_array(got.value(2))
    wanted = weight_shape(n_in, n_out)
    if weight is None or weight.shape != wanted:
        shape = "not an array" if weight is None else f"shape {describe_shape(weight.shape)}"
        pytorch = weight is not None and weight.shape == (n_out, n_in)
        return (f"{label}.weight should have shape (in_features, out_features) = {describe_shape(wanted)}, got "
                f"{shape}" + (": that is PyTorch's (out_features, in_features) layout; this course's Linear "
                              "keeps one row per input feature and computes x @ weight + bias" if pytorch else ""))
    x = call.context["x"]
    expected = linear_forward(x, weight, bias)
    problem = mismatch(f"{label} on input {describe_shape(x.shape)}, against x @ weight + bias of its own weight "
                       "and bias", expected, got.value(3), rtol=1e-4, atol=1e-5)
    returned = as_array(got.value(3))
    if problem and returned is not None and n_in == n_out and returned.shape == expected.shape \
            and np.allclose(returned, linear_forward(x, weight.T, bias), rtol=1e-4, atol=1e-5):
        return (f"{label}: forward computes x @ weight.T + bias, PyTorch's convention; this course's Linear keeps "
                "the weight as (in_features, out_features) and computes x @ weight + bias")
    return problem


def _check_linear_layout(calls: Calls, results: list[CallResult]) -> str | None:
    for call, result in zip(calls, results, strict=True):
        problem = _layout_problem(call, outcome(result))
        if problem:
            return problem
    return None


INIT_SHAPE = (100, 400)  # sqrt(1/100) = 0.1; Glorot's sqrt(2/500) = 0.063 and He's sqrt(2/100) = 0.141 are far off
SAMPLED = 32


def _linear_init(rng: np.random.Generator, _seeds: Seeds) -> Calls:
    n_in, n_out = INIT_SHAPE
    sample = sorted(int(i) for i in rng.choice(n_in * n_out, size=SAMPLED, replace=False))
    steps = [new("Linear", n_in, n_out), get(0, "weight").summarized(sample),
             get(0, "bias")]
    return [program(*steps, seed=11, context={"n_in": n_in, "n_out": n_out, "sample": sample})]


def _moments(value: Any, sample: list[int]) -> tuple[tuple[int, ...], float, float] | str:
    """Shape, mean and std of a summarized weight; a message when the summary is not finite or contradicts
    the entries it reports (an honest summary never does)."""
    if getattr(value, "kind", None) != "summary":
        weights = as_array(value)
        if weights is None:
            return "the weight is not an array or Tensor"
        return weights.shape, float(weights.mean()), float(weights.std())
    if not value.finite():
        return "the weights should be finite numbers, got nan or inf"
    low, high = float(value.min), float(value.max)
    entries = [float(v or 0) for v in value.sample]
    honest = len(entries) == len(sample) and low <= float(value.mean) <= high \
        and all(low <= v <= high for v in entries) and float(value.std) <= (high - low) / 2 * (1 + 1e-6)
    if not honest:
        return "the weights' summary does not agree with the weights it was computed from"
    return tuple(value.shape), float(value.mean), float(value.std)


def _check_linear_init(calls: Calls, results: list[CallResult]) -> str | None:
    """Std within 10% of sqrt(1/in_features) and |mean| under a tenth of it: for 40,000 randn draws the std's
    own spread is 0.35% and the mean's 0.05 of the scale, so a correct layer is never flagged."""
    call, got = calls[0], outcome(results[0])
    n_in, n_out = call.context["n_in"], call.context["n_out"]
    label = f"Linear({n_in}, {n_out})"
    problem = failure_of(got, label, upto=3)
    if problem:
        return problem
    moments = _moments(got.value(1), call.context["sample"])
    if isinstance(moments, str):
        return f"{label}: {moments}"
    shape, mean, spread = moments
    # the layout has an item of its own (hidden-linear-weight-layout): here either way round is judged on its scale
    if shape not in (weight_shape(n_in, n_out), (n_out, n_in)):
        wanted = describe_shape(weight_shape(n_in, n_out))
        return f"{label}.weight should have shape {wanted}, got {describe_shape(shape)}"
    scale = init_scale(n_in)
    if not 0.9 * scale <= spread <= 1.1 * scale or abs(mean) > 0.1 * scale:
        return (f"{label}: the weights should be random with std sqrt(1/in_features) = {scale:.4f} and mean 0, "
                f"got std {spread:.4f}, mean {mean:.4f}")
    bias = as_array(got.value(2))
    if bias is None or bias.shape != (n_out,) or np.any(bias != 0):
        return f"{label}: the bias should start as zeros of shape {describe_shape((n_out,))}"
    return None


def _linear_no_bias(rng: np.random.Generator, _seeds: Seeds) -> Calls:
    """The layer's own weight (in_features != out_features, so its orientation is plain): the layout is judged
    by its own item, this one asks only that no bias is added and none is listed."""
    calls = []
    for seed, (n_in, n_out) in enumerate([(4, 3), (2, 5)]):
        x = rng.standard_normal((3, n_in)).astype(np.float32)
        steps = [new("Linear", n_in, n_out, bias=False), get(0, "bias"), get(0, "weight"),
                 method(0, "forward", tensor(x)), method(0, "parameters"), method(4, "__len__")]
        calls.append(program(*steps, seed=30 + seed, context={"x": x, "n_in": n_in, "n_out": n_out}))
    return calls


def _check_linear_no_bias(calls: Calls, results: list[CallResult]) -> str | None:
    for call, result in zip(calls, results, strict=True):
        x, n_in, n_out = call.context["x"], call.context["n_in"], call.context["n_out"]
        label = f"Linear({n_in}, {n_out}, bias=False)"
        got = outcome(result)
        problem = failure_of(got, label, upto=6)
        if problem:
            return problem
        if getattr(got.value(1), "kind", None) != "none":
            return f"{label}: the bias should be None"
        weight = as_array(got.value(2))
        if weight is None or weight.shape not in ((n_in, n_out), (n_out, n_in)):
            return f"{label}: the weight should be an array of shape {describe_shape((n_in, n_out))}"
        used = weight if weight.shape == (n_in, n_out) else weight.T
        problem = mismatch(f"{label} on input {describe_shape(x.shape)}, against x @ weight with its own weight",
                           linear_forward(x, used, None), got.value(3), rtol=1e-4, atol=1e-5)
        if problem:
            return problem
        if got.number(5) != 1:
            return f"{label}: parameters() should hold the weight alone, got {got.number(5)} entries"
    return None

# ---------------------------------------------------------------- Dropout


def _dropout(p: float) -> Step:
    return new("Dropout", p)


def _dropout_eval(rng: np.random.Generator, _seeds: Seeds) -> Calls:
    calls = []
    for seed, p in enumerate([0.5, 0.9]):
        x = rng.standard_normal((3, 7)).astype(np.float32)
        steps = [_dropout(p), method(0, "forward", tensor(x), training=False),
                 method(0, "__call__", tensor(x), training=False)]
        calls.append(program(*steps, seed=40 + seed, context={"x": x, "p": p}))
    return calls


def _same_as(label: str, expected: np.ndarray, value: Any) -> str | None:
    """Exact equality (the identity cannot round), with the ratio named when every entry was scaled alike."""
    problem = mismatch(label, expected, value, rtol=0, atol=0)
    got = as_array(value)
    if problem and got is not None and got.shape == expected.shape and np.all(expected != 0):
        ratios = got / expected
        if np.allclose(ratios, ratios.flat[0], rtol=1e-5):
            return f"{label}: every entry was multiplied by {ratios.flat[0]:.4g}; it should be returned unchanged"
    return problem


def _check_dropout_eval(calls: Calls, results: list[CallResult]) -> str | None:
    for call, result in zip(calls, results, strict=True):
        x, p = call.context["x"], call.context["p"]
        got = outcome(result)
        label = f"Dropout({p})"
        problem = failure_of(got, label, upto=3)
        for step, how in ((1, "forward(x, training=False)"), (2, "calling it with training=False")):
            problem = problem or _same_as(f"{label}, {how}", dropout_eval(x), got.value(step))
        if problem:
            return problem
    return None


def _dropout_extremes(rng: np.random.Generator, _seeds: Seeds) -> Calls:
    x = rng.standard_normal((4, 6)).astype(np.float32)
    steps = [_dropout(0.0), method(0, "forward", tensor(x), training=True),
             _dropout(1.0), method(2, "forward", tensor(x), training=True), method(2, "__call__", tensor(x))]
    return [program(*steps, seed=50, context={"x": x})]


def _check_dropout_extremes(calls: Calls, results: list[CallResult]) -> str | None:
    x, got = calls[0].context["x"], outcome(results[0])
    problem = failure_of(got, "Dropout with p=0 and p=1", upto=5)
    problem = problem or _same_as("Dropout(0.0) in training", dropout_eval(x), got.value(1))
    for step, how in ((3, "forward(x, training=True)"), (4, "calling it")):
        if problem:
            break
        returned = as_array(got.value(step))
        if returned is not None and returned.shape == x.shape and not np.all(np.isfinite(returned)):
            return f"Dropout(1.0), {how}: got nan or inf where zeros were expected (a division by 1 - p = 0?)"
        problem = mismatch(f"Dropout(1.0), {how}", dropout_all(x), got.value(step), rtol=0, atol=0)
    return problem


# Statistical check of the drop rate, from one run of N = 20,000 entries per p. For any mask of independent
# entries kept with probability q = 1 - p, Hoeffding's inequality bounds the chance that the kept share strays
# more than t from q by 2 exp(-2 N t^2); t = 0.027 makes that 2 exp(-29.2) < 1e-12 per program, 2e-12 for the
# probe's two programs: a correct Dropout is never flagged in practice. The wrong rates this catches are far
# away: keeping with probability p instead of 1 - p is 0.5 (p=0.25) or 0.6 (p=0.8) off.
RATE_ENTRIES = (200, 100)
RATE_TOLERANCE = 0.027
SCALE_RATES = (0.25, 0.8)


def _dropout_scale(rng: np.random.Generator, _seeds: Seeds) -> Calls:
    calls = []
    count = RATE_ENTRIES[0] * RATE_ENTRIES[1]
    for seed, p in enumerate(SCALE_RATES):
        x = rng.uniform(0.5, 2.0, (8, 16)).astype(np.float32)
        sample = sorted(int(i) for i in rng.choice(count, size=SAMPLED, replace=False))
        ones = tensor(np.ones(RATE_ENTRIES, dtype=np.float32))
        steps = [_dropout(p), method(0, "forward", tensor(x), training=True),
                 method(0, "forward", ones, training=True).summarized(sample)]
        calls.append(program(*steps, seed=60 + seed, context={"x": x, "p": p, "sample": sample}))
    return calls


def _entrywise_problem(label: str, x: np.ndarray, value: Any, scale: float) -> str | None:
    """Every entry of a training pass is either dropped (0) or kept and scaled (x / (1 - p))."""
    got = as_array(value)
    if got is None or got.shape != x.shape:
        return mismatch(label, x, value)
    kept = np.isclose(got, x * scale, rtol=1e-5, atol=0)
    wrong = ~(kept | (got == 0))
    if not wrong.any():
        return None
    index = tuple(int(i) for i in np.argwhere(wrong)[0])
    return (f"{label}: entry {list(index)} is {got[index]:.6g}; a training pass keeps an entry as x / (1 - p) = "
            f"{x[index] * scale:.6g} or drops it to 0 (got {got[index] / x[index]:.4g} times the input)")


def _rate_problem(label: str, value: Any, p: float, sample: list[int]) -> str | None:
    """On an input of ones: the largest output is the scale, the smallest 0, and the mean the kept share."""
    scale = dropout_scale(p)
    if getattr(value, "kind", None) != "summary" or not value.finite() or len(value.sample) != len(sample):
        return f"{label}: expected a Tensor of shape {describe_shape(RATE_ENTRIES)}"
    if tuple(value.shape) != RATE_ENTRIES:
        return f"{label}: expected shape {describe_shape(RATE_ENTRIES)}, got {describe_shape(tuple(value.shape))}"
    high, mean, spread = float(value.max), float(value.mean), float(value.std)
    if not np.isclose(high, scale, rtol=1e-5) or float(value.min) != 0:
        return f"{label}: kept entries of a ones input should be 1/(1-p) = {scale:.4f}, the largest is {high:.4f}"
    if any(not (v == 0 or np.isclose(v, scale, rtol=1e-5)) for v in value.sample):
        return f"{label}: every output entry should be 0 or 1/(1-p) = {scale:.4f}"
    if not np.isclose(spread ** 2, mean * (high - mean), rtol=1e-3, atol=1e-9):
        return f"{label}: every output entry should be 0 or 1/(1-p) = {scale:.4f}"
    share = mean / scale
    if abs(share - (1 - p)) > RATE_TOLERANCE:
        return f"{label}: about {1 - p:.0%} of the entries should be kept, {share:.1%} were"
    return None


def _check_dropout_scale(calls: Calls, results: list[CallResult]) -> str | None:
    for call, result in zip(calls, results, strict=True):
        x, p = call.context["x"], call.context["p"]
        label = f"Dropout({p}) in training"
        got = outcome(result)
        problem = failure_of(got, label, upto=3) \
            or _entrywise_problem(f"{label} on input {describe_shape(x.shape)}", x, got.value(1), dropout_scale(p)) \
            or _rate_problem(f"{label} on ones {describe_shape(RATE_ENTRIES)}", got.value(2), p, call.context["sample"])
        if problem:
            return problem
    return None


INVALID_RATES = (-0.1, 1.01, 2.0, -1.0)


def _dropout_invalid(_rng: np.random.Generator, _seeds: Seeds) -> Calls:
    """Each bad p is built in a caught step, then tested with isinstance (a subclass of ValueError is fine)."""
    steps = [new("builtins:ValueError"), get(0, "__class__")]
    for p in INVALID_RATES:
        steps += [new("Dropout", p).caught(), call_function("builtins:isinstance", ref(len(steps)), ref(1))]
    steps.append(new("Dropout", 0.3))
    return [program(*steps, seed=70, context={})]


def _check_dropout_invalid(calls: Calls, results: list[CallResult]) -> str | None:
    got = outcome(results[0])
    problem = failure_of(got, "Dropout(0.3)", upto=3 + 2 * len(INVALID_RATES))
    if problem:
        return problem
    for index, p in enumerate(INVALID_RATES):
        error = got.error(2 + 2 * index)
        if error is None:
            return f"Dropout({p}): a probability outside [0, 1] should raise ValueError, but the layer was built"
        if not got.number(3 + 2 * index):
            return f"Dropout({p}): expected ValueError, raised {error.describe()}"
    return None


PROBES: dict[str, ProbeDefinition] = {
    "hidden-linear-forward": ProbeDefinition(_linear_forward, _check_linear_forward),
    "hidden-linear-weight-layout": ProbeDefinition(_linear_layout, _check_linear_layout),
    "hidden-linear-init": ProbeDefinition(_linear_init, _check_linear_init),
    "hidden-linear-no-bias": ProbeDefinition(_linear_no_bias, _check_linear_no_bias),
    "hidden-dropout-eval": ProbeDefinition(_dropout_eval, _check_dropout_eval),
    "hidden-dropout-extremes": ProbeDefinition(_dropout_extremes, _check_dropout_extremes),
    "hidden-dropout-scale": ProbeDefinition(_dropout_scale, _check_dropout_scale),
    "hidden-dropout-invalid-p": ProbeDefinition(_dropout_invalid, _check_dropout_invalid, expects_errors=True),
    **SHADOWS,
}
