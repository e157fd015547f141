"""The sandbox a one-file command starts ahead: the job it is later given runs in that very sandbox."""

from collections.abc import Iterator

import pytest

from grader.assignments.bundle import load_assignment
from grader.config import SandboxSettings, Settings
from grader.sandbox import warm_sandbox
from grader.sandbox.ahead import AheadRunner, one_shot_runner
from grader.sandbox.job import SandboxLimits
from grader.sandbox.process_backend import ProcessRunner
from grader.sandbox.warm_sandbox import WarmSandbox
from grader.services.evaluate import evaluate, layers_package

from .conftest import printed, run_cell
from .test_warm import HONEST


@pytest.fixture
def starts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The host pid of every warm sandbox started while the test runs."""
    started: list[int] = []
    real = WarmSandbox.start.__func__  # type: ignore[attr-defined]

    def start(cls: type[WarmSandbox], runner: object, job: object, **kwargs: object) -> WarmSandbox:
        sandbox = real(cls, runner, job, **kwargs)
        started.append(sandbox.process.pid)
        return sandbox

    monkeypatch.setattr(warm_sandbox.WarmSandbox, "start", classmethod(start))
    yield started


def test_the_job_runs_in_the_sandbox_started_ahead(starts: list[int], limits: SandboxLimits) -> None:
    """One start for the process, not one per job: the starting thread stays alive (bubblewrap dies with the
    thread that spawned it), so the sandbox started ahead is still there when the job comes."""
    runner = AheadRunner(Settings(), layers_package)
    try:
        _, report = run_cell(runner, limits, "print(6 * 7)")
        evaluation = evaluate(load_assignment("layers"), HONEST.read_bytes(), "layers_dev.py", runner, limits,
                              max_bytes=512 * 1024)
    finally:
        runner.close()
    assert printed(report) == 42
    assert {item.verdict.status for item in evaluation.score.items} == {"passed"}
    assert len(starts) == 1


def test_the_process_backend_has_nothing_to_start_ahead() -> None:
    assert isinstance(one_shot_runner(Settings(sandbox=SandboxSettings(backend="process")), layers_package), ProcessRunner)
    ahead = one_shot_runner(Settings(), layers_package)
    assert isinstance(ahead, AheadRunner)
    ahead.close()
