"""Harness entry point: reads a job on stdin, supervises the workspace, writes one JSON report on stdout.

Runs INSIDE the sandbox and never executes student code itself: the workspace it forks does. It is
still inside the sandbox, so the grader treats its report as untrusted data.
"""

import contextlib
import ctypes
import json
import os
import resource
import select
import signal
import sys
import time
from typing import Any

HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))
for _entry in [HARNESS_DIR, *filter(None, os.environ.get("HARNESS_PATH", "").split(":"))]:
    if _entry not in sys.path:
        sys.path.insert(0, _entry)

import protocol  # noqa: E402

PR_SET_DUMPABLE = 4
CHANNEL_FD = 3
MAX_FD = 65536
READ_BYTES = 1 << 20


class OutputCapture:
    """Keeps the head and tail of a stream and counts what was dropped between them."""

    def __init__(self, limit: int) -> None:
        self.half = max(1, limit // 2)
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def feed(self, chunk: bytes) -> None:
        room = self.half - len(self.head)
        if room > 0:
            self.head.extend(chunk[:room])
            chunk = chunk[room:]
        self.tail.extend(chunk)
        if len(self.tail) > self.half:
            self.dropped += len(self.tail) - self.half
            del self.tail[: len(self.tail) - self.half]

    def text(self) -> str:
        middle = f"\n... [{self.dropped} bytes of output dropped] ...\n" if self.dropped else ""
        return (bytes(self.head) + middle.encode() + bytes(self.tail)).decode("utf-8", "replace")


class Supervisor:
    """Collects the workspace's messages and output, enforcing the setup wall limit."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.job = job
        limit = int(job["limits"]["output_bytes"])
        self.stdout = OutputCapture(limit)
        self.stderr = OutputCapture(limit)
        self.frames = protocol.FrameReader()
        self.cells: list[dict[str, Any]] = []
        self.units: dict[str, dict[str, Any]] = {}
        self.setup = {"status": "running", "cell": None}
        self.finished = False

    def handle(self, message: dict[str, Any]) -> None:
        """Fold one frame into the report; frames are untrusted, so only known shapes count."""
        kind = message.get("kind")
        if kind == "cell_start":
            self.setup["cell"] = str(message.get("key"))
        elif kind == "cell_end":
            self.cells.append({"key": str(message.get("key")), "error": message.get("error")})
        elif kind == "setup_done":
            self.setup = {"status": "ok", "cell": None}
        elif kind in ("unit_start", "unit_result", "unit_end"):
            unit = self.units.setdefault(str(message.get("unit")), {})
            unit[kind] = message
        elif kind == "done":
            self.finished = True

    def run(self, pid: int, fds: tuple[int, int, int], deadline: float) -> tuple[str, int | None]:
        """Pump the streams until the workspace has exited and drained, or the wall deadline passes.

        A daemon the student left behind may hold the pipes open forever, so the workspace's exit,
        not the pipes closing, ends the run.
        """
        msg_r, out_r, err_r = fds
        streams = {msg_r: self.frames, out_r: self.stdout, err_r: self.stderr}
        open_fds = set(streams)
        status: int | None = None
        while open_fds:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout", status
            if status is None:
                status = _reap(pid)
            ready, _, _ = select.select(list(open_fds), [], [], 0 if status is not None else min(remaining, 0.05))
            if not ready and status is not None:
                break
            for fd in ready:
                chunk = os.read(fd, READ_BYTES)
                if not chunk:
                    open_fds.discard(fd)
                elif fd == msg_r:
                    for message in self.frames.feed(chunk):
                        self.handle(message)
                else:
                    streams[fd].feed(chunk)  # type: ignore[union-attr]
        return "exited", status

    def report(self, ended: str, exit_status: str) -> dict[str, Any]:
        return {
            "version": 1,
            "ended": ended,
            "exit": exit_status,
            "channel_corrupt": self.frames.corrupt,
            "setup": self.setup,
            "cells": self.cells,
            "units": self.units,
            "finished": self.finished,
            "stdout": self.stdout.text(),
            "stderr": self.stderr.text(),
            "usage": _children_usage(),
        }


def _children_usage() -> dict[str, float]:
    """CPU and peak memory of every reaped descendant, as seen from inside."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"cpu_s": round(usage.ru_utime + usage.ru_stime, 4), "max_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def _make_undumpable() -> None:
    """Student processes share our uid: stop them from reading our memory or our /proc fds."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _kill_everything_else(workspace_pid: int) -> None:
    """In our own PID namespace kill every other process; elsewhere the workspace's group."""
    if os.environ.get("HARNESS_PID_NAMESPACE") == "1":
        me = os.getpid()
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) not in (1, me):
                with contextlib.suppress(OSError):
                    os.kill(int(entry), signal.SIGKILL)
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(OSError):
            kill(workspace_pid, signal.SIGKILL)


def _reap(pid: int) -> int | None:
    """Reap every exited child (as the namespace's init, orphans are ours); the workspace's status if it exited."""
    status = None
    while True:
        try:
            waited, code = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return status
        if not waited:
            return status
        if waited == pid:
            status = code


def _describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit {os.WEXITSTATUS(status)}"


def _start_workspace(job: dict[str, Any], workdir: str) -> tuple[int, int, int, int]:
    """Fork the workspace with fresh pipes for frames, stdout and stderr."""
    import numpy  # noqa: F401  (imported before the fork so every child starts warm)
    from tinytorch.core.tensor import Tensor

    msg_r, msg_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.dup2(msg_w, CHANNEL_FD)
        os.closerange(CHANNEL_FD + 1, MAX_FD)
        import workspace

        workspace.workspace_main(job, CHANNEL_FD, workdir, Tensor)
    for fd in (msg_w, out_w, err_w):
        os.close(fd)
    return pid, msg_r, out_r, err_r


def main() -> None:
    """Under bubblewrap this is PID 1 of the run's namespace: signals from student code cannot stop or kill it."""
    _make_undumpable()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.closerange(CHANNEL_FD, MAX_FD)
    job = json.loads(sys.stdin.buffer.read())
    report_fd = os.dup(1)
    started = time.monotonic()
    pid, *fds = _start_workspace(job, os.getcwd())
    supervisor = Supervisor(job)
    ended, status = supervisor.run(pid, (fds[0], fds[1], fds[2]), started + float(job["limits"]["wall_s"]))
    _kill_everything_else(pid)
    if status is None:
        _, status = os.waitpid(pid, 0)
    report = supervisor.report(ended, _describe_exit(status))
    os.write(report_fd, json.dumps(report, allow_nan=False).encode())
    os.close(report_fd)


if __name__ == "__main__":
    main()
