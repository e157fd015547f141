"""PID 1's supervision of one job: workspaces forked from the zygote, every limit enforced from outside them.

A workspace that overruns a unit's limits, or that a unit ends, is replaced by a new one that continues with the
next unit, until each unit has run or the job's wall clock is spent.

Runs INSIDE the sandbox, in PID 1, which never runs student code: a workspace cannot stop, kill or trace it.
"""

import contextlib
import fcntl
import os
import select
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import protocol
from children import Children
from report import JobRecord
from zygote_link import ZygoteLink

READ_BYTES = 1 << 20
DRAIN_TIMEOUT_S = 2.0
FRAMES_PIPE_BYTES = 1 << 20  # a large result crosses in one write, not in 64 KiB turns
TICKS = os.sysconf("SC_CLK_TCK")
CPUS = max(1, len(os.sched_getaffinity(0)))


def main_thread_cpu(pid: int) -> float:
    """User plus system CPU seconds of a workspace's main thread, where cells and units run.

    Only the main thread: a thread that the cells left spinning would otherwise be charged to every unit, which
    the forked units of the cold path never were. All threads together stay under the job's RLIMIT_CPU.
    """
    try:
        with open(f"/proc/{pid}/task/{pid}/stat", "rb") as handle:
            fields = handle.read().rpartition(b")")[2].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def describe_exit(status: int | None) -> str:
    if status is None:
        return "exit 0"
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit {os.WEXITSTATUS(status)}"


@dataclass
class Workspace:
    """One workspace process of the job (the first, or a replacement that resumes at unit `start`)."""

    pid: int
    start: int
    fds: dict[int, str]
    reader: protocol.FrameReader = field(default_factory=protocol.FrameReader)
    announced: int | None = None
    unit_cpu: float = 0.0
    unit_used: float = 0.0
    unit_started: float = 0.0
    next_check: float = 0.0
    done: bool = False


