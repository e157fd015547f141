"""Host uids for sandboxed runs: one leased per worker process, so process limits and sweeps see only its runs."""

import fcntl
import os
from pathlib import Path

from grader.errors import SandboxFailure

_LEASED_IN_THIS_PROCESS: dict[int, int] = {}


class UidLease:
    """Leases one uid of [base, base + count) for the life of the calling process.

    The lease is a POSIX record lock on `<lock_dir>/<uid>.lock`: the kernel drops it when the process dies,
    and a forked child does not inherit it, so a child that runs sandboxes leases a uid of its own. Two live
    worker processes therefore never share a uid, and RLIMIT_NPROC (counted per uid) is a per-worker budget.
    """

    def __init__(self, base: int, count: int, lock_dir: Path) -> None:
        self.base = base
        self.count = max(1, count)
        self.lock_dir = lock_dir
        self._owner_pid: int | None = None
        self._uid: int | None = None

    def uid(self) -> int:
        """This process's uid, leased on first use."""
        if self._uid is not None and self._owner_pid == os.getpid():
            return self._uid
        self.lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        start = os.getpid() % self.count
        for offset in range(self.count):
            candidate = self.base + (start + offset) % self.count
            if _LEASED_IN_THIS_PROCESS.get(candidate) == os.getpid():
                continue
            if self._try_lock(candidate):
                self._uid, self._owner_pid = candidate, os.getpid()
                _LEASED_IN_THIS_PROCESS[candidate] = os.getpid()
                return candidate
        raise SandboxFailure(f"all {self.count} sandbox uids from {self.base} are leased by live workers")

    def _try_lock(self, candidate: int) -> bool:
        """Lock the uid's file without blocking; the descriptor stays open (and locked) for the process's life.

        POSIX record locks never conflict within one process, so leases this process already holds are
        skipped by the caller: two runners in one process (a warm and a cold one) get different uids.
        """
        fd = os.open(self.lock_dir / f"{candidate}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        return True
