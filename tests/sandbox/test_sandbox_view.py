"""The bubblewrap sandbox from the inside, on both pools: what a run can see, write, signal, reach, and as whom."""

import os

import pytest

from grader.sandbox.bwrap_backend import BwrapRunner
from grader.sandbox.env import PASSED_THROUGH
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner

from .conftest import printed, run_cell


def test_student_code_holds_only_stdio_and_the_channel(runner: SandboxRunner, limits: SandboxLimits) -> None:
    _, report = run_cell(runner, limits, "import os, json\nprint(json.dumps(sorted(os.listdir('/proc/self/fd'))))")
    assert printed(report) == ["0", "1", "2", "3", "4"]  # 4 is listdir's own descriptor


def test_the_harness_is_pid_1_undumpable_and_immune_to_signals(runner: SandboxRunner, limits: SandboxLimits) -> None:
    source = """
import json, os, signal
seen = {}
for path in ("/proc/1/fd", "/proc/1/environ", "/proc/1/mem"):
    try:
        os.listdir(path) if path.endswith("fd") else open(path, "rb").read(1)
        seen[path] = "open"
    except OSError as exc:
        seen[path] = type(exc).__name__
for sig in (signal.SIGSTOP, signal.SIGKILL):
    os.kill(1, sig)
print(json.dumps(seen))
"""
    result, report = run_cell(runner, limits, source)
    assert printed(report) == {"/proc/1/fd": "PermissionError", "/proc/1/environ": "PermissionError",
                               "/proc/1/mem": "PermissionError"}
    assert report.setup.status == "ok" and result.killed is None


def test_environment_is_built_from_nothing(runner: SandboxRunner, limits: SandboxLimits,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_CANARY_SECRET", "never-inside")
    _, report = run_cell(runner, limits, "import os, json\nprint(json.dumps(sorted(os.environ)))")
    carried = [name for name in PASSED_THROUGH if name in os.environ]  # OpenBLAS CPU quirks, when the host sets them
    assert printed(report) == sorted([
        "PATH", "HOME", "LANG", "MPLBACKEND", "MPLCONFIGDIR", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
        "MKL_NUM_THREADS", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "HARNESS_PATH", "HARNESS_PACKAGE",
        "HARNESS_PID_NAMESPACE", "HARNESS_FONT_CACHE", "PWD",
        *carried,
    ])
    assert "never-inside" not in report.stdout


def test_only_the_size_capped_tmp_is_writable(runner: SandboxRunner, limits: SandboxLimits) -> None:
    source = """
import errno, json, os
outcome = {}
for path in ("/x", "/opt/x", "/dev/shm/x", "/usr/x", "/tmp/work/x"):
    try:
        open(path, "w").close()
        outcome[path] = "ok"
    except OSError as exc:
        outcome[path] = errno.errorcode[exc.errno]
try:
    for i in range(6):
        with open(f"/tmp/work/big{i}", "wb") as handle:
            handle.write(b"0" * (15 << 20))
    outcome["80MiB"] = "ok"
except OSError as exc:
    outcome["80MiB"] = errno.errorcode[exc.errno]
print(json.dumps(outcome))
"""
    _, report = run_cell(runner, limits, source)
    assert printed(report) == {"/x": "EROFS", "/opt/x": "EROFS", "/dev/shm/x": "EROFS", "/usr/x": "EROFS",
                               "/tmp/work/x": "ok", "80MiB": "ENOSPC"}


def test_no_network_and_no_host_identity(runner: SandboxRunner, limits: SandboxLimits) -> None:
    source = """
import json, os, socket
try:
    socket.create_connection(("127.0.0.1", 6379), timeout=1)
    reached = True
except OSError:
    reached = False
print(json.dumps([reached, os.getuid(), socket.gethostname(), open("/proc/1/cmdline").read().count("/var/tmp")]))
"""
    _, report = run_cell(runner, limits, source)
    assert printed(report) == [False, 1000, "sandbox", 0]


def test_root_workers_drop_to_a_leased_uid_in_the_configured_range(runner: SandboxRunner) -> None:
    assert isinstance(runner, BwrapRunner)
    uid = runner.host_uid
    assert uid is not None and 61000 <= uid < 62000 and uid == runner.host_uid


def test_usage_and_limits_are_recorded(runner: SandboxRunner, limits: SandboxLimits) -> None:
    result, report = run_cell(runner, limits, "x = sum(range(3_000_000))")
    assert result.wall_s > 0 and result.cpu_s > 0 and result.max_rss_mib > 10 and result.killed is None
    assert report.usage.cpu_s > 0


def test_address_space_limit_turns_a_huge_allocation_into_memory_error(runner: SandboxRunner,
                                                                      limits: SandboxLimits) -> None:
    result, report = run_cell(runner, limits, "import numpy as np\nhoard = np.zeros((8 * 1024 ** 3,))")
    assert report.cells[0].error is not None and report.cells[0].error.type == "MemoryError"
    assert result.killed == "memory"
