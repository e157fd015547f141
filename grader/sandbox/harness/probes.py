"""Runs probe programs: generic steps into student code (call, new, method, get, set), returning plain data only.

Runs INSIDE the sandbox. Whatever it returns is untrusted on the outside: it is only data that the trusted side
compares with the reference, never a verdict. A program comes from the trusted host and is checked before any of
its steps runs; everything it touches after that (the student's objects, the modules they may have replaced) can
lie, raise or loop, so every builtin and numpy function used here was bound before any student code ran.
"""

import importlib
import os
import random
from typing import Any

import numpy as np
import values
from values import describe_exception, encode_value, summarize_value

__all__ = ["bind_names", "describe_exception", "encode_value", "run_call", "summarize_value"]

_MemoryError = MemoryError
_Exception = Exception
_AssertionError = AssertionError
_TypeError = TypeError
_NameError = NameError
_isinstance = isinstance
_issubclass = issubclass
_type = type
_len = len
_getattr = getattr
_setattr = setattr
_tuple = tuple
_dict_get = dict.get
_np_array = np.array
_reshape = np.ndarray.reshape
_seed = random.seed
_np_seed = np.random.seed
_import_module = importlib.import_module
HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))
MAX_STEPS = 64
VERBS = ("call", "new", "method", "get", "set")
INPUT_KINDS = ("ndarray", "tensor", "number", "text", "none", "ref", "tuple", "list")


class ProbeError(Exception):
    """The program itself is malformed: a bug of the bundle that sent it, never of the student."""


def _is_index(value: Any, before: int) -> bool:
    return _type(value) is int and 0 <= value < before


def _check_name(name: Any) -> None:
    """NAME (the student's module) or `package.module:NAME` (a module importable in the sandbox)."""
    if _type(name) is not str:
        raise ProbeError("a step's name must be a string")
    module, _, attr = name.rpartition(":")
    if not attr.isidentifier() or (module and not all(part.isidentifier() for part in module.split("."))):
        raise ProbeError(f"{name!r} is not NAME or package.module:NAME")


def _check_input(spec: Any, position: int) -> None:
    if _type(spec) is not dict or spec.get("as", "ndarray") not in INPUT_KINDS:
        raise ProbeError(f"step {position}: unknown input {str(spec)[:100]}")
    kind = spec.get("as", "ndarray")
    if kind == "ref" and not _is_index(spec.get("step"), position):
        raise ProbeError(f"step {position}: a ref must name an earlier step")
    if kind in ("tuple", "list"):
        for item in spec.get("items", []):
            _check_input(item, position)


def _check_arguments(step: dict[str, Any], position: int) -> None:
    args, kwargs = step.get("args", []), step.get("kwargs", {})
    if _type(args) is not list or _type(kwargs) is not dict or not all(_type(key) is str for key in kwargs):
        raise ProbeError(f"step {position}: args must be a list and kwargs an object")
    for spec in [*args, *kwargs.values()]:
        _check_input(spec, position)


def _check_step(step: Any, position: int) -> None:
    """Exactly one verb, objects and refs that name earlier steps, names of the two allowed forms."""
    verbs = [verb for verb in VERBS if _type(step) is dict and verb in step]
    if _len(verbs) != 1:
        raise ProbeError(f"step {position}: exactly one of {', '.join(VERBS)} is required")
    verb = verbs[0]
    if verb in ("call", "new"):
        _check_name(step[verb])
    elif not _is_index(step[verb], position):
        raise ProbeError(f"step {position}: {verb} must name an earlier step")
    needed = {"method": "name", "get": "attr", "set": "attr"}.get(verb)
    if needed and not (_type(step.get(needed)) is str and step[needed].isidentifier()):
        raise ProbeError(f"step {position}: {verb} needs {needed}, an identifier")
    _check_arguments(step, position)
    if verb == "set":
        _check_input(step.get("value"), position)
    summary = step.get("summarize", {})
    if _type(summary) is not dict or not all(_type(i) is int for i in summary.get("sample", [])):
        raise ProbeError(f"step {position}: summarize takes {{\"sample\": [flat indices]}}")


def check_program(call: dict[str, Any]) -> list[dict[str, Any]]:
    """The program's steps, once they are known to be well formed."""
    steps = call.get("steps")
    if _type(steps) is not list or not 0 < _len(steps) <= MAX_STEPS:
        raise ProbeError(f"a program has 1 to {MAX_STEPS} steps")
    for position, step in enumerate(steps):
        _check_step(step, position)
    return steps


def _qualified_names(job: dict[str, Any]) -> set[str]:
    names = set()
    for probe in job.get("probes", []):
        for call in probe.get("calls", []):
            for step in call.get("steps", []) if _type(call.get("steps")) is list else []:
                for verb in ("call", "new"):
                    name = step.get(verb) if _type(step) is dict else None
                    if _type(name) is str and ":" in name:
                        names.add(name)
    return names


