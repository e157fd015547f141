"""The warm sandbox: nothing of one job reaches the next; a broken, tampered or wedged sandbox is replaced."""

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.assignments.bundle import load_assignment
from grader.config import SandboxSettings, Settings
from grader.sandbox.job import SandboxLimits, SandboxResult
from grader.sandbox.launch import WALL_GRACE_S
from grader.sandbox.runner import make_runner
from grader.sandbox.warm_backend import WarmRunner
from grader.services.evaluate import evaluate

from .conftest import cell_job, printed, run_cell

HONEST = Path(__file__).resolve().parents[1] / "data" / "hostile" / "honest.py"
SLEEP = "import time\ntime.sleep(1.5)\nprint(1)"
OBSERVE = """
import builtins, ctypes, json, os, platform, resource, sys
import numpy as np

libc = ctypes.CDLL(None, use_errno=True)
keyctl = {"x86_64": 250, "aarch64": 219}.get(platform.machine())
live = [pid for pid in os.listdir("/proc") if pid.isdigit() and int(pid) != os.getpid()
        and open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()[0] != "Z"]
others = sorted(open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode() for pid in live)
seen = {
    "allclose": bool(np.allclose(1.0, 2.0)), "precision": np.get_printoptions()["precision"],
    "seeded_random": float(np.random.rand()) == 0.1915194503788923,
    "modules": ["leaky_module" in sys.modules, sys.modules.get("json") is not None],
    "builtins": hasattr(builtins, "LEAK"),
    "tmp": sorted(os.listdir("/tmp")), "work": sorted(os.listdir("/tmp/work")), "cwd": os.getcwd(),
    "processes": others, "shm": open("/proc/sysvipc/shm").read().splitlines()[1:],
    "keys": [libc.syscall(keyctl, 10, ring, b"user", b"warm-leak", 0) for ring in (-4, -5)] if keyctl else [],
    "nice": os.getpriority(os.PRIO_PROCESS, 0), "affinity": sorted(os.sched_getaffinity(0)),
    "nofile": resource.getrlimit(resource.RLIMIT_NOFILE), "address_space": resource.getrlimit(resource.RLIMIT_AS),
}
print(json.dumps(seen))
"""

MUTATE = """
import builtins, ctypes, os, platform, resource, sys, time, types
import numpy as np

np.allclose = lambda *args, **kwargs: True
np.random.seed(1234)
np.set_printoptions(precision=2)
sys.modules["leaky_module"] = types.ModuleType("leaky_module")
builtins.LEAK = True
for path in ("/tmp/leak.txt", "/tmp/work/leak.txt", "/tmp/.matplotlib/leak.txt"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write("the previous submission's secret")
os.makedirs("/tmp/deep/" + "/".join(["d"] * 60))
os.chmod("/tmp/deep/d/d", 0)
os.symlink("/etc/fonts", "/tmp/link")
libc = ctypes.CDLL(None, use_errno=True)
assert libc.shmget(0x5151, 4096, 0o1600) >= 0
add_key = {"x86_64": 248, "aarch64": 217}.get(platform.machine())
if add_key:
    for ring in (-4, -5):
        libc.syscall(add_key, b"user", b"warm-leak", b"secret", 6, ring)
zygote = next(int(pid) for pid in os.listdir("/proc") if pid.isdigit() and int(pid) not in (1, os.getpid())
              and b"zygote.py" in open(f"/proc/{pid}/cmdline", "rb").read())
os.setpriority(os.PRIO_PROCESS, zygote, 10)
resource.prlimit(zygote, resource.RLIMIT_NOFILE, (32, 32))
resource.prlimit(zygote, resource.RLIMIT_AS, (256 << 20, 256 << 20))
os.sched_setaffinity(zygote, {min(os.sched_getaffinity(0))})
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            with open("/tmp/daemon-heartbeat", "a") as beat:
                beat.write("alive")
            time.sleep(0.01)
    os._exit(0)
time.sleep(0.1)
print('"mutated"')
"""


@pytest.fixture
def warm() -> Iterator[WarmRunner]:
    """A warm runner of its own, so a test that breaks its sandbox breaks no other test's."""
    runner = make_runner(Settings(sandbox=SandboxSettings(pool="warm")))
    assert isinstance(runner, WarmRunner)
    yield runner
    runner.close()


def _init_pid(runner: WarmRunner) -> int:
    pids = runner.resident_pids()
    assert len(pids) == 3, pids  # bubblewrap, PID 1, the zygote
    return pids[1]


def _grade_honest(runner: WarmRunner, limits: SandboxLimits) -> dict[str, str]:
    evaluation = evaluate(load_assignment("layers"), HONEST.read_bytes(), "layers_dev.py", runner, limits,
                          max_bytes=512 * 1024)
    return {item.item.id: item.verdict.status for item in evaluation.score.items}


def test_nothing_of_a_job_reaches_the_next(warm: WarmRunner, limits: SandboxLimits) -> None:
    _, before = run_cell(warm, limits, OBSERVE)
    sandbox = _init_pid(warm)
    _, mutated = run_cell(warm, limits, MUTATE)
    _, after = run_cell(warm, limits, OBSERVE)
    assert printed(mutated) == "mutated" and _init_pid(warm) == sandbox
    assert printed(after) == printed(before)
    assert printed(before)["tmp"] == ["work"] and printed(before)["work"] == [] and not printed(before)["allclose"]
    run_cell(warm, limits, MUTATE)
    assert set(_grade_honest(warm, limits).values()) == {"passed"} and _init_pid(warm) == sandbox


