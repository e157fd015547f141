"""What a bundle's hidden_tests.py writes against: probe definitions, program builders, values, judging helpers.

A bundle's `hidden_tests.py` defines `PROBES: dict[str, ProbeDefinition]`, its hidden probes and its locked
tests' shadows in one mapping. Each definition draws programs (`generate`) and judges their results (`check`):

    def _forward(rng, seeds):
        x = rng.standard_normal((2, 3))
        return [program(new("Scaler", factor=2), method(0, "__call__", tensor(x)), seed=1, context={"x": x})]

    def _check_forward(calls, results):
        for call, result in zip(calls, results, strict=True):
            problem = call_failure("Scaler(2)", result) or mismatch("Scaler(2)", 2 * call.context["x"],
                                                                   returned(result))
            if problem:
                return problem
        return None

    PROBES = {"hidden-scaler-forward": ProbeDefinition(_forward, _check_forward)}

A program runs in the sandbox, in the student's process, step by step (step i's result is object i); only plain
values come back (`Value`: an array, a summary, a number, text, None, an error or another object's type name),
and the checker judges them here, outside the sandbox, against the bundle's reference. Bundles import only this
module from the grader.
"""

from grader.verdicts.compare import (
    as_array,
    call_failure,
    describe_shape,
    mismatch,
    raised,
    returned,
    returned_kind,
    steps_of,
)
from grader.verdicts.probe import Calls, Checker, Generator, ProbeCall, ProbeDefinition, Seeds
from grader.verdicts.program import (
    Input,
    Step,
    array,
    as_input,
    call,
    get,
    list_of,
    method,
    new,
    none,
    number,
    program,
    ref,
    set_attr,
    tensor,
    text,
    tuple_of,
)
from grader.verdicts.replay import CheckFailed, ReferenceTensor, Replay, StepRaised, check, judge_seeds
from grader.verdicts.wire import (
    ArrayValue,
    CallResult,
    ErrorInfo,
    ErrorValue,
    NoneValue,
    NumberValue,
    OtherValue,
    StepFailure,
    StepsValue,
    SummaryValue,
    TextValue,
    Value,
)

__all__ = [
    "ArrayValue", "CallResult", "Calls", "CheckFailed", "Checker", "ErrorInfo", "ErrorValue", "Generator", "Input",
    "NoneValue", "NumberValue", "OtherValue", "ProbeCall", "ProbeDefinition", "ReferenceTensor", "Replay", "Seeds",
    "Step", "StepFailure", "StepRaised", "StepsValue", "SummaryValue", "TextValue", "Value", "array", "as_array",
    "as_input", "call", "call_failure", "check", "describe_shape", "get", "judge_seeds", "list_of", "method",
    "mismatch", "new", "none", "number", "program", "raised", "ref", "returned", "returned_kind", "set_attr",
    "steps_of", "tensor", "text", "tuple_of",
]
