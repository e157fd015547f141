"""The attacks most likely to leave something behind leave nothing: no process of the sandbox uid survives the
run, nothing appears where they tried to write, and the read-only runtime is exactly what it was."""

import time

from grader.sandbox.runner import SandboxRunner

from .conftest import Grade, leftovers, runtime_digest

LEAKY = {"setsid_daemon": {}, "fork_bomb": {"cpu_s": 2, "wall_s": 3}, "write_outside": {}, "output_flood": {}}


def test_hostile_runs_leave_nothing_behind(grade_file: Grade, runner: SandboxRunner) -> None:
    before = runtime_digest(runner)
    for name, limits in LEAKY.items():
        grade_file(name, **limits)
        assert leftovers(runner) == [], name
    time.sleep(0.3)
    assert leftovers(runner) == [], "an escaped daemon would have written its heartbeat by now"
    assert runtime_digest(runner) == before
