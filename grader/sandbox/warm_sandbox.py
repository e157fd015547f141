"""One warm bubblewrap sandbox seen from the host: start it, trade a job for its report, end it.

The protocol is length-prefixed frames (harness/protocol.py) on the harness's stdin and stdout: a job in; then
`accepted`, an account (how the job ended, for the record), the report and `ready` out. Everything that comes
back is untrusted and capped like the cold path's.
"""

import contextlib
import json
import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from grader.errors import SandboxFailure
from grader.sandbox.bwrap_backend import BwrapRunner
from grader.sandbox.job import SandboxJob, SandboxLimits, SandboxResult
from grader.sandbox.launch import (
    DIAGNOSTICS_BYTES,
    EXIT_WAIT_S,
    WALL_GRACE_S,
    account_stop,
    init_pid,
    limit_setter,
    spawn,
)

HEADER_BYTES = 4
START_TIMEOUT_S = 120.0
READY_TIMEOUT_S = 30.0  # after a job: cleanup takes milliseconds, a new zygote a second or two
ACCEPT_TIMEOUT_S = 30.0  # PID 1 waits in a read for the next job; it takes one at once or is broken
READY_BYTES = 4096
# The supervisor and the zygote are harness code that lives for many jobs; every workspace sets its own job's cap.
SANDBOX_CPU_CAP_S = 7 * 24 * 3600
TICKS = os.sysconf("SC_CLK_TCK")


def sandbox_shape(limits: SandboxLimits) -> tuple[int, ...]:
    """The limits fixed when a sandbox starts (rlimits of every process, the tmpfs size): a job that asks for
    others gets a new sandbox. The CPU, wall and output limits are per job, enforced inside."""
    return (limits.memory_mib, limits.max_processes, limits.max_file_mib, limits.max_open_files, limits.tmp_mib)


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process and of its reaped descendants, from the host's /proc (10 ms resolution)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rpartition(b")")[2].split()
        return sum(int(value) for value in fields[11:15]) / TICKS
    except (OSError, ValueError, IndexError):
        return 0.0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(child) for child in handle.read().split()]
    except (OSError, ValueError):
        return []


def _account(body: bytes) -> dict[str, Any]:
    """The account PID 1 sends ahead of a report: how the job ended and its usage, for the record only."""
    with contextlib.suppress(ValueError):
        data = json.loads(body)
        if isinstance(data, dict):
            return data
    return {}


def _peak_rss(account: dict[str, Any]) -> float:
    """Peak memory of the job's processes as the sandbox's PID 1 measured them (the host cannot see them)."""
    usage = account.get("usage")
    value = usage.get("max_rss_mib") if isinstance(usage, dict) else None
    return float(value) if isinstance(value, (int, float)) else 0.0


class NotDelivered(Exception):
    """The sandbox died or hung before it took the job: nothing of the job ran, so it can go to a new one."""


@dataclass
class _Read:
    """What one wait for a frame came to: `frame` (with its body), `timeout`, `over` the cap, or `eof`."""

    outcome: str
    body: bytes = b""


