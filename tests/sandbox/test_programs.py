"""The harness's probe programs, in this process: every step verb, refs, catch, name resolution, hostile values.

The modules are imported as the sandbox imports them (by bare name, from their folder); what they return must
validate against the host's strict report contract, so each answer is parsed with it too. The same programs run
in the real sandbox in test_units.py.
"""

import importlib
import json
import linecache
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from grader.verdicts import program as builders
from grader.verdicts.wire import CallResult, StepsValue

HARNESS = Path(__file__).resolve().parents[2] / "grader" / "sandbox" / "harness"
MODULES = ("probes", "values", "protocol")

CELL = '''
import numpy as np


class Box:
    def __init__(self, data):
        self.data = np.asarray(data)


class Counter:
    def __init__(self, start, *, step=1):
        self.count = start
        self.step = step

    def bump(self, times=1):
        self.count += self.step * times
        return self.count

    def __call__(self, box):
        return Box(box.data * self.count)


def add(a, b=0):
    return a + b


def fail(message):
    raise ValueError(message)


def check(flag):
    assert flag, "flag was false"


def hungry():
    raise MemoryError


def identity(value):
    return value
'''


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, ModuleType]]:
    monkeypatch.syspath_prepend(str(HARNESS))
    yield {name: importlib.import_module(name) for name in MODULES}
    for name in MODULES:
        sys.modules.pop(name, None)


@pytest.fixture
def namespace() -> dict[str, Any]:
    names: dict[str, Any] = {"__name__": "layers_like"}
    _exec_cell(CELL, "defs", names)
    return names


def _exec_cell(source: str, key: str, names: dict[str, Any]) -> None:
    """As the workspace runs a cell: under a `<cell KEY>` file name that the line cache knows."""
    filename = f"<cell {key}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), names)


def line_of(source: str, text: str) -> int:
    return next(number for number, line in enumerate(source.splitlines(), start=1) if text in line)


def run(harness: dict[str, ModuleType], namespace: dict[str, Any], *steps: builders.Step, seed: int = 0,
        tensor_cls: Any = None, names: dict[str, Any] | None = None) -> CallResult:
    """One program through the harness, its answer parsed by the host's contract."""
    wire = builders.program(*steps, seed=seed).wire
    if names is None:
        names = harness["probes"].bind_names({"probes": [{"calls": [wire]}]})
    answer = harness["probes"].run_call(wire, namespace, tensor_cls or namespace["Box"], names)
    json.dumps(answer, allow_nan=False)  # what the workspace's frames allow: plain JSON, no NaN
    return CallResult.model_validate(answer)


def steps(result: CallResult) -> StepsValue:
    assert result.ok and isinstance(result.value, StepsValue), result
    return result.value


def test_call_with_args_and_kwargs(harness: dict[str, ModuleType], namespace: dict[str, Any]) -> None:
    value = steps(run(harness, namespace, builders.call("add", np.array([1.0, 2.0]), b=np.array([3.0, 4.0]))))
    assert value.failure is None
    assert value.values[0].model_dump() == {"kind": "array", "container": "ndarray", "shape": [2],
                                            "dtype": "float64", "values": [4.0, 6.0]}


def test_new_method_get_set_and_refs_share_one_object_table(harness: dict[str, ModuleType],
                                                            namespace: dict[str, Any]) -> None:
    value = steps(run(harness, namespace,
                      builders.new("Counter", 2, step=3),
                      builders.method(0, "bump", times=2),
                      builders.set_attr(0, "step", 10),
                      builders.method(0, "bump"),
                      builders.get(0, "count"),
                      builders.new("Box", builders.ref(4)),
                      builders.method(0, "__call__", builders.ref(5)),
                      builders.call("identity", builders.tuple_of(1, "two", None)),
                      builders.call("identity", builders.list_of(builders.ref(4), 2.5))))
    kinds = [(v.kind, getattr(v, "value", None)) for v in value.values]
    assert kinds[:5] == [("other", None), ("number", 8), ("none", None), ("number", 18), ("number", 18)]
    assert value.values[5].model_dump() == {"kind": "array", "container": "Box", "shape": [], "dtype": "int64",
                                            "values": [18]}
    assert value.values[6].model_dump()["values"] == [18 * 18]
    assert value.values[7].kind == "other" and value.values[7].type == "tuple"  # type: ignore[union-attr]
    assert value.values[8].model_dump()["values"] == [18, 2.5]


