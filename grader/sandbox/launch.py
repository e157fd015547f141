"""Start the harness under OS limits, feed it the job, and collect its capped report and resource use."""

import contextlib
import json
import os
import resource
import select
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from grader.sandbox.job import SandboxJob, SandboxLimits, SandboxResult

MIB = 1024 * 1024
WALL_GRACE_S = 5.0
EXIT_WAIT_S = 10.0
DIAGNOSTICS_BYTES = 16384
MAX_ARGS_BYTES = 60_000


@dataclass(frozen=True)
class Launch:
    """What to exec. For bubblewrap, its own arguments go through a pipe (`--args`) and it reports its
    init's pid (`--info-fd`), so a timeout can end the whole PID namespace and wait until it is gone."""

    argv: list[str]
    bwrap_args: list[str] | None = None
    command: list[str] = field(default_factory=list)


@dataclass
class _Collected:
    """What the outer side read: the capped report, the head of stderr, and bubblewrap's info."""

    report: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    info: bytearray = field(default_factory=bytearray)
    init_pidfd: int | None = None


def job_cpu_cap(job: SandboxJob) -> int:
    """CPU seconds a whole run may use, per process: the notebook's import and every unit's limit, plus slack."""
    return int(job.limits.cpu_s + sum(unit.per_test_cpu_s for unit in job.unit_limits().values())) + 5


def limit_setter(limits: SandboxLimits, cpu_cap: int) -> Callable[[], None]:
    """rlimits applied in the child before exec; every process of the sandbox inherits them."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_cap, cpu_cap + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mib * MIB, limits.memory_mib * MIB))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.max_file_mib * MIB, limits.max_file_mib * MIB))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.max_open_files, limits.max_open_files))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_MEMLOCK, (0, 0))
        resource.setrlimit(resource.RLIMIT_MSGQUEUE, (0, 0))

    return apply


def spawn(spec: Launch, env: dict[str, str], preexec: Callable[[], None],
          cwd: str) -> tuple[subprocess.Popen[bytes], int | None]:
    """Start the process; for bubblewrap, also the argument pipe and the info pipe (its read end returned)."""
    argv, pass_fds, info_read = list(spec.argv), [], None
    if spec.bwrap_args is not None:
        payload = b"".join(arg.encode() + b"\0" for arg in spec.bwrap_args)
        if len(payload) > MAX_ARGS_BYTES:
            raise ValueError("bubblewrap arguments do not fit in one pipe buffer")
        args_read, args_write = os.pipe()
        info_read, info_write = os.pipe()
        os.write(args_write, payload)
        os.close(args_write)
        pass_fds = [args_read, info_write]
        argv += ["--info-fd", str(info_write), "--args", str(args_read), "--"]
    argv += spec.command
    try:
        process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
            preexec_fn=preexec, start_new_session=True, close_fds=True, pass_fds=pass_fds,
        )
    except BaseException:
        if info_read is not None:
            os.close(info_read)
        raise
    finally:
        for fd in pass_fds:
            os.close(fd)
    return process, info_read


def init_pid(info: bytes) -> int | None:
    """The host pid of the namespace's init, once bubblewrap's info document is complete."""
    try:
        return int(json.loads(info)["child-pid"])
    except (ValueError, KeyError, TypeError):
        return None


def _note_init(collected: _Collected) -> None:
    """Once bubblewrap has said which pid its namespace init has, hold a pidfd to it (immune to pid reuse)."""
    if collected.init_pidfd is not None:
        return
    pid = init_pid(bytes(collected.info))
    if pid is None:
        return
    with contextlib.suppress(OSError):
        collected.init_pidfd = os.pidfd_open(pid)


def _pump(process: subprocess.Popen[bytes], info_fd: int | None, cap: int, deadline: float,
          collected: _Collected) -> str | None:
    """Read report, stderr and info together until both outputs close; say which limit ended it, if any.

    Reading stderr alongside the report means a flood on the harness's stderr can never block the run.
    """
    assert process.stdout is not None and process.stderr is not None
    out_fd, err_fd = process.stdout.fileno(), process.stderr.fileno()
    open_fds = {out_fd, err_fd} | ({info_fd} if info_fd is not None else set())
    while out_fd in open_fds or err_fd in open_fds:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "timeout"
        ready, _, _ = select.select(list(open_fds), [], [], remaining)
        for fd in ready:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                open_fds.discard(fd)
            elif fd == out_fd:
                collected.report.extend(chunk)
                if len(collected.report) > cap:
                    return "output"
            elif fd == err_fd:
                collected.stderr.extend(chunk[: max(0, DIAGNOSTICS_BYTES - len(collected.stderr))])
            else:
                collected.info.extend(chunk[:4096])
                _note_init(collected)
    return None


def _wait_exit(pid: int, timeout: float) -> bool:
    """Whether the process exited within the timeout (it stays unreaped)."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([pidfd], [], [], timeout)
        return bool(ready)
    finally:
        os.close(pidfd)