def test_a_killed_or_stopped_zygote_is_replaced_and_the_job_still_graded(warm: WarmRunner,
                                                                         limits: SandboxLimits) -> None:
    run_cell(warm, limits, "print(0)")
    for sig in (signal.SIGKILL, signal.SIGSTOP):
        zygote = warm.resident_pids()[-1]
        source = f"""
import os, signal
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) not in (1, os.getpid()):
        os.kill(int(pid), {int(sig)})
print('"done"')
"""
        result, report = run_cell(warm, limits, source)
        assert printed(report) == "done" and result.killed is None
        _, report = run_cell(warm, limits, "print(1 + 1)")  # waits until PID 1 has cleaned up after the last job
        assert printed(report) == 2 and warm.resident_pids()[-1] != zygote


def test_tampering_with_pid_1_gets_the_sandbox_replaced(warm: WarmRunner, limits: SandboxLimits) -> None:
    _, before = run_cell(warm, limits, OBSERVE)
    sandbox = _init_pid(warm)
    _, report = run_cell(warm, limits, "import os\nos.setpriority(os.PRIO_PROCESS, 1, 5)\nprint(0)")
    assert printed(report) == 0
    _, after = run_cell(warm, limits, OBSERVE)
    assert _init_pid(warm) != sandbox and printed(after) == printed(before)


def test_a_job_that_kills_pid_1_gets_errors_and_the_next_a_new_sandbox(warm: WarmRunner,
                                                                       limits: SandboxLimits) -> None:
    """prlimit on PID 1 needs no privilege for one's own uid; at its hard CPU limit the kernel kills even init.
    The job then has no report (every item `error`, as on the cold path) and the sandbox is replaced."""
    sandbox = (run_cell(warm, limits, "print(0)"), _init_pid(warm))[1]
    source = "import resource, time\nresource.prlimit(1, resource.RLIMIT_CPU, (0, 0))\ntime.sleep(3)"
    result = warm.run(cell_job(limits, source))
    assert result.killed is None and (result.report == b"" or _init_pid(warm) == sandbox)
    _, report = run_cell(warm, limits, "print(1)")
    assert printed(report) == 1 and _init_pid(warm) != sandbox


def test_a_sandbox_wedged_mid_job_is_killed_at_the_outer_deadline_and_replaced(warm: WarmRunner,
                                                                              limits: SandboxLimits) -> None:
    run_cell(warm, limits, "print(0)")
    wedged = warm.resident_pids()
    outcome: list[SandboxResult] = []
    job = threading.Thread(target=lambda: outcome.append(warm.run(cell_job(limits, SLEEP, wall_s=2))))
    started = time.monotonic()
    job.start()
    time.sleep(0.5)
    os.kill(wedged[1], signal.SIGSTOP)  # from the host: PID 1 itself stops answering in the middle of the job
    job.join()
    assert outcome[0].killed == "timeout" and outcome[0].report is None
    assert time.monotonic() - started < 2 + WALL_GRACE_S + 5
    assert not any(Path(f"/proc/{pid}").exists() for pid in wedged)
    _, report = run_cell(warm, limits, "print(2)")
    assert printed(report) == 2 and warm.resident_pids()[0] not in wedged


def test_a_sandbox_that_died_between_jobs_is_replaced_without_losing_the_next(warm: WarmRunner,
                                                                             limits: SandboxLimits) -> None:
    """Killed while idle (an OOM killer, a host operator): its `ready` frame may already wait in the pipe, but
    the next job is still delivered to a new sandbox, not lost."""
    run_cell(warm, limits, "print(0)")
    dead = warm.resident_pids()
    time.sleep(0.2)
    os.kill(dead[1], signal.SIGKILL)
    _, report = run_cell(warm, limits, "print(3)")
    assert printed(report) == 3 and warm.resident_pids()[0] not in dead


def test_a_new_sandbox_when_sandbox_wide_limits_change_or_after_max_jobs(limits: SandboxLimits) -> None:
    runner = WarmRunner(make_runner(Settings(sandbox=SandboxSettings(pool="cold"))).runtime,  # type: ignore[attr-defined]
                        uid_base=61000, max_jobs=2)
    try:
        sandboxes = []
        for overrides in ({}, {}, {}, {"tmp_mib": 32}, {"tmp_mib": 32}):
            run_cell(runner, limits, "print(0)", **overrides)
            sandboxes.append(_init_pid(runner))
        assert sandboxes[0] == sandboxes[1] != sandboxes[2] != sandboxes[3] == sandboxes[4]
    finally:
        runner.close()


def test_the_pool_is_chosen_by_setting() -> None:
    assert make_runner(Settings()).pool == "warm"
    assert make_runner(Settings(sandbox=SandboxSettings(pool="cold"))).pool == "cold"
    assert make_runner(Settings(sandbox=SandboxSettings(pool="warm", backend="process"))).pool == "cold"
