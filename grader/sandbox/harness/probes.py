"""Calls into student code with given inputs, returning plain numeric data only.

Runs INSIDE the sandbox. Whatever it returns is untrusted on the outside: it is only data that the
trusted side compares with the reference, never a verdict.
"""

import math
import random
import traceback
from typing import Any, cast

import numpy as np
from tinytorch.core.activations import ReLU

_relu = ReLU()
_AssertionError = AssertionError
_MemoryError = MemoryError
_Exception = Exception
_extract_tb = traceback.extract_tb
_str_str = str.__str__
_ndarray = np.ndarray
_asarray = np.asarray
_isfinite = np.isfinite
_isinstance = isinstance
_type = type
_float64 = np.float64
_add_reduce = np.add.reduce
_min_reduce = np.minimum.reduce
_max_reduce = np.maximum.reduce
_sqrt = math.sqrt
_int = int
_float = float
MAX_VALUES = 200_000
MAX_SAMPLES = 64


def _text(exc: BaseException) -> str:
    """str(exc) as a plain str; a __str__ that raises or lies does not take the harness down."""
    try:
        text = str(exc)
    except _Exception:
        return "<the exception could not be printed>"
    return _str_str(text) if _isinstance(text, str) else "<the exception could not be printed>"


def describe_exception(exc: BaseException) -> dict[str, str]:
    """Type, message and the deepest line of student code that raised, for a message a student can act on."""
    where = ""
    if _isinstance(exc, SyntaxError):
        syntax = cast(SyntaxError, exc)
        if str(syntax.filename or "").startswith("<cell "):
            where = f"{str(syntax.filename)[1:-1]}, line {syntax.lineno}: {(syntax.text or '').strip()}"
    for frame in _extract_tb(exc.__traceback__):
        if frame.filename.startswith("<cell "):
            where = f"{frame.filename[1:-1]}, line {frame.lineno}: {(frame.line or '').strip()}"
    return {"type": _type(exc).__name__, "message": _text(exc)[:500], "where": where[:500]}


def decode_value(spec: dict[str, Any], tensor_cls: Any) -> Any:
    """Build the ndarray or Tensor the trusted side asked to pass in."""
    array = np.array(spec["values"], dtype=spec["dtype"]).reshape(spec["shape"])
    if spec.get("as") == "tensor":
        return tensor_cls(array)
    return array


def _plain_number(value: Any) -> Any:
    if _isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def encode_value(value: Any) -> dict[str, Any]:
    """Reduce a student's return value to a flat numeric array, or say what it was instead."""
    if value is None:
        return {"kind": "none"}
    data = getattr(value, "data", value) if not _isinstance(value, _ndarray) else value
    if not _isinstance(data, _ndarray):
        if _isinstance(data, (int, float, list, tuple)):
            try:
                data = _asarray(data)
            except _Exception:
                return {"kind": "other", "type": _type(value).__name__}
        else:
            return {"kind": "other", "type": _type(value).__name__}
    if _type(data) is not _ndarray or data.dtype.kind not in "biuf" or data.size > MAX_VALUES:
        return {"kind": "other", "type": _type(value).__name__}
    flat = _ndarray.tolist(data.reshape(-1))
    if data.dtype.kind == "f" and not _ndarray.all(_isfinite(data)):
        flat = [_plain_number(v) for v in flat]
    return {
        "kind": "array",
        "container": _type(value).__name__,
        "shape": list(data.shape),
        "dtype": str(data.dtype),
        "values": flat,
    }


def _numeric_array(value: Any) -> Any:
    """The plain ndarray behind a student's return value, or None when it is not a numeric array."""
    data = getattr(value, "data", value) if not _isinstance(value, _ndarray) else value
    if _type(data) is not _ndarray or data.dtype.kind not in "biuf" or data.size > MAX_VALUES:
        return None
    return data


