"""Fixtures of the sandbox tests: `runner` is each pool in turn (cold, warm); helpers run one cell as a notebook."""

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from grader.config import SandboxSettings, Settings
from grader.sandbox.job import JobCell, SandboxJob, SandboxLimits, SandboxResult
from grader.sandbox.package import PackageSpec
from grader.sandbox.runner import SandboxRunner, make_runner
from grader.services.evaluate import layers_package
from grader.verdicts.judge import parse_report
from grader.verdicts.wire import SandboxReport


@pytest.fixture(scope="session", params=["cold", "warm"])
def runner(request: pytest.FixtureRequest) -> Iterator[SandboxRunner]:
    runner = make_runner(Settings(sandbox=SandboxSettings(pool=request.param)))
    assert runner.pool == request.param
    yield runner
    getattr(runner, "close", lambda: None)()


def cell_job(limits: SandboxLimits, source: str, package: PackageSpec | None = None, **overrides: Any) -> SandboxJob:
    """A job of one cell, importing `package` (by default the layers assignment's)."""
    return SandboxJob(module_name="layers_dev", cells=[JobCell(key="probe", source=source)], tests=[], probes=[],
                      package=package or layers_package(), limits=dataclasses.replace(limits, **overrides))


def run_cell(runner: SandboxRunner, limits: SandboxLimits, source: str, package: PackageSpec | None = None,
             **overrides: Any) -> tuple[SandboxResult, SandboxReport]:
    """Run one cell of code as a notebook and return the result and its strictly parsed report."""
    result = runner.run(cell_job(limits, source, package, **overrides))
    assert result.report, result.diagnostics
    return result, parse_report(result.report)


def printed(report: SandboxReport) -> Any:
    """The JSON value the cell printed on its last line."""
    return json.loads(report.stdout.strip().splitlines()[-1])
