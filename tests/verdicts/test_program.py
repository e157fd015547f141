"""Program builders and the generic judging helpers a bundle author writes with (grader.probe_api)."""

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest

from grader import probe_api as api
from grader.assignments.bundle import AssignmentBundle
from grader.verdicts.plan import probe_units


def test_a_program_is_plain_wire_data_with_its_context_kept_apart() -> None:
    x = np.arange(6.0).reshape(2, 3)
    probe = api.program(api.new("pkg.layers:Scaler", 2, bias=None), api.method(0, "__call__", api.tensor(x)),
                        api.get(0, "weights").summarized([3, 1]), api.set_attr(0, "factor", 0.5),
                        api.call("helper", api.ref(1), (1, "a"), [True]).caught(), seed=9, context={"x": x})
    assert probe.context["x"] is x
    assert probe.wire == {"seed": 9, "steps": [
        {"new": "pkg.layers:Scaler", "args": [{"as": "number", "value": 2}], "kwargs": {"bias": {"as": "none"}}},
        {"method": 0, "name": "__call__", "args": [{"values": x.reshape(-1).tolist(), "dtype": "float64",
                                                    "shape": [2, 3], "as": "tensor"}]},
        {"get": 0, "attr": "weights", "summarize": {"sample": [3, 1]}},
        {"set": 0, "attr": "factor", "value": {"as": "number", "value": 0.5}},
        {"call": "helper", "catch": True, "args": [
            {"as": "ref", "step": 1},
            {"as": "tuple", "items": [{"as": "number", "value": 1}, {"as": "text", "value": "a"}]},
            {"as": "list", "items": [{"as": "number", "value": True}]}]},
    ]}


@pytest.mark.parametrize(("steps", "message"), [
    ((), "1 to 64 steps"),
    ((api.call("f"),) * 65, "1 to 64 steps"),
    ((api.get(0, "x"),), "not earlier"),
    ((api.call("f", api.ref(0)),), "not earlier"),
    ((api.call("f"), api.call("g", api.list_of(api.ref(3)))), "not earlier"),
    ((api.call("os.path:join:x"),), "not NAME or package.module:NAME"),
    ((api.call("f"), api.get(0, "not an attr")), "not an identifier"),
])
def test_a_program_the_harness_would_refuse_is_refused_where_the_author_sees_it(
        steps: tuple[api.Step, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        api.program(*steps)


def test_inputs_that_cannot_travel_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        api.number(float("nan"))
    with pytest.raises(TypeError, match="cannot be a dict"):
        api.call("f", {"a": 1})
    assert api.as_input(np.float32(1.5)).wire == {"as": "number", "value": 1.5}


def _result(values: list[dict[str, Any]], failure: dict[str, Any] | None = None) -> api.CallResult:
    return api.CallResult.model_validate({"ok": True, "value": {"kind": "steps", "values": values,
                                                                "failure": failure}})


def test_raised_returned_and_call_failure_read_a_program_result() -> None:
    array = {"kind": "array", "container": "ndarray", "shape": [2], "dtype": "int64", "values": [1, 2]}
    ran = _result([{"kind": "none"}, array])
    assert api.raised(ran) is None and api.call_failure("f", ran) is None
    assert api.returned(ran) == api.ArrayValue.model_validate(array)
    assert api.returned(ran, 0) == api.NoneValue(kind="none")
    assert api.returned(ran, 5) is None
    stopped = _result([{"kind": "none"}], {"error": {"type": "KeyError", "message": "'w'"}})
    assert api.returned(stopped) is None and api.call_failure("f(x)", stopped) == "f(x): raised KeyError: 'w'"
    memory = api.CallResult.model_validate({"ok": False, "error": {"type": "MemoryError", "message": "out"}})
    assert api.raised(memory) == api.ErrorInfo(type="MemoryError", message="out")
    assert api.call_failure("f", api.CallResult(ok=False)) == "f: raised the call failed"


def test_numbers_are_zero_dimensional_arrays_and_text_is_a_str() -> None:
    number = api.NumberValue(kind="number", type="float", dtype="float64", value=2.5)
    assert api.mismatch("f", np.zeros((2, 2)), number) == "f: expected shape (2, 2), got shape ()"
    assert api.mismatch("f", np.array(2.5), number) is None
    text = api.TextValue(kind="text", value="[[1]]")
    assert api.mismatch("f", np.zeros(1), text) == "f: expected an array of shape (1,), got a str"
    assert api.returned_kind(api.OtherValue(kind="other", type="Dense")) == "a Dense"


@dataclass(frozen=True)
class _Item:
    id: str
    kind: str
    shadow: str | None = None
    probe: str | None = None


def test_hidden_items_name_their_probe_and_locked_items_their_shadow() -> None:
    definition = api.ProbeDefinition(lambda _rng, _seeds: [], lambda _calls, _results: None)
    items = (_Item("hidden-a", "hidden"), _Item("hidden-b", "hidden", probe="shared"),
             _Item("test-c", "locked", shadow="shadow-c"), _Item("test-d", "locked"))
    bundle = SimpleNamespace(name="demo", rubric=SimpleNamespace(items=items),
                             probes={"hidden-a": definition, "shared": definition, "shadow-c": definition})
    assert probe_units(cast(AssignmentBundle, bundle)) == {"hidden-a": definition, "hidden-b": definition,
                                                            "shadow-c": definition}
    del bundle.probes["shared"]
    with pytest.raises(KeyError, match="the demo bundle's PROBES has no shared"):
        probe_units(cast(AssignmentBundle, bundle))
