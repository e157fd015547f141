"""The warm path: each worker process keeps a few bubblewrap sandboxes alive and sends them job after job.

Same namespaces, mounts, limits and uid lease as the cold path (it is a BwrapRunner); what differs is that a
sandbox outlives a job. Each warm sandbox serves one runtime (the job's package, by digest) and one sandbox shape;
the worker keeps up to `warm_runtimes` of them and ends the least recently used first, so a queue that mixes
assignments does not start a sandbox per job. Inside, PID 1 forks every job's workspace from a zygote that has
numpy, matplotlib and the package's pre-imports imported and never runs student code, ends every process of a
job before it reports, and wipes what the job could write before the next one; see harness/main.py.
"""

import atexit
import contextlib
import os
import threading
import weakref
from collections import OrderedDict
from dataclasses import replace

from grader.errors import SandboxFailure
from grader.sandbox import warm_sandbox
from grader.sandbox.bwrap_backend import BwrapRunner
from grader.sandbox.job import SandboxJob, SandboxLimits, SandboxResult
from grader.sandbox.package import PackageSpec
from grader.sandbox.runtime import Runtime
from grader.sandbox.uids import UidLease
from grader.sandbox.warm_sandbox import NotDelivered, WarmSandbox, sandbox_shape

_LIVE: "weakref.WeakSet[WarmRunner]" = weakref.WeakSet()
PoolKey = tuple[str, tuple[int, ...]]


def live_runners() -> list["WarmRunner"]:
    """Every warm runner of this process (a check of their uids' processes must know all their sandboxes)."""
    return list(_LIVE)


def pool_key(job: SandboxJob) -> PoolKey:
    """What a warm sandbox is kept for: the job's runtime (its package digest) and the sandbox-wide limits."""
    return job.package.digest, sandbox_shape(job.limits)


class WarmRunner(BwrapRunner):
    """Runs jobs in long-lived sandboxes, one job at a time, one sandbox per runtime and shape (at most
    `warm_runtimes`, least recently used ended first). A sandbox is replaced when it dies, overruns, asks to be
    recycled or served `max_jobs` jobs. Each sandbox runs as a uid of its own, so one's processes never count
    against another's process limit. `starts` counts the sandboxes (and so zygotes) this runner started."""

    pool = "warm"

    def __init__(self, runtime: Runtime, *, uid_base: int, uid_count: int = 1000, max_jobs: int = 1000,
                 warm_runtimes: int = 3) -> None:
        super().__init__(runtime, uid_base=uid_base, uid_count=uid_count)
        self.max_jobs = max(1, max_jobs)
        self.warm_runtimes = max(1, warm_runtimes)
        self.starts = 0
        self._leases = [self.uids] + [UidLease(uid_base, uid_count, self.uids.lock_dir)
                                      for _ in range(self.warm_runtimes - 1)]
        self._pool: OrderedDict[PoolKey, WarmSandbox] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()
        _LIVE.add(self)
        atexit.register(self.close)

    def run(self, job: SandboxJob) -> SandboxResult:
        """One job in its runtime's warm sandbox; a sandbox that overran or died is replaced before the next job,
        and one that died before it took this job is replaced for this job (SandboxFailure if that one dies too)."""
        with self._lock:
            try:
                return self._deliver(job)
            except NotDelivered:
                try:
                    return self._deliver(job)
                except NotDelivered as exc:
                    raise SandboxFailure(f"{exc}, twice in a row") from exc

    def start_ahead(self, limits: SandboxLimits, package: PackageSpec) -> None:
        """Start the sandbox for `package` now, before its job exists, so its start overlaps the caller's own work;
        nothing of a job enters it before `run`. One that cannot start is left for `run`, which tries again."""
        job = SandboxJob("", [], [], [], package, limits)
        with self._lock:
            self._forget_inherited()
            if pool_key(job) not in self._pool:
                with contextlib.suppress(SandboxFailure):
                    self._add(pool_key(job), job)

    def _deliver(self, job: SandboxJob) -> SandboxResult:
        key = pool_key(job)
        starts = self.starts
        sandbox = self._sandbox_for(key, job)
        try:
            return replace(sandbox.run(job), sandbox_started=self.starts > starts)
        finally:
            if not sandbox.alive and self._pool.get(key) is sandbox:
                self._end(key)

    def _sandbox_for(self, key: PoolKey, job: SandboxJob) -> WarmSandbox:
        """The key's live sandbox, now the most recently used; a new one (ending the least recently used when the
        pool is full) if it has none or the one it has can serve no more."""
        self._forget_inherited()
        sandbox = self._pool.get(key)
        if sandbox is not None and not self._reusable(sandbox):
            self._end(key)
            sandbox = None
        if sandbox is None:
            sandbox = self._add(key, job)
        self._pool.move_to_end(key)
        return sandbox

    def _add(self, key: PoolKey, job: SandboxJob) -> WarmSandbox:
        """A new sandbox for `key`, after ending the least recently used ones while the pool is full."""
        while len(self._pool) >= self.warm_runtimes:
            self._end(next(iter(self._pool)))
        sandbox = self._pool[key] = self._start(job)
        return sandbox

    def _reusable(self, sandbox: WarmSandbox) -> bool:
        return sandbox.jobs < self.max_jobs and (sandbox.ready or sandbox.await_ready(warm_sandbox.READY_TIMEOUT_S))

    def _start(self, job: SandboxJob) -> WarmSandbox:
        """A new sandbox for the job's runtime, as a uid no other sandbox of this runner runs as."""
        taken = {sandbox.uid for sandbox in self._pool.values()}
        uid = next((u for u in (self._lease_uid(lease) for lease in self._leases) if u not in taken), None)
        sandbox = WarmSandbox.start(self, job, uid=uid)
        self.starts += 1
        return sandbox

    @staticmethod
    def _lease_uid(lease: UidLease) -> int | None:
        return lease.uid() if os.geteuid() == 0 else None

    def _end(self, key: PoolKey) -> None:
        self._pool.pop(key).close()

    def _forget_inherited(self) -> None:
        """In a forked child the sandboxes are the parent's: drop our descriptors, leave the processes alone."""
        for key, sandbox in list(self._pool.items()):
            if sandbox.owner != os.getpid():
                sandbox.abandon()
                del self._pool[key]

    def host_uids(self) -> list[int]:
        """Every uid this runner's sandboxes may run as (a check for stray processes must look at all of them)."""
        return [uid for uid in (self._lease_uid(lease) for lease in self._leases) if uid is not None]

    def resident_groups(self) -> list[list[int]]:
        """Host pids of each live warm sandbox's own processes (bubblewrap, its PID 1, the zygote), least recently
        used first."""
        with self._lock:
            return [sandbox.resident_pids() for sandbox in self._pool.values() if sandbox.owner == os.getpid()]

    def resident_pids(self) -> list[int]:
        """The most recently used warm sandbox's own processes (bubblewrap, its PID 1, the zygote)."""
        groups = self.resident_groups()
        return groups[-1] if groups else []

    def close(self) -> None:
        """End every warm sandbox (the next job starts a new one)."""
        with self._lock:
            while self._pool:
                self._end(next(iter(self._pool)))
