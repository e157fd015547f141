"""What goes into the sandbox: cells to run, locked tests, probes and limits; plain data only."""

from dataclasses import asdict, dataclass, field
from typing import Any


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


@dataclass(frozen=True)
class JobCell:
    """One code cell in execution order; `key` names it in tracebacks."""

    key: str
    source: str


@dataclass(frozen=True)
class JobTest:
    """A locked graded cell, run by calling the test functions it defines."""

    item_id: str
    source: str
    seeds: list[int]


@dataclass(frozen=True)
class JobProbe:
    """Calls into student code whose plain-data results are judged outside.

    A shadow names its locked test in `only_if_passed`: it is consulted only when that test passed, so the harness
    skips it when the test did not (a loop in the test would otherwise cost its CPU limit twice).
    """

    probe_id: str
    calls: list[dict[str, Any]]
    only_if_passed: str | None = None


@dataclass(frozen=True)
class SandboxJob:
    """Everything the harness needs, and nothing of the answer key."""

    module_name: str
    cells: list[JobCell]
    tests: list[JobTest]
    probes: list[JobProbe]
    limits: SandboxLimits = field(default_factory=SandboxLimits)

    def to_wire(self) -> dict[str, Any]:
        """The JSON document the harness reads on stdin. Built field by field, not with asdict: the probes'
        calls are already plain JSON data, and deep-copying their input arrays for every job costs milliseconds."""
        return {
            "module_name": self.module_name,
            "cells": [{"key": cell.key, "source": cell.source} for cell in self.cells],
            "tests": [{"item_id": test.item_id, "source": test.source, "seeds": list(test.seeds)}
                      for test in self.tests],
            "probes": [{"probe_id": probe.probe_id, "calls": probe.calls, "only_if_passed": probe.only_if_passed}
                       for probe in self.probes],
            "limits": {**asdict(self.limits), "setup_cpu_s": self.limits.cpu_s},
        }


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
