"""Shadows of the locked tests: each test's calls, sent as a program under each locked-test seed, and a replica
of its assertions run here on the values that come back.

A locked test runs inside the sandbox next to the student's code, which can patch `assert`, numpy or the test
runner; its pass stands only when the shadow agrees (grader.verdicts.judge). The programs make the test's
calls in the test's order (so every random draw of the student's code is the same one), with the test's
inputs; the checks are the test's, with its messages.
"""

from collections.abc import Callable

import numpy as np

from grader.probe_api import (
    Calls,
    Input,
    ProbeDefinition,
    Seeds,
    Step,
    StepRaised,
    array,
    call,
    check,
    get,
    list_of,
    method,
    new,
    program,
    ref,
    set_attr,
    tensor,
)

from .programs import Replay, Script, judge_replays

PACKAGE_RELU = "tinytorch.core.activations:ReLU"
Built = tuple[list[Step], dict[str, int]]


def _is(s: Script, a: int, b: int) -> int:
    return s(call("operator:is_", ref(a), ref(b)))


def _item(s: Script, listed: int, index: int) -> int:
    return s(method(listed, "__getitem__", index).caught())


def _linear_unit() -> Built:
    s, at = Script(), {}
    at["layer"] = s(new("Linear", 256, 64))
    at["in"], at["out"] = s(get(at["layer"], "in_features")), s(get(at["layer"], "out_features"))
    at["weight"] = s(get(at["layer"], "weight").summarized())
    at["bias"] = s(get(at["layer"], "bias"))
    batch = np.linspace(-1.0, 1.0, 16 * 256).reshape(16, 256).astype(np.float32)
    at["y"] = s(method(at["layer"], "__call__", tensor(batch)))
    at["bare"] = s(new("Linear", 8, 3, bias=False))
    at["bare_bias"] = s(get(at["bare"], "bias"))
    at["bare_params"] = s(method(at["bare"], "parameters"))
    at["bare_len"] = s(call("builtins:len", ref(at["bare_params"])))
    first = _item(s, at["bare_params"], 0)
    at["bare_is"] = _is(s, first, s(get(at["bare"], "weight")))
    at["params"] = s(method(at["layer"], "parameters"))
    at["len"] = s(call("builtins:len", ref(at["params"])))
    at["is_w"] = _is(s, _item(s, at["params"], 0), s(get(at["layer"], "weight")))
    at["is_b"] = _is(s, _item(s, at["params"], 1), s(get(at["layer"], "bias")))
    return s.steps, at


def _replay_linear_unit(at: dict[str, int]) -> Callable[[Replay], None]:
    def replica(r: Replay) -> None:
        check((r.number(at["in"]), r.number(at["out"])) == (256, 64), "Linear should remember its sizes")
        shape = r.shape(at["weight"])
        check(shape == (256, 64), f"the weight should have shape (in_features, out_features) = (256, 64), got {shape} "
              "(PyTorch's nn.Linear stores (out_features, in_features); this course's Linear does not)")
        check(not r.is_none(at["bias"]) and r.shape(at["bias"]) == (64,), "the bias should have shape (out_features,)")
        check(np.all(r.array(at["bias"]) == 0), "the bias should start at zero")
        spread, target = float(r.value(at["weight"]).std), np.sqrt(1.0 / 256)
        check(0.8 * target < spread < 1.25 * target, "the weights' standard deviation should be near "
              f"sqrt(1/in_features) = {target:.4f}, got {spread:.4f}")
        check(r.shape(at["y"]) == (16, 64), f"a batch of 16 should give shape (16, 64), got {r.shape(at['y'])}")
        check(r.is_none(at["bare_bias"]), "with bias=False the bias should be None")
        check(r.number(at["bare_len"]) == 1 and r.truth(at["bare_is"]),
              "without a bias, parameters() should be [weight]")
        check(r.number(at["len"]) == 2 and r.truth(at["is_w"]) and r.truth(at["is_b"]),
              "parameters() should be [weight, bias], the layer's own tensors")
    return replica


def _set_data(s: Script, layer: int, attr: str, values: np.ndarray) -> None:
    s(set_attr(s(get(layer, attr)), "data", array(values)))