class WarmSandbox:
    """A live warm sandbox and its pipes; one job at a time, from the process that started it."""

    def __init__(self, process: subprocess.Popen[bytes], info_fd: int | None, shape: tuple[int, ...],
                 uid: int | None = None) -> None:
        assert process.stdin is not None and process.stdout is not None and process.stderr is not None
        self.process, self.info_fd, self.shape, self.uid = process, info_fd, shape, uid
        self.owner = os.getpid()
        self.init_pid: int | None = None
        self.init_pidfd: int | None = None
        self.jobs = 0
        self.alive = True
        self.ready = False  # its `ready` frame read and no job sent since
        self._buffer, self._stderr, self._info = bytearray(), bytearray(), bytearray()
        self._out, self._err = process.stdout.fileno(), process.stderr.fileno()
        for fd in (self._out, self._err, process.stdin.fileno()):
            os.set_blocking(fd, False)

    @classmethod
    def start(cls, runner: BwrapRunner, job: SandboxJob, *, uid: int | None = None) -> "WarmSandbox":
        """A new sandbox for the job's package and shape, running as `uid` (default: the runner's), whose zygote
        is ready; SandboxFailure if it cannot start."""
        preexec = limit_setter(job.limits, SANDBOX_CPU_CAP_S)
        process, info_fd = spawn(runner.command(job, serve=True, uid=uid), runner.environment(), preexec, cwd="/")
        sandbox = cls(process, info_fd, sandbox_shape(job.limits), uid)
        if not sandbox.await_ready(START_TIMEOUT_S) or not sandbox._await_init(ACCEPT_TIMEOUT_S):
            diagnostics = sandbox.diagnostics().strip()[-300:]
            sandbox.kill()
            raise SandboxFailure(f"the warm sandbox did not start: {diagnostics or 'no diagnostics'}")
        return sandbox

    def diagnostics(self) -> str:
        return self._stderr.decode("utf-8", "replace")

    def await_ready(self, timeout: float) -> bool:
        """Wait for the `ready` frame PID 1 sends once the last job is cleaned up; False if it is unusable."""
        read = self._read_frame(time.monotonic() + timeout, READY_BYTES)
        self.ready = False
        if read.outcome != "frame":
            return False
        with contextlib.suppress(ValueError):
            message = json.loads(read.body)
            self.ready = isinstance(message, dict) and message.get("kind") == "ready" and \
                message.get("recycle") is False
        return self.ready

    def run(self, job: SandboxJob) -> SandboxResult:
        """Send one job and wait for its report under the job's wall limit (plus grace); never raises for the
        student. A sandbox that overran or died is killed here and marked dead; NotDelivered if it was dead
        before it could take the job."""
        self.jobs += 1
        self.ready = False
        before, started = self.cpu(), time.monotonic()
        deadline = started + job.limits.wall_s + WALL_GRACE_S
        sent = self._write(_frame(json.dumps(job.to_wire()).encode()), started + ACCEPT_TIMEOUT_S)
        accepted = self._read_frame(min(deadline, started + ACCEPT_TIMEOUT_S), READY_BYTES) if sent else _Read("eof")
        if accepted.outcome != "frame" or _account(accepted.body).get("kind") != "accepted":
            self.kill()
            raise NotDelivered("the warm sandbox did not take the job")
        account = self._read_frame(deadline, READY_BYTES)
        read = self._read_frame(deadline, job.limits.report_bytes) if account.outcome == "frame" else account
        cpu = round(max(0.0, self.cpu() - before), 4)
        if read.outcome == "frame":
            summary = _account(account.body)
            return SandboxResult(report=read.body, wall_s=round(time.monotonic() - started, 4), cpu_s=cpu,
                                 max_rss_mib=_peak_rss(summary), killed=account_stop(summary, job.limits.cpu_s),
                                 exit="warm", diagnostics=self.diagnostics())
        status = self.kill()
        wall = round(time.monotonic() - started, 4)
        if read.outcome == "eof":
            return SandboxResult(report=b"", wall_s=wall, cpu_s=cpu, max_rss_mib=0.0, killed=None, exit=status,
                                 diagnostics=self.diagnostics() + "\nthe warm sandbox ended during the job")
        killed = "timeout" if read.outcome == "timeout" else "output"
        return SandboxResult(report=None, wall_s=wall, cpu_s=cpu, max_rss_mib=0.0, killed=killed, exit=status,
                             diagnostics=self.diagnostics())

    def cpu(self) -> float:
        """CPU of the whole sandbox so far: PID 1 with everything it reaped, and its live children (the zygote)."""
        if self.init_pid is None:
            return 0.0
        return _tree_cpu(self.init_pid) + sum(_tree_cpu(child) for child in _children(self.init_pid))

    def resident_pids(self) -> list[int]:
        """Host pids of the sandbox's own processes: bubblewrap, PID 1 and the zygote."""
        if not self.alive:
            return []
        pids = [self.process.pid]
        if self.init_pid is not None:
            pids += [self.init_pid, *_children(self.init_pid)]
        return pids

    def _write(self, data: bytes, deadline: float) -> bool:
        assert self.process.stdin is not None
        fd, view = self.process.stdin.fileno(), memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([], [fd], [], remaining)[1]:
                return False
            try:
                view = view[os.write(fd, view):]
            except (BrokenPipeError, BlockingIOError):
                if not self.alive or self.process.poll() is not None:
                    return False
        return True

    def _read_frame(self, deadline: float, cap: int) -> _Read:
        """The next frame on stdout, reading stderr and bubblewrap's info alongside so neither can block."""
        while True:
            if len(self._buffer) >= HEADER_BYTES:
                length = int.from_bytes(self._buffer[:HEADER_BYTES], "big")
                if length > cap:
                    return _Read("over")
                if len(self._buffer) >= HEADER_BYTES + length:
                    body = bytes(self._buffer[HEADER_BYTES:HEADER_BYTES + length])
                    del self._buffer[:HEADER_BYTES + length]
                    return _Read("frame", body)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return _Read("timeout")
            fds = [self._out, self._err, *([self.info_fd] if self.info_fd is not None else [])]
            for fd in select.select(fds, [], [], remaining)[0]:
                if not self._pump(fd):
                    return _Read("eof")

    def _pump(self, fd: int) -> bool:
        """Read what one descriptor has; False once the harness's stdout has closed."""
        try:
            chunk = os.read(fd, 1 << 20)
        except BlockingIOError:
            return True
        if fd == self._out:
            self._buffer.extend(chunk)
            return bool(chunk)
        if fd == self._err:
            self._stderr.extend(chunk)
            del self._stderr[:-DIAGNOSTICS_BYTES]
        elif chunk:
            self._info.extend(chunk[:4096])
            self._note_init()
        else:
            self._close_info()
        return True

    def _note_init(self) -> None:
        """Hold a pidfd to the namespace's init as soon as bubblewrap names it: killing it is immune to pid reuse."""
        pid = init_pid(bytes(self._info))
        if pid is not None and self.init_pidfd is None:
            with contextlib.suppress(OSError):
                self.init_pidfd = os.pidfd_open(pid)
                self.init_pid = pid

    def _await_init(self, timeout: float) -> bool:
        """Read bubblewrap's info until it names the namespace's init (it normally has before PID 1 is ready)."""
        deadline = time.monotonic() + timeout
        while self.init_pidfd is None and self.info_fd is not None and time.monotonic() < deadline:
            if select.select([self.info_fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                self._pump(self.info_fd)
        return self.init_pidfd is not None

    def _close_info(self) -> None:
        if self.info_fd is not None:
            os.close(self.info_fd)
            self.info_fd = None

    def kill(self) -> str:
        """End the sandbox at once: killing its init makes the kernel end every process in it. How it ended."""
        if self.owner != os.getpid():
            self.abandon()
            return "abandoned"
        if self.init_pidfd is not None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self.init_pidfd, signal.SIGKILL)
                select.select([self.init_pidfd], [], [], EXIT_WAIT_S)  # readable once the namespace is empty
        try:
            self.process.wait(timeout=EXIT_WAIT_S)  # bubblewrap exits once its init has
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.abandon()
        status = self.process.returncode
        return f"signal {-status}" if status < 0 else f"exit {status}"

    def close(self) -> None:
        """Ask PID 1 to finish (end of stdin), and kill the sandbox if it does not within a second."""
        if self.alive and self.owner == os.getpid():
            assert self.process.stdin is not None
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=1.0)
            self.kill()
        self.abandon()

    def abandon(self) -> None:
        """Drop our descriptors without touching the processes (in a forked child, they are the parent's)."""
        self.alive = False
        self._close_info()
        if self.init_pidfd is not None:
            os.close(self.init_pidfd)
            self.init_pidfd = None
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()


def _frame(body: bytes) -> bytes:
    return len(body).to_bytes(HEADER_BYTES, "big") + body
