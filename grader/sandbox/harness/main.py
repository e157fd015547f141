"""Harness entry point, PID 1 of the sandbox: one job in and one report out, or (--serve) job after job, warm.

With --serve, framed jobs are answered one at a time until the host closes stdin.

Runs INSIDE the sandbox and never executes student code: every job runs in a fresh fork of the zygote, a
child interpreter with the libraries already imported. It is still inside the sandbox, so the grader treats
its reports as untrusted data.
"""

import contextlib
import ctypes
import json
import os
import signal
import sys
from typing import Any

HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))
for _entry in [HARNESS_DIR, *filter(None, os.environ.get("HARNESS_PATH", "").split(":"))]:
    if _entry not in sys.path:
        sys.path.insert(0, _entry)

import cleanup  # noqa: E402
import protocol  # noqa: E402
from children import Children  # noqa: E402
from supervisor import JobSupervisor  # noqa: E402
from zygote_link import ZygoteLink, fingerprint  # noqa: E402

PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 4, 36
FIRST_FREE_FD = 3
MAX_FD = 65536
SCRATCH = "/tmp"


def _prctl(option: int, value: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(option, value, 0, 0, 0)


class Sandbox:
    """The sandbox as PID 1 keeps it: the zygote, the children, and the state every job must find it in."""

    def __init__(self) -> None:
        # Sweeping /proc and wiping /tmp are only ever safe as the init of our own namespace, whatever the
        # environment says: outside one, /proc and /tmp are the host's.
        self.pid_namespace = os.environ.get("HARNESS_PID_NAMESPACE") == "1" and os.getpid() == 1
        self.workdir = os.path.join(SCRATCH, "work") if self.pid_namespace else os.getcwd()
        self.scratch_mode = os.stat(SCRATCH).st_mode & 0o7777 if self.pid_namespace else 0
        os.chdir("/")
        self.zygote = ZygoteLink()
        self.children = Children(self.zygote, pid_namespace=self.pid_namespace)
        self.zygote.ensure()
        self.baseline = fingerprint(os.getpid())
        self.clean = True

    def run(self, job_bytes: bytes) -> tuple[dict[str, Any], bytes]:
        """One job, in a prepared sandbox, to its account and report; every process of it has ended by then."""
        job = json.loads(job_bytes)
        supervisor = JobSupervisor(job, job_bytes, self.zygote, self.children, self.workdir)
        self.children.begin(supervisor.record)
        ended, exit_status = supervisor.run()
        self.children.record = None
        return supervisor.record.account(ended, exit_status), supervisor.record.report(ended, exit_status)

    def prepare(self) -> bool:
        """A zygote ready to fork and a fresh private work dir, nothing of an earlier job anywhere it could write;
        False if the sandbox cannot promise that (the job must then go elsewhere)."""
        self.zygote.ensure()
        if self.pid_namespace:
            self.clean = cleanup.wipe(SCRATCH, self.scratch_mode) and self.clean
            if self.clean:
                os.mkdir(self.workdir, 0o700)
        return self.clean

    def settle(self) -> bool:
        """After a job: wipe what it may have left; False if this sandbox can no longer promise a clean next job.
        Without a namespace of our own there is nothing of ours to wipe, and no promise: never serve twice."""
        if not self.pid_namespace:
            return False
        self.clean = all([cleanup.wipe(SCRATCH, self.scratch_mode), cleanup.clear_ipc(), cleanup.clear_keyrings(),
                          fingerprint(os.getpid()) == self.baseline]) and self.clean
        self.zygote.ensure()
        return self.clean


def _serve(sandbox: Sandbox) -> None:
    """Framed jobs in; `accepted`, an account, the report and, once the sandbox is clean again, `ready` out,
    until the host closes our stdin. `accepted` tells the host that a job was taken (a sandbox that dies before
    that ran nothing of it, as does one that cannot be prepared for it); the account spares the host a parse of a
    large report for its own record."""
    report_fd = os.dup(1)
    protocol.send(report_fd, {"kind": "ready", "recycle": False})
    while True:
        job_bytes = protocol.read_frame(0)
        if job_bytes is None or not sandbox.prepare():
            return
        protocol.send(report_fd, {"kind": "accepted"})
        account, report = sandbox.run(job_bytes)
        protocol.send(report_fd, account)
        protocol.send_bytes(report_fd, report)
        clean = sandbox.settle()
        protocol.send(report_fd, {"kind": "ready", "recycle": not clean})


def _once(sandbox: Sandbox) -> None:
    """The cold path: the whole of stdin is one job; the report is the whole of stdout."""
    job_bytes = sys.stdin.buffer.read()
    report_fd = os.dup(1)
    if not sandbox.prepare():
        raise RuntimeError("the new sandbox could not be prepared")
    _, report = sandbox.run(job_bytes)
    sandbox.zygote.kill()
    protocol.write_all(report_fd, report)
    os.close(report_fd)


def main() -> None:
    """Under bubblewrap this is PID 1 of the namespace: signals from student code cannot stop or kill it."""
    _prctl(PR_SET_DUMPABLE, 0)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.closerange(FIRST_FREE_FD, MAX_FD)
    serve = "--serve" in sys.argv[1:]
    sandbox = Sandbox()
    if serve:
        _serve(sandbox)
    else:
        _once(sandbox)


if __name__ == "__main__":
    main()
