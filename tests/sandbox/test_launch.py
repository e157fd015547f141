"""The outer launcher: floods cannot block it, caps hold, and its own wall clock ends a whole namespace."""

import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Any

from grader.sandbox.bwrap_backend import BwrapRunner
from grader.sandbox.job import SandboxJob, SandboxLimits
from grader.sandbox.launch import DIAGNOSTICS_BYTES, WALL_GRACE_S, Launch, launch, reported_stop
from grader.sandbox.runner import SandboxRunner
from grader.services.evaluate import layers_package


def _job(limits: SandboxLimits, **overrides: Any) -> SandboxJob:
    return SandboxJob(module_name="layers_dev", cells=[], tests=[], probes=[], package=layers_package(),
                      limits=dataclasses.replace(limits, **overrides))


def _python(code: str) -> Launch:
    return Launch(argv=[sys.executable, "-c", code])


def test_a_stderr_flood_neither_blocks_nor_grows_the_diagnostics(limits: SandboxLimits) -> None:
    code = "import os, sys\nfor _ in range(40): os.write(2, b'e' * (1 << 20))\nsys.stdout.write('{}')"
    started = time.monotonic()
    result = launch(_python(code), {}, _job(limits, wall_s=20), cwd="/")
    assert time.monotonic() - started < 15
    assert result.report == b"{}" and result.killed is None
    assert len(result.diagnostics) == DIAGNOSTICS_BYTES


def test_a_report_over_its_cap_is_dropped_and_recorded(limits: SandboxLimits) -> None:
    result = launch(_python("import os\nos.write(1, b'x' * (6 << 20))"), {}, _job(limits), cwd="/")
    assert result.report is None and result.killed == "output"


def _sandbox_processes(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            status = (entry / "status").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        uids = [line.split()[1] for line in status.splitlines() if line.startswith("Uid:")]
        if uids and int(uids[0]) == uid:
            pids.append(int(entry.name))
    return pids


def test_the_outer_wall_clock_ends_a_stuck_sandbox_and_everything_in_it(runner: SandboxRunner,
                                                                        limits: SandboxLimits) -> None:
    """A harness that never reports (here: replaced by a sleeper with a setsid child) is killed as a whole."""
    assert isinstance(runner, BwrapRunner)
    code = "import os, time\nif os.fork() == 0:\n    os.setsid()\ntime.sleep(300)"
    job = _job(limits, wall_s=1)
    spec = dataclasses.replace(runner.command(job), command=[str(runner.runtime.python), "-I", "-S", "-c", code])
    started = time.monotonic()
    result = launch(spec, {"PATH": "/usr/bin:/bin"}, job, cwd="/")
    assert time.monotonic() - started < 1 + WALL_GRACE_S + 5
    assert result.killed == "timeout" and result.report is None
    assert runner.host_uid is not None and _sandbox_processes(runner.host_uid) == []


def test_reported_stop_reads_only_the_harness_account_and_never_raises() -> None:
    running = '"ended": "exited", "setup": {"status": "running"}'
    assert reported_stop(b'{"ended": "timeout"}', 20) == "timeout"
    assert reported_stop(f'{{{running}, "exit": "signal 24"}}'.encode(), 20) == "timeout"
    assert reported_stop(f'{{{running}, "exit": "signal 9", "usage": {{"cpu_s": 20.9}}}}'.encode(), 20) == "timeout"
    assert reported_stop(f'{{{running}, "exit": "signal 9", "usage": {{"cpu_s": 0.3}}}}'.encode(), 20) is None
    assert reported_stop(b'{"ended": "exited", "setup": {"status": "ok"}, "exit": "signal 24"}', 20) is None
    assert reported_stop(b'{"cells": [{"key": "c", "error": {"type": "MemoryError"}}]}', 20) == "memory"
    for garbage in (b"", b"[1]", b"\x80\x04K.", b'{"cells": 5}', b'{"cells": [7]}', b"nan", b'{"usage": 3}'):
        assert reported_stop(garbage, 20) is None


def test_a_forked_worker_leases_its_own_uid(runner: SandboxRunner) -> None:
    assert isinstance(runner, BwrapRunner)
    parent_uid = runner.host_uid
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, str(runner.host_uid).encode())
        os._exit(0)
    os.close(write)
    child_uid = int(os.read(read, 64))
    os.close(read)
    os.waitpid(pid, 0)
    assert child_uid != parent_uid and runner.host_uid == parent_uid
