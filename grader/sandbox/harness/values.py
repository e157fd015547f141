"""Student values reduced to plain, bounded data: arrays, summaries, numbers, text, type names, exceptions.

Runs INSIDE the sandbox, on values that student code made: an object here may lie in __str__, __getattr__ or
__class__, or be huge. Every builtin and numpy reduction used here was bound before any student code ran, every
string is cut to what the host's report contract accepts, and the result is JSON of plain types only.
"""

import math
import traceback
from typing import Any, cast

import numpy as np

_Exception = Exception
_BaseException = BaseException
_extract_tb = traceback.extract_tb
_str_str = str.__str__
_type_name = type.__dict__["__name__"].__get__
_ndarray = np.ndarray
_tolist = np.ndarray.tolist
_reshape = np.ndarray.reshape
_all = np.ndarray.all
_asarray = np.asarray
_isfinite = np.isfinite
_isinstance = isinstance
_issubclass = issubclass
_type = type
_str = str
_float64 = np.float64
_add_reduce = np.add.reduce
_min_reduce = np.minimum.reduce
_max_reduce = np.maximum.reduce
_sqrt = math.sqrt
_math_isfinite = math.isfinite
_int = int
_float = float
_len = len
_getattr = getattr
MAX_VALUES = 200_000  # numbers in one array, and in all the arrays of one program together
MAX_SAMPLES = 64
MAX_DIMS = 8
MAX_NAME = 200
MAX_TEXT = 2000
MAX_MESSAGE = 500


def name_of(cls: type) -> str:
    """A class's own name as a plain str, without calling anything its metaclass defines."""
    try:
        name = _type_name(cls)
        return _str_str(name)[:MAX_NAME] if _issubclass(_type(name), _str) else "<unnamed>"
    except _BaseException:
        return "<unnamed>"


def text_of(exc: BaseException) -> str:
    """str(exc) as a plain str; a __str__ that raises (anything), lies or returns a non-str takes nothing down."""
    try:
        text = _str(exc)
        return _str_str(text) if _issubclass(_type(text), _str) else "<the exception could not be printed>"
    except _BaseException:
        return "<the exception could not be printed>"


def _where(exc: BaseException) -> str:
    """The deepest line of student code (a `<cell KEY>` file) that raised, or of a cell that failed to compile."""
    where = ""
    if _isinstance(exc, SyntaxError):
        syntax = cast(SyntaxError, exc)
        if str(syntax.filename or "").startswith("<cell "):
            where = f"{str(syntax.filename)[1:-1]}, line {syntax.lineno}: {(syntax.text or '').strip()}"
    for frame in _extract_tb(exc.__traceback__):
        if frame.filename.startswith("<cell "):
            where = f"{frame.filename[1:-1]}, line {frame.lineno}: {(frame.line or '').strip()}"
    return _str_str(where)[:MAX_MESSAGE]


def describe_exception(exc: BaseException) -> dict[str, str]:
    """Type, message and the deepest line of student code that raised, for a message a student can act on."""
    try:
        where = _where(exc)
    except _BaseException:
        where = ""
    return {"type": name_of(_type(exc)), "message": text_of(exc)[:MAX_MESSAGE], "where": where}


def plain_number(value: Any) -> Any:
    if _isinstance(value, float) and not _math_isfinite(value):
        return repr(value)
    return value


def _other(value: Any) -> dict[str, Any]:
    return {"kind": "other", "type": name_of(_type(value))}


def _numeric(data: Any, budget: list[int]) -> bool:
    """An honest ndarray of numbers, small enough for what is left of this program's budget."""
    if _type(data) is not _ndarray or data.dtype.kind not in "biuf" or data.ndim > MAX_DIMS:
        return False
    return _int(data.size) <= min(MAX_VALUES, budget[0])


def encode_value(value: Any, budget: list[int] | None = None) -> dict[str, Any]:
    """A student's value as a flat numeric array (an ndarray, the `.data` of a tensor, a number or a list of them),
    a number, text or None; anything else is only its type name. `budget` is the numbers left to this program."""
    budget = budget if budget is not None else [MAX_VALUES]
    if value is None:
        return {"kind": "none"}
    if _type(value) is _str or _issubclass(_type(value), _str):
        return {"kind": "text", "value": _str_str(value)[:MAX_TEXT]}
    data = value if _isinstance(value, _ndarray) else _getattr(value, "data", value)
    scalar = data is value and _issubclass(_type(value), (int, float))
    if not _isinstance(data, _ndarray):
        if not _isinstance(data, (int, float, list, tuple)):
            return _other(value)
        try:
            data = _asarray(data)
        except _Exception:
            return _other(value)
    if not _numeric(data, budget):
        return _other(value)
    budget[0] -= _int(data.size)
    if scalar and data.ndim == 0:
        item = data.item()
        number = _int(item) if data.dtype.kind == "b" else plain_number(item)
        return {"kind": "number", "type": name_of(_type(value)), "dtype": _str(data.dtype), "value": number}
    flat = _tolist(_reshape(data, -1))
    if data.dtype.kind == "f" and not _all(_isfinite(data)):
        flat = [plain_number(v) for v in flat]
    return {"kind": "array", "container": name_of(_type(value)), "shape": [_int(n) for n in data.shape],
            "dtype": _str(data.dtype), "values": flat}


def _numeric_array(value: Any) -> Any:
    """The plain ndarray behind a student's value, or None when it is not a numeric array."""
    data = value if _isinstance(value, _ndarray) else _getattr(value, "data", value)
    return data if _numeric(data, [MAX_VALUES]) else None


def summarize_value(value: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """A large array as its shape, moments, extremes and the entries at the flat indices the host chose.

    Uses ufunc reductions bound before any student code ran, so patching numpy's functions changes nothing.
    """
    data = _numeric_array(value)
    if data is None or data.size == 0:
        return _other(value) if value is not None else {"kind": "none"}
    flat = _reshape(_asarray(data, dtype=_float64), -1)
    count = _int(flat.size)
    mean = _float(_add_reduce(flat)) / count
    centred = flat - mean
    indices = [_int(i) for i in spec.get("sample", [])[:MAX_SAMPLES]]
    return {
        "kind": "summary",
        "container": name_of(_type(value)),
        "shape": [_int(n) for n in data.shape],
        "dtype": _str(data.dtype),
        "mean": plain_number(mean),
        "std": plain_number(_sqrt(_float(_add_reduce(centred * centred)) / count)),
        "min": plain_number(_float(_min_reduce(flat))),
        "max": plain_number(_float(_max_reduce(flat))),
        "sample": [plain_number(_float(flat[i])) if 0 <= i < count else None for i in indices],
    }
