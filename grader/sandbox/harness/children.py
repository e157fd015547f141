"""PID 1's children: reaped and accounted on SIGCHLD, and all of a job's processes ended by `stop_all`.

Runs INSIDE the sandbox, in PID 1. As the namespace's init (or, without one, a subreaper) it adopts every
orphan, so a double-forked daemon is still its child to reap and count.
"""

import contextlib
import os
import signal
import time

import cleanup
from report import JobRecord
from zygote_link import ZygoteLink

STOP_PASSES = 200


class Children:
    """Exit statuses and CPU of this job's processes, and the usage they add to its record."""

    def __init__(self, zygote: ZygoteLink, *, pid_namespace: bool) -> None:
        self.zygote = zygote
        self.pid_namespace = pid_namespace
        read, write = os.pipe()
        os.set_blocking(read, False)
        os.set_blocking(write, False)
        signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.wakeup_fd = read
        self.record: JobRecord | None = None
        self.status: dict[int, int] = {}
        self.cpu: dict[int, float] = {}
        self.groups: list[int] = []

    def begin(self, record: JobRecord) -> None:
        self.record = record
        self.status.clear()
        self.cpu.clear()
        self.groups.clear()

    def watch(self, pid: int, record: JobRecord) -> None:
        """A workspace of the job: its process group is ended with it even where there is no PID namespace."""
        self.record = record
        self.groups.append(pid)

    def reap(self) -> None:
        """Reap every exited child; the zygote's death is noted, everything else is the job's usage."""
        with contextlib.suppress(OSError):
            while os.read(self.wakeup_fd, 4096):
                pass
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.zygote.pid:
                self.zygote.exited(pid)
                continue
            cpu = usage.ru_utime + usage.ru_stime
            self.status[pid], self.cpu[pid] = status, cpu
            if self.record is not None:
                self.record.add_usage(cpu, usage.ru_maxrss)

    def stop_all(self) -> None:
        """End every process of the job (never the zygote, unless a fork bomb leaves no other way) and reap it."""
        if self.pid_namespace:
            keep = {self.zygote.pid} if self.zygote.pid is not None else set()
            if not cleanup.sweep_namespace(keep, self.reap):
                cleanup.kill_all_but_self(self.reap)
            return
        for group in self.groups:
            for kill in (os.killpg, os.kill):
                with contextlib.suppress(OSError):
                    kill(group, signal.SIGKILL)
        self._stop_adopted()

    def _stop_adopted(self) -> None:
        """Without a PID namespace: kill our own children (adopted orphans included) until only the zygote is left."""
        me = os.getpid()
        for _ in range(STOP_PASSES):
            self.reap()
            try:
                with open(f"/proc/{me}/task/{me}/children") as handle:
                    pids = [int(pid) for pid in handle.read().split()]
            except OSError:
                return
            others = [pid for pid in pids if pid != self.zygote.pid]
            if not others:
                return
            for pid in others:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.001)