def _linear_edges() -> Built:
    s, at = Script(), {}
    layer = s(new("Linear", 3, 2))
    _set_data(s, layer, "weight", np.array([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]]))
    _set_data(s, layer, "bias", np.array([0.5, -0.5]))
    at["one"] = s(method(layer, "__call__", tensor(np.array([[1.0, 2.0, 3.0]], dtype=np.float32))))
    at["empty"] = s(method(layer, "__call__", tensor(np.zeros((0, 3), dtype=np.float32))))
    big = s(new("Linear", 4, 2))
    _set_data(s, big, "weight", np.full((4, 2), 1000.0))
    at["loud"] = s(method(big, "__call__", tensor(np.ones((2, 4), dtype=np.float32))))
    bare = s(new("Linear", 4, 2, bias=False))
    _set_data(s, bare, "weight", np.ones((4, 2)))
    at["bare"] = s(method(bare, "__call__", tensor(np.ones((1, 4), dtype=np.float32))))
    return s.steps, at


def _replay_linear_edges(at: dict[str, int]) -> Callable[[Replay], None]:
    def replica(r: Replay) -> None:
        one = r.array(at["one"])
        check(one.shape == (1, 2), f"one sample should give shape (1, 2), got {one.shape}")
        check(np.allclose(one, [[7.5, -1.5]]), f"x @ W + b should be [[7.5, -1.5]], got {one.tolist()}")
        empty = r.shape(at["empty"])
        check(empty == (0, 2), f"an empty batch should give shape (0, 2), got {empty}")
        check(np.all(np.isfinite(r.array(at["loud"]))), "large weights should still give finite outputs")
        check(np.allclose(r.array(at["bare"]), [[4.0, 4.0]]), "without a bias, y = x @ W")
    return replica


def _linear_grad() -> Built:
    s, at = Script(), {}
    layer = s(new("Linear", 6, 4))
    for name in ("weight", "bias"):
        tensor_step = s(get(layer, name))
        at[f"{name}_rg"] = s(get(tensor_step, "requires_grad"))
        at[f"{name}_grad"] = s(call("builtins:hasattr", ref(tensor_step), "grad"))
    params = s(method(layer, "parameters"))
    at["len"] = s(call("builtins:len", ref(params)))
    for index in (0, 1):
        at[f"rg{index}"] = s(get(_item(s, params, index), "requires_grad"))
    bare = s(new("Linear", 6, 4, bias=False))
    at["bare_len"] = s(call("builtins:len", ref(s(method(bare, "parameters")))))
    return s.steps, at


def _replay_linear_grad(at: dict[str, int]) -> Callable[[Replay], None]:
    def replica(r: Replay) -> None:
        for name in ("weight", "bias"):
            check(r.is_true(at[f"{name}_rg"]), f"the {name} should be created with requires_grad=True")
            check(r.truth(at[f"{name}_grad"]), f"the {name} should have a grad attribute")
        check(r.number(at["len"]) == 2 and r.is_true(at["rg0"]) and r.is_true(at["rg1"]),
              "parameters() should list the weight and the bias, both requiring gradients")
        check(r.number(at["bare_len"]) == 1, "a layer without bias has one parameter")
    return replica


DROPOUT_INPUT = np.array([[1.0, -2.0, 3.0, 0.5]], dtype=np.float32)
RATE = 0.25


def _dropout_unit() -> Built:
    s, at = Script(), {}
    x = tensor(DROPOUT_INPUT)
    half = s(new("Dropout", 0.5))
    at["p"] = s(get(half, "p"))
    at["eval"] = s(method(half, "__call__", x, training=False))
    at["zero"] = s(method(s(new("Dropout", 0.0)), "__call__", x, training=True))
    at["full"] = s(method(s(new("Dropout", 1.0)), "__call__", x, training=True))
    at["rate"] = s(method(s(new("Dropout", RATE)), "__call__", tensor(np.ones(4000, dtype=np.float32)),
                          training=True))
    at["no_params"] = s(call("operator:eq", ref(s(method(s(new("Dropout", 0.3)), "parameters"))),
                             list_of()))
    value_error = s(get(s(new("builtins:ValueError")), "__class__"))
    for index, bad in enumerate((-0.1, 1.5)):
        made = s(new("Dropout", bad).caught())
        at[f"bad{index}"] = made
        at[f"bad{index}_ok"] = s(call("builtins:isinstance", ref(made), ref(value_error)))
    return s.steps, at