def _bind(name: str) -> tuple[bool, Any]:
    """Import `package.module` and read NAME, refusing the harness's own modules."""
    module_name, _, attr = name.rpartition(":")
    try:
        module = _import_module(module_name)
        file = getattr(module, "__file__", None)
        if _type(file) is str and os.path.dirname(os.path.abspath(file)) == HARNESS_DIR:
            return False, f"{name} is not defined: {module_name} is the grader's own module"
        return True, getattr(module, attr)
    except AttributeError:
        return False, f"{name} is not defined"
    except ImportError as exc:
        return False, f"{name} is not defined: {values.text_of(exc)}"
    except _Exception as exc:
        return False, f"{name} is not defined: importing it raised {values.describe_exception(exc)['type']}"


def bind_names(job: dict[str, Any]) -> dict[str, tuple[bool, Any]]:
    """Every `package.module:NAME` the job's probes use, resolved BEFORE any student code runs: a submission may
    replace sys.modules entries or module attributes later, but a probe reaches what was there before it ran."""
    return {name: _bind(name) for name in sorted(_qualified_names(job))}


class _Run:
    """One program's state: the student's namespace, the bound names and the object table."""

    def __init__(self, namespace: dict[str, Any], tensor_cls: Any, names: dict[str, tuple[bool, Any]]) -> None:
        self.namespace, self.tensor_cls, self.names = namespace, tensor_cls, names
        self.objects: list[Any] = []
        self.budget = [values.MAX_VALUES]

    def resolve(self, name: str) -> Any:
        if ":" in name:
            bound, target = self.names.get(name, (False, f"{name} is not defined"))
            if not bound:
                raise _NameError(target)
            return target
        target = _dict_get(self.namespace, name)
        if target is None:
            raise _NameError(f"{name} is not defined")
        return target

    def decode(self, spec: dict[str, Any]) -> Any:
        """An input value as the host described it; a ref is an earlier step's object itself."""
        kind = spec.get("as", "ndarray")
        if kind in ("ndarray", "tensor"):
            array = _reshape(_np_array(spec["values"], dtype=spec["dtype"]), spec["shape"])
            return self.tensor_cls(array) if kind == "tensor" else array
        if kind in ("number", "text"):
            return spec["value"]
        if kind == "ref":
            return self.objects[spec["step"]]
        if kind in ("tuple", "list"):
            items = [self.decode(item) for item in spec.get("items", [])]
            return _tuple(items) if kind == "tuple" else items
        return None

    def arguments(self, step: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        args = [self.decode(spec) for spec in step.get("args", [])]
        return args, {key: self.decode(spec) for key, spec in step.get("kwargs", {}).items()}

    def step(self, step: dict[str, Any]) -> Any:
        """The raw result of one step: what the student's code returned, built or held."""
        if "call" in step or "new" in step:
            name = step["call"] if "call" in step else step["new"]
            target = self.resolve(name)
            if "new" in step and not _issubclass(_type(target), _type):
                raise _TypeError(f"{name} is not a class")
            args, kwargs = self.arguments(step)
            return target(*args, **kwargs)
        if "method" in step:
            obj = self.objects[step["method"]]
            args, kwargs = self.arguments(step)
            return obj(*args, **kwargs) if step["name"] == "__call__" else _getattr(obj, step["name"])(*args, **kwargs)
        if "get" in step:
            return _getattr(self.objects[step["get"]], step["attr"])
        _setattr(self.objects[step["set"]], step["attr"], self.decode(step["value"]))
        return None

    def output(self, raw: Any, step: dict[str, Any]) -> dict[str, Any]:
        if "summarize" in step:
            return summarize_value(raw, step["summarize"])
        return encode_value(raw, self.budget)


def run_program(steps: list[dict[str, Any]], namespace: dict[str, Any], tensor_cls: Any,
                names: dict[str, tuple[bool, Any]]) -> dict[str, Any]:
    """The steps in order; step i's raw result is object i. The first exception ends the program, as it would a
    test, unless its step catches it (then the exception is the step's object and an error its value)."""
    run = _Run(namespace, tensor_cls, names)
    outputs: list[dict[str, Any]] = []
    failure = None
    for step in steps:
        try:
            raw = run.step(step)
            output = run.output(raw, step)
        except _MemoryError:
            raise
        except _Exception as exc:
            if step.get("catch") is not True:
                failure = {"error": describe_exception(exc), "assertion": _isinstance(exc, _AssertionError)}
                break
            raw, output = exc, {"kind": "error", "error": describe_exception(exc)}
        run.objects.append(raw)
        outputs.append(output)
    return {"kind": "steps", "values": outputs, "failure": failure}


def run_call(call: dict[str, Any], namespace: dict[str, Any], tensor_cls: Any,
             names: dict[str, tuple[bool, Any]] | None = None) -> dict[str, Any]:
    """One program under its seed (`random` and numpy's global state); a student exception is data, not a harness
    failure, and running out of memory ends the call."""
    try:
        steps = check_program(call)
    except _Exception as exc:
        return {"ok": False, "error": {"type": "HarnessError", "message": str(exc)[:500], "where": ""}}
    try:
        seed = call.get("seed", 0)
        _seed(seed)
        _np_seed(seed)
        return {"ok": True, "value": run_program(steps, namespace, tensor_cls, names or {})}
    except _MemoryError:
        return {"ok": False, "error": {"type": "MemoryError", "message": "out of memory", "where": ""}}
    except _Exception as exc:
        return {"ok": False, "error": describe_exception(exc)}