def test_tensor_inputs_are_the_given_class_and_keep_their_dtype(harness: dict[str, ModuleType],
                                                                namespace: dict[str, Any]) -> None:
    value = steps(run(harness, namespace, builders.call("identity", builders.tensor(np.arange(4, dtype=np.int64)))))
    assert value.values[0].model_dump() == {"kind": "array", "container": "Box", "shape": [4], "dtype": "int64",
                                            "values": [0, 1, 2, 3]}


def test_a_raising_step_ends_the_program_unless_it_catches(harness: dict[str, ModuleType],
                                                           namespace: dict[str, Any]) -> None:
    caught = steps(run(harness, namespace, builders.call("fail", "boom").caught(), builders.get(0, "args")))
    assert caught.failure is None
    where = f"cell defs, line {line_of(CELL, 'raise ValueError')}: raise ValueError(message)"
    assert caught.values[0].model_dump()["error"] == {"type": "ValueError", "message": "boom", "where": where}
    assert caught.values[1].kind == "other"  # the exception itself was the step's object
    ended = steps(run(harness, namespace, builders.call("fail", "boom"), builders.call("add", 1)))
    assert ended.values == [] and ended.failure is not None and not ended.failure.assertion
    assert ended.failure.error.describe() == f"ValueError: boom ({where})"
    asserted = steps(run(harness, namespace, builders.call("check", False)))
    assert asserted.failure is not None and asserted.failure.assertion


def test_out_of_memory_ends_the_whole_call(harness: dict[str, ModuleType], namespace: dict[str, Any]) -> None:
    result = run(harness, namespace, builders.call("hungry").caught())
    assert not result.ok and result.error is not None and result.error.type == "MemoryError"


@pytest.mark.parametrize(("step", "message"), [
    (builders.call("missing"), "NameError: missing is not defined"),
    (builders.new("add"), "TypeError: add is not a class"),
    (builders.call("nowhere.at_all:thing"), "NameError: nowhere.at_all:thing is not defined: No module named "
                                            "'nowhere'"),
    (builders.call("math:no_such_function"), "NameError: math:no_such_function is not defined"),
    (builders.call("probes:run_call"), "NameError: probes:run_call is not defined: probes is the grader's own module"),
    (builders.call("identity"), "TypeError: identity() missing 1"),
])
def test_names_that_do_not_resolve_fail_like_python(harness: dict[str, ModuleType], namespace: dict[str, Any],
                                                    step: builders.Step, message: str) -> None:
    value = steps(run(harness, namespace, step))
    assert value.failure is not None and value.failure.error.describe().startswith(message), value.failure