class JobSupervisor:
    """Runs one job to its report; the caller has already prepared a clean sandbox."""

    def __init__(self, job: dict[str, Any], job_bytes: bytes, zygote: ZygoteLink, children: Children,
                 workdir: str) -> None:
        self.job, self.job_bytes = job, job_bytes
        self.limits = job["limits"]
        self.zygote, self.children, self.workdir = zygote, children, workdir
        self.record = JobRecord(job)
        self.unit_limits = [unit.get("limits") or self.limits for unit in [*job["tests"], *job["probes"]]]
        self.setup_seen = False

    def run(self) -> tuple[str, str]:
        """Workspace after workspace until every unit has run, the setup failed, or the wall clock is spent;
        how the job ended and how its last workspace exited (the record holds the rest of the report)."""
        deadline = time.monotonic() + float(self.limits["wall_s"])
        resume: int | None = 0
        while resume is not None:
            workspace = self._spawn(resume)
            why = self._watch(workspace, deadline)
            self.children.stop_all()
            self._drain(workspace)
            status = self.children.status.get(workspace.pid)
            if why == "timeout":
                return "timeout", describe_exit(status)
            resume = self._close(workspace, why, status)
        return "exited", describe_exit(status)

    def _spawn(self, start: int) -> Workspace:
        """Fork a workspace with its job on a memfd (fd 0) and fresh pipes for stdout, stderr and frames."""
        control = {"start": start, "supervisor": os.getpid(), "workdir": self.workdir,
                   "ended_without_result": self.record.ended_without_result()}
        job_fd = os.memfd_create("job")
        protocol.send(job_fd, control)
        protocol.send_bytes(job_fd, self.job_bytes)
        os.lseek(job_fd, 0, os.SEEK_SET)
        (frames_r, frames_w), (out_r, out_w), (err_r, err_w) = os.pipe(), os.pipe(), os.pipe()
        try:
            pid = self.zygote.fork([job_fd, out_w, err_w, frames_w])
        finally:
            for fd in (job_fd, out_w, err_w, frames_w):
                os.close(fd)
        for fd in (frames_r, out_r, err_r):
            os.set_blocking(fd, False)
        with contextlib.suppress(OSError):
            fcntl.fcntl(frames_r, fcntl.F_SETPIPE_SZ, FRAMES_PIPE_BYTES)
        self.children.watch(pid, self.record)
        now = time.monotonic()
        budget = float(self.limits["setup_cpu_s"])
        return Workspace(pid=pid, start=start, fds={frames_r: "frames", out_r: "stdout", err_r: "stderr"},
                         next_check=now + _check_interval(budget))

    def _watch(self, workspace: Workspace, deadline: float) -> str:
        """Pump output and frames until the workspace exits or overruns: 'exited', 'cpu', 'wall' or 'timeout'."""
        wakeup = self.children.wakeup_fd
        while True:
            now = time.monotonic()
            if now >= deadline:
                return "timeout"
            if workspace.pid in self.children.status:
                return "exited"
            overrun = self._overrun(workspace, now)
            if overrun:
                return overrun
            wake_at = min(deadline, workspace.next_check, self._unit_wall_deadline(workspace))
            ready, _, _ = select.select([*workspace.fds, wakeup], [], [], max(0.0, wake_at - now))
            for fd in ready:
                if fd == wakeup:
                    self.children.reap()
                else:
                    self._read(workspace, fd)

    def _unit_wall_deadline(self, workspace: Workspace) -> float:
        if workspace.announced is None:
            return float("inf")
        return workspace.unit_started + self._unit_limit(workspace.announced, "per_test_wall_s")

    def _unit_limit(self, unit: int, name: str) -> float:
        """One of a unit's own limits: its override in the job when it has one, else the job's."""
        return float(self.unit_limits[unit][name])

    def _overrun(self, workspace: Workspace, now: float) -> str | None:
        """The limit the running unit (or the setup) went past, checked from /proc, never trusting the process."""
        if now >= self._unit_wall_deadline(workspace):
            return "wall"
        if now < workspace.next_check:
            return None
        unit = workspace.announced
        budget = float(self.limits["setup_cpu_s"]) if unit is None else self._unit_limit(unit, "per_test_cpu_s")
        workspace.unit_used = main_thread_cpu(workspace.pid) - workspace.unit_cpu
        remaining = budget - workspace.unit_used
        if remaining <= 0:
            return "cpu"
        workspace.next_check = now + _check_interval(remaining)
        return None

    def _read(self, workspace: Workspace, fd: int) -> None:
        try:
            chunk = os.read(fd, READ_BYTES)
        except BlockingIOError:
            return
        if not chunk:
            os.close(fd)
            del workspace.fds[fd]
        elif workspace.fds[fd] == "frames":
            self._frames(workspace, chunk)
        else:
            capture = self.record.stdout if workspace.fds[fd] == "stdout" else self.record.stderr
            capture.feed(chunk)

    def _frames(self, workspace: Workspace, chunk: bytes) -> None:
        reader = workspace.reader
        for message, body in reader.feed(chunk):
            unit = self.record.fold(message, body, first=workspace.start == 0)
            if message.get("kind") == "setup_done":
                self.setup_seen = True
            elif message.get("kind") == "done":
                workspace.done = True
            if unit is not None:
                self._announce(workspace, unit)
        if self.record.over_budget(reader):
            reader.corrupt = True
        self.record.corrupt = self.record.corrupt or reader.corrupt

    def _announce(self, workspace: Workspace, unit: str) -> None:
        """A workspace says it starts `unit`: close the unit before it and start this one's clocks."""
        ids = self.record.unit_ids
        index = ids.index(unit) if unit in ids else -1
        floor = workspace.start - 1 if workspace.announced is None else workspace.announced
        if index <= floor:
            return
        cpu, now = main_thread_cpu(workspace.pid), time.monotonic()
        if workspace.announced is not None:
            self.record.end_unit(ids[workspace.announced],
                                 {"ended": "exit", "code": 0, "cpu_s": round(cpu - workspace.unit_cpu, 4)})
        self.setup_seen = True
        workspace.announced, workspace.unit_cpu, workspace.unit_used, workspace.unit_started = index, cpu, 0.0, now
        workspace.next_check = now + _check_interval(self._unit_limit(index, "per_test_cpu_s"))

    def _drain(self, workspace: Workspace) -> None:
        """Everything the workspace wrote before it ended; every writer is gone, so each pipe reaches its end."""
        until = time.monotonic() + DRAIN_TIMEOUT_S
        while workspace.fds and time.monotonic() < until:
            ready, _, _ = select.select(list(workspace.fds), [], [], max(0.0, until - time.monotonic()))
            for fd in ready:
                self._read(workspace, fd)
        for fd in workspace.fds:
            os.close(fd)
        workspace.fds.clear()
        self.record.frame_bytes += workspace.reader.consumed

    def _close(self, workspace: Workspace, why: str, status: int | None) -> int | None:
        """Record how the workspace's unit ended; the unit to resume at, or None when the job is over."""
        if why == "exited" and workspace.done and status == 0:
            if workspace.announced is not None:
                self._end_unit(workspace, workspace.announced, why, status)
            return None
        if workspace.announced is not None:
            unit = workspace.announced
        elif self.setup_seen:
            unit = workspace.start
        else:
            return None
        if unit >= len(self.record.unit_ids):
            return None
        self._end_unit(workspace, unit, why, status)
        return unit + 1 if unit + 1 < len(self.record.unit_ids) else None

    def _end_unit(self, workspace: Workspace, unit: int, why: str, status: int | None) -> None:
        used = self.children.cpu.get(workspace.pid, 0.0) - (workspace.unit_cpu if workspace.announced == unit else 0.0)
        cpu = round(max(0.0, workspace.unit_used if why == "cpu" else used), 4)
        if why == "wall":
            ending: dict[str, Any] = {"ended": "wall", "cpu_s": cpu}
        elif why == "cpu" or status is None:
            ending = {"ended": "signal", "signal": int(signal.SIGKILL), "cpu_s": cpu}
        elif os.WIFSIGNALED(status):
            ending = {"ended": "signal", "signal": os.WTERMSIG(status), "cpu_s": cpu}
        else:
            ending = {"ended": "exit", "code": os.WEXITSTATUS(status), "cpu_s": cpu}
        self.record.end_unit(self.record.unit_ids[unit], ending)


def _check_interval(remaining_cpu: float) -> float:
    """When to look at a workspace's CPU again: it cannot use more than CPUS seconds per second of wall time."""
    return min(0.25, max(0.005, remaining_cpu / CPUS))
