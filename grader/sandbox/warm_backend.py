"""The warm path: each worker process keeps one bubblewrap sandbox alive and sends it job after job.

Same namespaces, mounts, limits and uid lease as the cold path (it is a BwrapRunner); what differs is that
the sandbox outlives a job. Inside, PID 1 forks every job's workspace from a zygote that has numpy, matplotlib
and tinytorch imported and never runs student code, ends every process of a job before it reports, and wipes
what the job could write before the next one; see harness/main.py.
"""

import atexit
import contextlib
import os
import threading
import weakref

from grader.errors import SandboxFailure
from grader.sandbox import warm_sandbox
from grader.sandbox.bwrap_backend import BwrapRunner
from grader.sandbox.job import SandboxJob, SandboxLimits, SandboxResult
from grader.sandbox.runtime import Runtime
from grader.sandbox.warm_sandbox import NotDelivered, WarmSandbox, sandbox_shape

_LIVE: "weakref.WeakSet[WarmRunner]" = weakref.WeakSet()


def live_runners() -> list["WarmRunner"]:
    """Every warm runner of this process (they share the process's uid, so a check of that uid's processes
    must know all their sandboxes)."""
    return list(_LIVE)


class WarmRunner(BwrapRunner):
    """Runs jobs in a long-lived sandbox, one at a time, replacing it when it dies, overruns, asks to be
    recycled, served `max_jobs` jobs, or a job needs other sandbox-wide limits."""

    pool = "warm"

    def __init__(self, runtime: Runtime, *, uid_base: int, uid_count: int = 1000, max_jobs: int = 1000) -> None:
        super().__init__(runtime, uid_base=uid_base, uid_count=uid_count)
        self.max_jobs = max(1, max_jobs)
        self._sandbox: WarmSandbox | None = None
        self._lock = threading.Lock()
        _LIVE.add(self)
        atexit.register(self.close)

    def run(self, job: SandboxJob) -> SandboxResult:
        """One job in the warm sandbox; a sandbox that overran or died is replaced before the next job, and one
        that died before it took this job is replaced for this job (SandboxFailure if that one dies too)."""
        with self._lock:
            try:
                return self._deliver(job)
            except NotDelivered:
                try:
                    return self._deliver(job)
                except NotDelivered as exc:
                    raise SandboxFailure(f"{exc}, twice in a row") from exc

    def start_ahead(self, limits: SandboxLimits) -> None:
        """Start the sandbox now, before its job exists, so its start overlaps the caller's own work; nothing of a
        job enters it before `run`. One that cannot start is left for `run`, which tries again and says why."""
        with self._lock:
            if self._sandbox is None:
                with contextlib.suppress(SandboxFailure):
                    self._sandbox = WarmSandbox.start(self, SandboxJob("", [], [], [], limits))

    def _deliver(self, job: SandboxJob) -> SandboxResult:
        sandbox = self._sandbox_for(job)
        try:
            return sandbox.run(job)
        finally:
            if not sandbox.alive:
                self._sandbox = None

    def _sandbox_for(self, job: SandboxJob) -> WarmSandbox:
        sandbox = self._sandbox
        if sandbox is not None and sandbox.owner != os.getpid():
            sandbox.abandon()
            sandbox = None
        reusable = sandbox is not None and sandbox.shape == sandbox_shape(job.limits) and \
            sandbox.jobs < self.max_jobs and (sandbox.ready or sandbox.await_ready(warm_sandbox.READY_TIMEOUT_S))
        if sandbox is not None and not reusable:
            sandbox.close()
            sandbox = None
        if sandbox is None:
            sandbox = WarmSandbox.start(self, job)
        self._sandbox = sandbox
        return sandbox

    def resident_pids(self) -> list[int]:
        """Host pids of the live warm sandbox's own processes (bubblewrap, its PID 1, the zygote)."""
        with self._lock:
            sandbox = self._sandbox
            return sandbox.resident_pids() if sandbox is not None and sandbox.owner == os.getpid() else []

    def close(self) -> None:
        """End the warm sandbox (the next job starts a new one)."""
        with self._lock:
            if self._sandbox is not None:
                self._sandbox.close()
                self._sandbox = None