def test_package_names_are_bound_before_the_student_runs(harness: dict[str, ModuleType],
                                                         namespace: dict[str, Any], monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    wire = builders.program(builders.call("math:sqrt", 16.0)).wire
    names = harness["probes"].bind_names({"probes": [{"calls": [wire]}]})
    monkeypatch.setitem(sys.modules, "math", ModuleType("math"))  # what a submission may do after the bind
    monkeypatch.setattr(math, "sqrt", lambda _x: -1.0)
    value = steps(run(harness, namespace, builders.call("math:sqrt", 16.0), names=names))
    assert value.values[0].model_dump()["value"] == 4.0
    unbound = steps(run(harness, namespace, builders.call("math:sqrt", 16.0), names={}))
    assert unbound.failure is not None and unbound.failure.error.message == "math:sqrt is not defined"


@pytest.mark.parametrize("wire", [
    {"seed": 0, "steps": []},
    {"seed": 0, "steps": [{"call": "add", "get": 0}]},
    {"seed": 0, "steps": [{"get": 0, "attr": "x"}]},
    {"seed": 0, "steps": [{"call": "add", "args": [{"as": "ref", "step": 0}]}]},
    {"seed": 0, "steps": [{"call": "os.path:join:x"}]},
    {"seed": 0, "steps": [{"call": "add", "args": {"a": 1}}]},
    {"seed": 0, "steps": [{"call": "add", "args": [{"as": "pickle"}]}]},
    {"seed": 0, "steps": [{"new": "Counter"}, {"set": 0, "attr": "count"}]},
    {"seed": 0, "steps": [{"call": "add"}] * 65},
])
def test_a_malformed_program_is_refused_before_any_step_runs(harness: dict[str, ModuleType],
                                                             namespace: dict[str, Any], wire: dict[str, Any]) -> None:
    answer = harness["probes"].run_call(wire, namespace, namespace["Box"], {})
    assert answer["ok"] is False and answer["error"]["type"] == "HarnessError", answer


def test_each_program_runs_under_its_own_seed(harness: dict[str, ModuleType], namespace: dict[str, Any]) -> None:
    namespace["draw"] = lambda: [__import__("random").random(), float(np.random.rand())]
    first, again, other = (steps(run(harness, namespace, builders.call("draw"), seed=s)) for s in (5, 5, 6))
    assert first.values == again.values != other.values


def test_values_become_numbers_text_or_a_type_name(harness: dict[str, ModuleType], namespace: dict[str, Any]) -> None:
    inputs = [True, 3, 2.5, "text", None]
    value = steps(run(harness, namespace, *[builders.call("identity", item) for item in inputs],
                      builders.call("numpy:float64", 2.0), builders.call("identity", np.array([math.inf, -1.0]))))
    dumped = [v.model_dump() for v in value.values]
    assert dumped[0] == {"kind": "number", "type": "bool", "dtype": "bool", "value": 1}
    assert dumped[1] == {"kind": "number", "type": "int", "dtype": "int64", "value": 3}
    assert dumped[2]["value"] == 2.5 and dumped[3] == {"kind": "text", "value": "text"}
    assert dumped[4] == {"kind": "none"} and dumped[5] == {"kind": "other", "type": "float64"}
    assert dumped[6]["values"] == ["inf", -1.0]


HOSTILE = '''
class Lying:
    def __getattr__(self, name):
        raise RuntimeError("no " + name)


class Exiting:
    def __getattr__(self, name):
        raise SystemExit(3)


class LoudError(Exception):
    def __str__(self):
        raise KeyboardInterrupt


class Meta(type):
    @property
    def __name__(cls):
        raise SystemExit(4)


class Renamed(metaclass=Meta):
    pass


class FakeArray:
    @property
    def __class__(self):
        return np.ndarray


class Shouting(str):
    def __getitem__(self, item):
        raise SystemExit(5)

    def __str__(self):
        return "lies"


class ListTensor:
    def __init__(self, data):
        self.data = np.asarray(data).tolist()


class SubArray(np.ndarray):
    pass


def raise_loud():
    raise LoudError()


LongNamedError = type("E" * 300, (Exception,), {})


def raise_long():
    raise LongNamedError("x" * 5000)


def shout():
    return Shouting("honest")


def make(kind):
    return {"huge": lambda: np.zeros(300_000), "deep": lambda: np.zeros((1,) * 9),
            "half": lambda: np.zeros(150_000), "sub": lambda: np.zeros(3).view(SubArray),
            "objects": lambda: np.array([object()]), "renamed": lambda: Renamed(), "fake": FakeArray}[kind]()
'''


@pytest.fixture
def hostile(namespace: dict[str, Any]) -> dict[str, Any]:
    _exec_cell(HOSTILE, "hostile", namespace)
    return namespace


def test_lying_objects_are_data_never_a_harness_failure(harness: dict[str, ModuleType],
                                                        hostile: dict[str, Any]) -> None:
    value = steps(run(harness, hostile, builders.new("Lying").caught(), builders.call("make", "renamed"),
                      builders.call("make", "fake"), builders.call("shout"), builders.call("raise_loud").caught(),
                      builders.call("raise_long").caught(), builders.new("Lying").caught(),
                      builders.get(0, "weights")))
    dumped = [v.model_dump() for v in value.values]
    assert dumped[0]["error"]["message"] == "no data"  # reading `.data` to encode the object raised
    assert dumped[1] == {"kind": "other", "type": "Renamed"}  # its metaclass's __name__ is never called
    assert dumped[2] == {"kind": "other", "type": "FakeArray"}
    assert dumped[3] == {"kind": "text", "value": "honest"}
    assert dumped[4]["error"]["message"] == "<the exception could not be printed>"
    assert len(dumped[5]["error"]["type"]) == 200 and len(dumped[5]["error"]["message"]) == 500
    assert value.failure is not None and value.failure.error.describe() == (
        'AttributeError: \'RuntimeError\' object has no attribute \'weights\'')


def test_a_base_exception_from_student_code_leaves_the_call_and_ends_the_unit(
        harness: dict[str, ModuleType], hostile: dict[str, Any]) -> None:
    """SystemExit and KeyboardInterrupt are never data: they leave run_call, and the workspace ends the unit
    (PID 1 reports it as a process that exited before its result), exactly as they always did."""
    with pytest.raises(SystemExit):
        run(harness, hostile, builders.new("Exiting"), builders.get(0, "weights").caught())


@pytest.mark.parametrize(("kind", "expected"), [
    ("huge", {"kind": "other", "type": "ndarray"}),
    ("deep", {"kind": "other", "type": "ndarray"}),
    ("sub", {"kind": "other", "type": "SubArray"}),
    ("objects", {"kind": "other", "type": "ndarray"}),
])
def test_values_the_report_cannot_carry_are_only_their_type(harness: dict[str, ModuleType], hostile: dict[str, Any],
                                                            kind: str, expected: dict[str, Any]) -> None:
    value = steps(run(harness, hostile, builders.call("make", kind)))
    assert value.values[0].model_dump() == expected


def test_one_program_carries_at_most_its_budget_of_numbers(harness: dict[str, ModuleType],
                                                          hostile: dict[str, Any]) -> None:
    value = steps(run(harness, hostile, builders.call("make", "half"), builders.call("make", "half")))
    assert value.values[0].kind == "array" and value.values[1].model_dump() == {"kind": "other", "type": "ndarray"}


def test_a_tensor_class_whose_data_is_not_an_ndarray(harness: dict[str, ModuleType], hostile: dict[str, Any]) -> None:
    value = steps(run(harness, hostile, builders.call("identity", builders.tensor(np.ones((2, 2)))),
                      builders.call("identity", builders.tensor(np.ones(2))).summarized([0]),
                      tensor_cls=hostile["ListTensor"]))
    assert value.values[0].model_dump() == {"kind": "array", "container": "ListTensor", "shape": [2, 2],
                                            "dtype": "float64", "values": [1.0] * 4}
    assert value.values[1].model_dump() == {"kind": "other", "type": "ListTensor"}


def test_a_summary_uses_reductions_bound_before_the_student_ran(harness: dict[str, ModuleType],
                                                               namespace: dict[str, Any],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(np, "mean", lambda *_a, **_k: 0.0)
    monkeypatch.setattr(np, "std", lambda *_a, **_k: 0.0)
    data = np.arange(6.0).reshape(2, 3)
    value = steps(run(harness, namespace, builders.call("identity", data).summarized([5, 0, 99])))
    summary = value.values[0].model_dump()
    assert summary["mean"] == 2.5 and math.isclose(summary["std"], float(data.std()))
    assert (summary["min"], summary["max"], summary["sample"]) == (0.0, 5.0, [5.0, 0.0, None])
