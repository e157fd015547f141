"""Calls into student code with given inputs, returning plain numeric data only.

Runs INSIDE the sandbox. Whatever it returns is untrusted on the outside: it is only data that the
trusted side compares with the reference, never a verdict.
"""

import math
import traceback
from typing import Any

import numpy as np

_ndarray = np.ndarray
_asarray = np.asarray
_isinstance = isinstance
_type = type
MAX_VALUES = 200_000


def describe_exception(exc: BaseException) -> dict[str, str]:
    """Type, message and the deepest line of student code that raised, for a message a student can act on."""
    where = ""
    if _isinstance(exc, SyntaxError) and str(exc.filename or "").startswith("<cell "):
        where = f"{str(exc.filename)[1:-1]}, line {exc.lineno}: {(exc.text or '').strip()}"
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith("<cell "):
            where = f"{frame.filename[1:-1]}, line {frame.lineno}: {(frame.line or '').strip()}"
    return {"type": _type(exc).__name__, "message": str(exc)[:500], "where": where[:500]}


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
            except Exception:
                return {"kind": "other", "type": _type(value).__name__}
        else:
            return {"kind": "other", "type": _type(value).__name__}
    if _type(data) is not _ndarray or data.dtype.kind not in "biuf" or data.size > MAX_VALUES:
        return {"kind": "other", "type": _type(value).__name__}
    flat = _ndarray.tolist(data.reshape(-1))
    return {
        "kind": "array",
        "container": _type(value).__name__,
        "shape": list(data.shape),
        "dtype": str(data.dtype),
        "values": [_plain_number(v) for v in flat],
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
    output = None
    if call.get("input") is not None:
        output = encode_value(layer(decode_value(call["input"], tensor_cls)))
    return {"ok": True, "value": {"kind": "dense", "attrs": attrs, "output": output}}


OPERATIONS = {"call": _call, "dense": _dense}


def run_call(call: dict[str, Any], namespace: dict[str, Any], tensor_cls: Any) -> dict[str, Any]:
    """One probe call; a student exception is data, not a harness failure."""
    operation = OPERATIONS.get(call.get("op", ""))
    if operation is None:
        return {"ok": False, "error": {"type": "HarnessError", "message": "unknown probe op", "where": ""}}
    try:
        return operation(call, namespace, tensor_cls)
    except MemoryError:
        return {"ok": False, "error": {"type": "MemoryError", "message": "out of memory", "where": ""}}
    except Exception as exc:
        return {"ok": False, "error": describe_exception(exc)}