def summarize_value(value: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """A large array as its shape, moments, extremes and the entries at the flat indices the host chose.

    Uses ufunc reductions bound before any student code ran, so patching numpy's functions changes nothing.
    """
    data = _numeric_array(value)
    if data is None or data.size == 0:
        return {"kind": "other", "type": _type(value).__name__} if value is not None else {"kind": "none"}
    flat = _asarray(data, dtype=_float64).reshape(-1)
    count = _int(flat.size)
    mean = _float(_add_reduce(flat)) / count
    centred = flat - mean
    indices = [_int(i) for i in spec.get("sample", [])[:MAX_SAMPLES]]
    return {
        "kind": "summary",
        "container": _type(value).__name__,
        "shape": list(data.shape),
        "dtype": str(data.dtype),
        "mean": _plain_number(mean),
        "std": _plain_number(_sqrt(_float(_add_reduce(centred * centred)) / count)),
        "min": _plain_number(_float(_min_reduce(flat))),
        "max": _plain_number(_float(_max_reduce(flat))),
        "sample": [_plain_number(_float(flat[i])) if 0 <= i < count else None for i in indices],
    }


def _call(call: dict[str, Any], namespace: dict[str, Any], tensor_cls: Any) -> dict[str, Any]:
    target = namespace.get(call["target"])
    if target is None:
        return {"ok": False, "error": {"type": "NameError", "message": f"{call['target']} is not defined",
                                       "where": ""}}
    args = [decode_value(arg, tensor_cls) for arg in call["args"]]
    return {"ok": True, "value": encode_value(target(*args))}


def _dense(call: dict[str, Any], namespace: dict[str, Any], tensor_cls: Any) -> dict[str, Any]:
    cls = namespace.get("Dense")
    if cls is None:
        return {"ok": False, "error": {"type": "NameError", "message": "Dense is not defined", "where": ""}}
    layer = cls(**call["init"])
    for name, spec in call.get("set", {}).items():
        setattr(layer, name, None if spec is None else decode_value(spec, tensor_cls))
    attrs = {name: encode_value(getattr(layer, name)) for name in call.get("read", [])}
    for name, spec in call.get("summarize", {}).items():
        attrs[name] = summarize_value(getattr(layer, name), spec)
    output = None
    if call.get("input") is not None:
        output = encode_value(layer(decode_value(call["input"], tensor_cls)))
    return {"ok": True, "value": {"kind": "dense", "attrs": attrs, "output": output}}


def _session_step(step: dict[str, Any], namespace: dict[str, Any], tensor_cls: Any, objects: dict[str, Any],
                  outputs: list[Any]) -> tuple[dict[str, Any], Any]:
    """One call of a replayed locked test: build a layer, read one attribute, or apply a layer."""
    if "new" in step:
        cls = namespace.get("Dense")
        if cls is None:
            raise NameError("name 'Dense' is not defined")
        objects[step["new"]] = cls(**step["init"])
        return {"kind": "none"}, None
    if "read" in step:
        value = getattr(objects[step["read"]], step["attr"])
        return encode_value(value), value
    argument = _relu(outputs[step["relu_of"]]) if "relu_of" in step else decode_value(step["input"], tensor_cls)
    output = objects[step["apply"]](argument)
    return encode_value(output), output


def _session(call: dict[str, Any], namespace: dict[str, Any], tensor_cls: Any) -> dict[str, Any]:
    """A locked test's calls in its order under its seed; the first exception ends it, as it would the test."""
    random.seed(call["seed"])
    objects: dict[str, Any] = {}
    outputs: list[Any] = []
    steps: list[dict[str, Any]] = []
    failure = None
    for step in call["steps"]:
        try:
            encoded, kept = _session_step(step, namespace, tensor_cls, objects, outputs)
        except _MemoryError:
            raise
        except _Exception as exc:
            failure = {"error": describe_exception(exc), "assertion": _isinstance(exc, _AssertionError)}
            break
        steps.append(encoded)
        outputs.append(kept)
    return {"ok": True, "value": {"kind": "session", "steps": steps, "failure": failure}}


OPERATIONS = {"call": _call, "dense": _dense, "session": _session}


def run_call(call: dict[str, Any], namespace: dict[str, Any], tensor_cls: Any) -> dict[str, Any]:
    """One probe call; a student exception is data, not a harness failure."""
    operation = OPERATIONS.get(call.get("op", ""))
    if operation is None:
        return {"ok": False, "error": {"type": "HarnessError", "message": "unknown probe op", "where": ""}}
    try:
        return operation(call, namespace, tensor_cls)
    except _MemoryError:
        return {"ok": False, "error": {"type": "MemoryError", "message": "out of memory", "where": ""}}
    except _Exception as exc:
        return {"ok": False, "error": describe_exception(exc)}
