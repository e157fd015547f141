"""A probe as a bundle defines it: how to draw its programs, and how to judge what they returned."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.verdicts.wire import CallResult


@dataclass(frozen=True)
class ProbeCall:
    """One program: what the harness receives (`wire`) and what only the judge keeps (`context`, e.g. the inputs
    as arrays, so a checker need not decode its own wire)."""

    wire: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)


Calls = list[ProbeCall]
Seeds = tuple[int, ...]
Generator = Callable[[np.random.Generator, Seeds], Calls]
Checker = Callable[[Calls, list[CallResult]], str | None]


@dataclass(frozen=True)
class ProbeDefinition:
    """How to build one probe's programs and how to judge their results.

    `generate(rng, seeds)` draws the programs of one run: `rng` is seeded per run (fresh inputs a submission
    cannot know in advance), `seeds` are the rubric's locked-test seeds (a shadow replays its test under each).
    `check(calls, results)` gets one result per call, in order, and returns None (passed) or what differed.
    With `expects_errors`, a student exception is something the checker judges (a failure, not an error).
    """

    generate: Generator
    check: Checker
    expects_errors: bool = False
