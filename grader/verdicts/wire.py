"""The sandbox report's shape, parsed strictly: bounded strings, known kinds, numbers only. No pickle."""

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints


def storable(value: Any) -> Any:
    """Text any database accepts: NUL bytes and lone surrogates (a student can print both) are replaced."""
    if not isinstance(value, str):
        return value
    return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


ShortText = Annotated[str, BeforeValidator(storable), StringConstraints(max_length=2000)]
Name = Annotated[str, BeforeValidator(storable), StringConstraints(max_length=200)]
Output = Annotated[str, BeforeValidator(storable), StringConstraints(max_length=1_000_000)]
MAX_ARRAY_VALUES = 200_000


class WireModel(BaseModel):
    """Unknown fields are ignored, wrong types are rejected."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class ErrorInfo(WireModel):
    type: Name
    message: ShortText = ""
    where: ShortText = ""

    def describe(self) -> str:
        """`Type: message (where)`, the form a student can act on."""
        text = f"{self.type}: {self.message}" if self.message else self.type
        return f"{text} ({self.where})" if self.where else text


class ArrayValue(WireModel):
    kind: Literal["array"]
    container: Name = ""
    shape: list[Annotated[int, Field(ge=0, le=MAX_ARRAY_VALUES)]] = Field(max_length=8)
    dtype: Name
    values: list[float | int | Literal["nan", "inf", "-inf"]] = Field(max_length=MAX_ARRAY_VALUES)

    def to_array(self) -> np.ndarray | None:
        """The numbers as float64, or None when the shape does not fit the values (a lie or a bug)."""
        if math.prod(self.shape) != len(self.values):
            return None
        return np.array([float(v) for v in self.values], dtype=np.float64).reshape(self.shape)


Number = float | int | Literal["nan", "inf", "-inf"]


class SummaryValue(WireModel):
    """A large array as the harness summarized it: shape, moments, extremes and entries the host picked."""

    kind: Literal["summary"]
    container: Name = ""
    shape: list[Annotated[int, Field(ge=0, le=MAX_ARRAY_VALUES)]] = Field(max_length=8)
    dtype: Name
    mean: Number
    std: Number
    min: Number
    max: Number
    sample: list[Number | None] = Field(default_factory=list, max_length=64)

    def finite(self) -> bool:
        """Every statistic and sampled entry is a finite number (no nan, inf or missing entry)."""
        numbers = [self.mean, self.std, self.min, self.max, *self.sample]
        return all(isinstance(n, int | float) and math.isfinite(n) for n in numbers)


class NoneValue(WireModel):
    kind: Literal["none"]


class NumberValue(WireModel):
    """A plain number a step returned (a Python int, float or bool), with the dtype numpy gives it."""

    kind: Literal["number"]
    type: Name = ""
    dtype: Name = "float64"
    value: Number

    def as_array_value(self) -> ArrayValue:
        """The number as the 0-d array it is to numpy, for checks that take arrays."""
        return ArrayValue(kind="array", container=self.type, shape=[], dtype=self.dtype, values=[self.value])


class TextValue(WireModel):
    """A string a step returned, cut to the contract's length."""

    kind: Literal["text"]
    value: ShortText = ""


class OtherValue(WireModel):
    """Any other object: only its type's name crosses the boundary."""

    kind: Literal["other"]
    type: Name = ""


class ErrorValue(WireModel):
    """The exception of a step that caught it (`"catch": true`); the program went on."""

    kind: Literal["error"]
    error: ErrorInfo


class StepFailure(WireModel):
    """How a program stopped: the exception of its first step that raised; an AssertionError retries a replayed
    locked test's next seed, anything else ends it."""

    error: ErrorInfo
    assertion: bool = False


Value = Annotated[ArrayValue | SummaryValue | NoneValue | NumberValue | TextValue | OtherValue | ErrorValue,
                  Field(discriminator="kind")]


class StepsValue(WireModel):
    """One program's answer: the value of each step that ran, in order, and how it stopped if a step raised."""

    kind: Literal["steps"]
    values: list[Value] = Field(default_factory=list, max_length=64)
    failure: StepFailure | None = None


class CallResult(WireModel):
    """One program's result: `ok` with its steps, or the error that ended the whole call (out of memory, or a
    program the harness refused)."""

    ok: bool
    value: StepsValue | None = None
    error: ErrorInfo | None = None


class SweepFailure(WireModel):
    """One seed under which a swept locked test failed, and how."""

    seed: int
    error: ErrorInfo
    assertion: bool = False


class UnitOutcome(WireModel):
    """A unit's claimed result: a locked test's (`passed` after `attempts` seeds, or how it failed), a probe's
    (`ok` with its `results`), or a sweep's (`swept`: `passed` of `runs` seeds, the first few `failures`)."""

    status: Literal["passed", "failed", "error", "memory", "ok", "swept"]
    error: ErrorInfo | None = None
    attempts: int = 1
    results: list[CallResult] = Field(default_factory=list, max_length=64)
    runs: int = Field(default=0, ge=0)
    passed: int = Field(default=0, ge=0)
    failures: list[SweepFailure] = Field(default_factory=list, max_length=16)


class UnitStart(WireModel):
    pid: int = 0


class UnitResultFrame(WireModel):
    outcome: UnitOutcome


class UnitEnd(WireModel):
    ended: Literal["exit", "signal", "wall"]
    code: int = 0
    signal: int = 0
    cpu_s: float = 0.0


class UnitRecord(WireModel):
    unit_start: UnitStart | None = None
    unit_result: UnitResultFrame | None = None
    unit_end: UnitEnd | None = None


class CellRecord(WireModel):
    key: Name
    error: ErrorInfo | None = None


class SetupState(WireModel):
    status: Literal["running", "ok"]
    cell: Name | None = None


class Usage(WireModel):
    cpu_s: float = 0.0
    max_rss_mib: float = 0.0


class SandboxReport(WireModel):
    version: Literal[1]
    ended: Literal["exited", "timeout"]
    exit: Name
    channel_corrupt: bool
    setup: SetupState
    cells: list[CellRecord] = Field(max_length=1000)
    units: dict[Name, UnitRecord] = Field(max_length=256)
    finished: bool
    stdout: Output = ""
    stderr: Output = ""
    usage: Usage = Field(default_factory=Usage)


def encode_array(array: np.ndarray, *, as_tensor: bool = False) -> dict[str, Any]:
    """An array input of a program step, as the harness decodes it (as an ndarray, or the bundle's tensor class)."""
    return {
        "values": array.reshape(-1).tolist(),
        "dtype": str(array.dtype),
        "shape": list(array.shape),
        "as": "tensor" if as_tensor else "ndarray",
    }