def _replay_dropout_unit(at: dict[str, int]) -> Callable[[Replay], None]:
    def replica(r: Replay) -> None:
        check(r.number(at["p"]) == 0.5, "Dropout should remember p")
        check(np.array_equal(r.array(at["eval"]), DROPOUT_INPUT), "with training=False the input passes unchanged")
        check(np.array_equal(r.array(at["zero"]), DROPOUT_INPUT), "p = 0 keeps every entry")
        check(np.all(r.array(at["full"]) == 0), "p = 1 drops every entry")
        out = r.array(at["rate"])
        kept = out[out != 0]
        check(np.allclose(kept, 1 / (1 - RATE)), f"kept entries should be scaled to 1/(1-p) = {1 / (1 - RATE):.4f}")
        share = kept.size / out.size
        check(abs(share - (1 - RATE)) < 0.05, f"about {1 - RATE:.0%} of the entries should be kept, got {share:.1%}")
        check(r.truth(at["no_params"]), "Dropout has no parameters")
        for index, bad in enumerate((-0.1, 1.5)):
            error = r.raised(at[f"bad{index}"])
            check(error is not None, f"Dropout({bad}) should raise ValueError")
            if not r.truth(at[f"bad{index}_ok"]):
                raise StepRaised(error.describe())
    return replica


NETWORK_INPUT = np.sin(np.arange(100.0)).reshape(5, 20).astype(np.float32)


def _forward(s: Script, first: int, act: int, x: Input) -> int:
    return s(method(act, "__call__", ref(s(method(first, "__call__", x)))))


def _network() -> Built:
    s, at = Script(), {}
    first, act = s(new("Linear", 20, 12)), s(new(PACKAGE_RELU))
    drop, second = s(new("Dropout", 0.4)), s(new("Linear", 12, 3))
    x = tensor(NETWORK_INPUT)
    at["hidden"] = s(method(drop, "__call__", ref(_forward(s, first, act, x)), training=False))
    at["plain"] = _forward(s, first, act, x)
    at["out"] = s(method(second, "__call__", ref(at["hidden"])))
    dropped = s(method(drop, "__call__", ref(_forward(s, first, act, x)), training=True))
    at["trained"] = s(method(second, "__call__", ref(dropped)))
    lists = [s(method(layer, "parameters")) for layer in (first, drop, second)]
    params = s(call("operator:add", ref(s(call("operator:add", ref(lists[0]), ref(lists[1])))), ref(lists[2])))
    at["len"] = s(call("builtins:len", ref(params)))
    for index in range(4):
        item = _item(s, params, index)
        at[f"size{index}"] = s(get(item, "size"))
        at[f"rg{index}"] = s(get(item, "requires_grad"))
    layer_class = s(get(s(new("Layer")), "__class__"))
    at["first_layer"] = s(call("builtins:isinstance", ref(first), ref(layer_class)))
    at["drop_layer"] = s(call("builtins:isinstance", ref(drop), ref(layer_class)))
    return s.steps, at


def _replay_network(at: dict[str, int]) -> Callable[[Replay], None]:
    def replica(r: Replay) -> None:
        check(np.array_equal(r.array(at["hidden"]), r.array(at["plain"])),
              "in evaluation Dropout should change nothing")
        out = r.array(at["out"])
        check(out.shape == (5, 3), f"the network should map (5, 20) to (5, 3), got {out.shape}")
        check(np.all(np.isfinite(out)), "the network's outputs should be finite")
        check(r.shape(at["trained"]) == (5, 3), "training mode should not change shapes")
        count = r.number(at["len"])
        check(count == 4, f"two Linear layers and a Dropout hold 4 parameters, got {count}")
        sizes = [r.number(at[f"size{index}"]) for index in range(4)]
        check(sizes == [20 * 12, 12, 12 * 3, 3], "the parameters should be weight, bias, weight, bias")
        check(all(r.truth(at[f"rg{index}"]) for index in range(4)), "every parameter should require gradients")
        check(r.truth(at["first_layer"]) and r.truth(at["drop_layer"]), "Linear and Dropout should be Layers")
    return replica


Replica = Callable[[Replay], None]


def _shadow(build: Callable[[], Built], replay: Callable[[dict[str, int]], Replica]) -> ProbeDefinition:
    """One program per locked-test seed, in the rubric's order, as the harness retries the test."""
    steps, at = build()
    replica = replay(at)

    def generate(_rng: np.random.Generator, seeds: Seeds) -> Calls:
        return [program(*steps, seed=seed, context={"seed": seed}) for seed in seeds]

    return ProbeDefinition(generate, lambda _calls, results: judge_replays(results, replica), expects_errors=True)


SHADOWS: dict[str, ProbeDefinition] = {
    "shadow-linear": _shadow(_linear_unit, _replay_linear_unit),
    "shadow-linear-edge-cases": _shadow(_linear_edges, _replay_linear_edges),
    "shadow-linear-grad-prep": _shadow(_linear_grad, _replay_linear_grad),
    "shadow-dropout": _shadow(_dropout_unit, _replay_dropout_unit),
    "shadow-module-integration": _shadow(_network, _replay_network),
}
