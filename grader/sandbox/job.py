"""What goes into the sandbox: cells to run, locked tests, probes, limits and the package; plain data only."""

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from grader.sandbox.package import PackageSpec


@dataclass(frozen=True)
class SandboxLimits:
    """Every limit of one run; recorded with the run so a verdict can be explained."""

    cpu_s: float = 20.0
    wall_s: float = 60.0
    per_test_cpu_s: float = 5.0
    per_test_wall_s: float = 15.0
    memory_mib: int = 1024
    max_processes: int = 16
    max_file_mib: int = 16
    max_open_files: int = 128
    output_bytes: int = 64 * 1024
    report_bytes: int = 4 * 1024 * 1024
    tmp_mib: int = 64

    def for_unit(self, own: "UnitLimits | None") -> "SandboxLimits":
        """These limits with one unit's own overrides applied (the limits that unit runs, and is judged, under)."""
        if own is None:
            return self
        cpu = self.per_test_cpu_s if own.per_test_cpu_s is None else own.per_test_cpu_s
        wall = own.per_test_wall_s if own.per_test_wall_s is not None else max(self.per_test_wall_s, cpu + 1)
        return replace(self, per_test_cpu_s=cpu, per_test_wall_s=wall)


@dataclass(frozen=True)
class UnitLimits:
    """A rubric item's own per-unit limits, where they differ from the run's (None: the run's own).

    A CPU override without a wall one gets at least a second of wall time beyond it, as the settings do.
    """

    per_test_cpu_s: float | None = None
    per_test_wall_s: float | None = None

    def __post_init__(self) -> None:
        for name in ("per_test_cpu_s", "per_test_wall_s"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and 0 < value <= 3600):
                raise ValueError(f"{name} must be a number of seconds in (0, 3600], not {value!r}")


def _unit_wire(own: UnitLimits | None, limits: SandboxLimits) -> dict[str, float] | None:
    """A unit's effective limits for the harness, only when they differ from the job's."""
    if own is None:
        return None
    unit = limits.for_unit(own)
    return {"per_test_cpu_s": unit.per_test_cpu_s, "per_test_wall_s": unit.per_test_wall_s}


@dataclass(frozen=True)
class JobCell:
    """One code cell in execution order; `key` names it in tracebacks."""

    key: str
    source: str


@dataclass(frozen=True)
class JobTest:
    """A locked graded cell, run by calling the test functions it defines.

    Graded, an assertion failure is retried under the next seed until one passes. A `sweep` (what `grader
    assignments check` runs) calls them once under every seed, never retrying, and answers how many seeds passed
    and the first few that failed; its `limits` should scale with the number of seeds.
    """

    item_id: str
    source: str
    seeds: list[int]
    limits: UnitLimits | None = None
    sweep: bool = False


@dataclass(frozen=True)
class JobProbe:
    """Calls into student code whose plain-data results are judged outside.

    A shadow names its locked test in `only_if_passed`: it is consulted only when that test passed, so the harness
    skips it when the test did not (a loop in the test would otherwise cost its CPU limit twice).
    """

    probe_id: str
    calls: list[dict[str, Any]]
    only_if_passed: str | None = None
    limits: UnitLimits | None = None


@dataclass(frozen=True)
class SandboxJob:
    """Everything the harness needs, and nothing of the answer key. `package` is staged (once per digest) and
    mounted read-only where the submission imports from; it never travels in the job's wire document."""

    module_name: str
    cells: list[JobCell]
    tests: list[JobTest]
    probes: list[JobProbe]
    package: PackageSpec
    limits: SandboxLimits = field(default_factory=SandboxLimits)

    def to_wire(self) -> dict[str, Any]:
        """The JSON document the harness reads on stdin. Built field by field, not with asdict: the probes'
        calls are already plain JSON data, and deep-copying their input arrays for every job costs milliseconds."""
        return {
            "module_name": self.module_name,
            "cells": [{"key": cell.key, "source": cell.source} for cell in self.cells],
            "tests": [{"item_id": test.item_id, "source": test.source, "seeds": list(test.seeds),
                       "limits": _unit_wire(test.limits, self.limits), "sweep": test.sweep} for test in self.tests],
            "probes": [{"probe_id": probe.probe_id, "calls": probe.calls, "only_if_passed": probe.only_if_passed,
                        "limits": _unit_wire(probe.limits, self.limits)} for probe in self.probes],
            "limits": {**asdict(self.limits), "setup_cpu_s": self.limits.cpu_s},
        }

    def unit_limits(self) -> dict[str, SandboxLimits]:
        """Each unit's effective limits by unit id, tests then probes (the order the harness runs them in)."""
        units = {test.item_id: self.limits.for_unit(test.limits) for test in self.tests}
        return units | {probe.probe_id: self.limits.for_unit(probe.limits) for probe in self.probes}


@dataclass(frozen=True)
class SandboxResult:
    """What came back: the raw, untrusted report bytes and what the outside measured itself."""

    report: bytes | None
    wall_s: float
    cpu_s: float
    max_rss_mib: float
    killed: str | None
    exit: str
    diagnostics: str = ""
    sandbox_started: bool = False  # a sandbox (and its zygote) was started for this job: always on the cold path
