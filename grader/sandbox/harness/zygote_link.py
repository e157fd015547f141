"""PID 1's handle on the zygote: start it, ask it for a workspace, and replace it when it is dead or tampered with.

Runs INSIDE the sandbox, in PID 1. The zygote shares the workspaces' uid, so a submission can signal it or
change its scheduling and rlimits (setpriority, sched_setaffinity, prlimit need no privilege for one's own
uid). Every workspace inherits those, so a zygote that is not exactly as it started is never forked again.
"""

import contextlib
import os
import resource
import select
import signal
import socket
import struct
import sys
from typing import Any

ZYGOTE_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zygote.py")
SOCKET_FD = 3
MAX_FD = 65536
PID = struct.Struct("=i")
START_TIMEOUT_S = 300.0
FORK_TIMEOUT_S = 30.0
RLIMITS = sorted(value for name, value in vars(resource).items() if name.startswith("RLIMIT_"))


def fingerprint(pid: int) -> tuple[Any, ...] | None:
    """What a process hands down to its forks that a same-uid process can change; None if it is gone or stopped."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rpartition(b")")[2].split()[0]
        if state not in (b"R", b"S", b"D"):
            return None
        return (os.getpriority(os.PRIO_PROCESS, pid), os.sched_getscheduler(pid),
                tuple(sorted(os.sched_getaffinity(pid))), tuple(resource.prlimit(pid, r) for r in RLIMITS))
    except (OSError, IndexError):
        return None


class ZygoteLink:
    """The live zygote, its link, and what it looked like when it became ready."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.link: socket.socket | None = None
        self.baseline: tuple[Any, ...] | None = None

    def _spawn(self) -> None:
        """A fresh interpreter (fork, then exec): PID 1's own memory holds other jobs' data and must not be copied."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            try:
                devnull = os.open(os.devnull, os.O_RDWR)
                for target, fd in ((0, devnull), (1, devnull), (SOCKET_FD, theirs.fileno())):
                    os.dup2(fd, target)
                os.closerange(SOCKET_FD + 1, MAX_FD)
                os.execv(sys.executable, [sys.executable, "-I", "-S", ZYGOTE_SCRIPT])
            finally:
                os._exit(127)
        theirs.close()
        self.pid, self.link = pid, ours
        if self._receive(START_TIMEOUT_S) != b"ready":
            self.kill()
            raise RuntimeError("the zygote did not start")
        self.baseline = fingerprint(pid)

    def _receive(self, timeout: float) -> bytes | None:
        assert self.link is not None
        ready, _, _ = select.select([self.link], [], [], timeout)
        if not ready:
            return None
        with contextlib.suppress(OSError):
            return self.link.recv(64)
        return None

    def healthy(self) -> bool:
        return self.pid is not None and self.baseline is not None and fingerprint(self.pid) == self.baseline

    def ensure(self) -> bool:
        """Make sure a healthy zygote is waiting; True if it had to be replaced."""
        if self.healthy():
            return False
        self.kill()
        self._spawn()
        return True

    def fork(self, fds: list[int]) -> int:
        """A new workspace holding `fds` as 0..3; its pid. A zygote that does not answer is replaced once."""
        for _ in range(2):
            self.ensure()
            assert self.link is not None
            try:
                socket.send_fds(self.link, [b"fork"], fds)
                reply = self._receive(FORK_TIMEOUT_S)
            except OSError:
                reply = None
            if reply is not None and len(reply) == PID.size:
                return int(PID.unpack(reply)[0])
            self.kill()
        raise RuntimeError("the zygote did not fork a workspace")

    def exited(self, pid: int) -> None:
        """PID 1 reaped `pid`; forget the zygote if it was the one."""
        if pid == self.pid:
            self.pid = None
            self.close_link()

    def close_link(self) -> None:
        if self.link is not None:
            self.link.close()
            self.link = None

    def kill(self) -> None:
        """End and reap the zygote (a SIGKILLed process dies at once, stopped or not)."""
        if self.pid is not None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.pid = None
        self.close_link()