def _stop(process: subprocess.Popen[bytes], collected: _Collected) -> None:
    """Kill the namespace's init: the kernel then kills every process in it before bubblewrap can exit."""
    if collected.init_pidfd is not None:
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(collected.init_pidfd, signal.SIGKILL)
    else:
        _kill_group(process)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)


def _cpu_stopped(data: dict[str, Any], cpu_s: float) -> bool:
    """The notebook's import ended by its CPU limit: SIGXCPU, or SIGKILL at the hard limit (SIGXCPU ignored)."""
    setup, usage = data.get("setup"), data.get("usage")
    if not isinstance(setup, dict) or setup.get("status") == "ok":
        return False
    used = usage.get("cpu_s") if isinstance(usage, dict) else None
    near_limit = isinstance(used, (int, float)) and used >= cpu_s - 0.5
    return data.get("exit") == "signal 24" or (data.get("exit") == "signal 9" and near_limit)


def reported_stop(report: bytes, cpu_s: float) -> str | None:
    """The run-wide limit the harness says stopped the run, for the record only (the judge re-reads strictly)."""
    try:
        data = json.loads(report)
    except ValueError:
        return None
    return account_stop(data, cpu_s)


def account_stop(data: Any, cpu_s: float) -> str | None:
    """The same, from the parsed report or from the small account a warm sandbox sends ahead of it."""
    if not isinstance(data, dict):
        return None
    if data.get("ended") == "timeout" or _cpu_stopped(data, cpu_s):
        return "timeout"
    cells = data.get("cells")
    errors = [c.get("error") for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []
    if any(isinstance(e, dict) and e.get("type") == "MemoryError" for e in errors):
        return "memory"
    return None


def _feed(process: subprocess.Popen[bytes], job: SandboxJob) -> None:
    assert process.stdin is not None
    try:
        process.stdin.write(json.dumps(job.to_wire()).encode())
        process.stdin.close()
    except BrokenPipeError:
        pass


def launch(spec: Launch, env: dict[str, str], job: SandboxJob, cwd: str) -> SandboxResult:
    """Run one sandboxed harness to completion; never raises for anything the student did.

    When this returns, no process of the run is left: the harness (or, on a limit, the outer side) ended the
    namespace's init, and bubblewrap only exits after the kernel has reaped everything in it.
    """
    started = time.monotonic()
    process, info_fd = spawn(spec, env, limit_setter(job.limits, job_cpu_cap(job)), cwd)
    collected = _Collected()
    try:
        _feed(process, job)
        killed = _pump(process, info_fd, job.limits.report_bytes, started + job.limits.wall_s + WALL_GRACE_S,
                       collected)
        if killed:
            _stop(process, collected)
        if not _wait_exit(process.pid, EXIT_WAIT_S):
            _stop(process, collected)
        _kill_group(process)  # before the reap: until then the group's id cannot belong to anyone else
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = status
    finally:
        for fd in (info_fd, collected.init_pidfd):
            if fd is not None:
                os.close(fd)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    report = None if killed else bytes(collected.report)
    return SandboxResult(
        report=report,
        wall_s=round(time.monotonic() - started, 4),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 4),
        max_rss_mib=round(usage.ru_maxrss / 1024, 1),
        killed=killed or (reported_stop(report, job.limits.cpu_s) if report else None),
        exit=f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.WEXITSTATUS(status)}",
        diagnostics=collected.stderr.decode("utf-8", "replace"),
        sandbox_started=True,
    )
