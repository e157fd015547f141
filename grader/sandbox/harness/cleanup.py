"""Between two jobs of a warm sandbox: end every process of the last one and wipe everything it could write.

Runs INSIDE the sandbox, in PID 1. Each step says whether it left the sandbox clean; when one cannot, the
sandbox asks to be replaced rather than hand anything of one submission to the next.
"""

import contextlib
import ctypes
import os
import platform
import signal
import stat
import time
from collections.abc import Callable, Iterable

SWEEP_PASSES = 200
WIPE_MAX_ENTRIES = 20_000
IPC_RMID = 0
KEYCTL_SYSCALLS = {"x86_64": 250, "aarch64": 219}
KEYCTL_GET_KEYRING_ID, KEYCTL_CLEAR, KEYCTL_LINK = 0, 7, 8
USER_KEYRING, USER_SESSION_KEYRING = -4, -5
_libc = ctypes.CDLL(None, use_errno=True)


class NotOurNamespace(RuntimeError):
    """A cleanup step was asked for outside a PID namespace of our own, where /proc, /tmp and IPC are the host's."""


def _require_namespace_init() -> None:
    """Every step here is destructive by design; it may only ever touch a sandbox whose init we are."""
    if os.getpid() != 1:
        raise NotOurNamespace("sandbox cleanup runs only as PID 1 of the sandbox's own namespaces")


def _pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rpartition(b")")[2].split()[0] == b"Z"
    except (OSError, IndexError):
        return True


def sweep_namespace(keep: Iterable[int], reap: Callable[[], None]) -> bool:
    """SIGKILL every process of our PID namespace but `keep`, pass after pass, until /proc shows none alive.

    A fork bomb can fork between a listing and its kill; the next pass gets the newcomers, and a process with
    a pending SIGKILL cannot fork. False if it never settled (the caller then kills the namespace whole).
    """
    _require_namespace_init()
    spared = set(keep) | {os.getpid()}
    for _ in range(SWEEP_PASSES):
        alive = [pid for pid in _pids() if pid not in spared and not _is_zombie(pid)]
        for pid in alive:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        reap()
        if not alive:
            return True
        time.sleep(0.0005)
    return False


def kill_all_but_self(reap: Callable[[], None]) -> None:
    """The last resort: kill(-1) from a namespace's init reaches every other process in one atomic step."""
    _require_namespace_init()
    for _ in range(SWEEP_PASSES):
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)
        reap()
        if all(pid == os.getpid() or _is_zombie(pid) for pid in _pids()):
            return
        time.sleep(0.001)


def _remove_tree(top: str, budget: list[int]) -> None:
    """Remove a directory's contents without recursion (a student can nest thousands deep) or following links."""
    stack = [top]
    while stack:
        path = stack[-1]
        os.chmod(path, stat.S_IRWXU)
        entries = list(os.scandir(path))
        budget[0] -= len(entries) + 1
        if budget[0] < 0:
            raise OSError("too many entries to wipe")
        subdirs = [e.path for e in entries if e.is_dir(follow_symlinks=False)]
        for entry in entries:
            if not entry.is_dir(follow_symlinks=False):
                os.unlink(entry.path)
        if subdirs:
            stack.extend(subdirs)
            continue
        stack.pop()
        if path != top:
            os.rmdir(path)


def wipe(root: str, mode: int) -> bool:
    """Empty `root` (a tmpfs), give it back its mode and drop its extended attributes; False if anything stays."""
    _require_namespace_init()
    try:
        _remove_tree(root, [WIPE_MAX_ENTRIES])
        os.chmod(root, mode)
        for name in os.listxattr(root):
            os.removexattr(root, name)
        return not os.listdir(root)
    except OSError:
        return False


def _ipc_ids(kind: str) -> list[int]:
    try:
        with open(f"/proc/sysvipc/{kind}") as handle:
            return [int(line.split()[1]) for line in handle.read().splitlines()[1:] if line.strip()]
    except (OSError, ValueError, IndexError):
        return []


def clear_ipc() -> bool:
    """Remove every System V shared memory segment, semaphore set and message queue: they outlive processes."""
    _require_namespace_init()
    removers = {"shm": lambda i: _libc.shmctl(i, IPC_RMID, None), "sem": lambda i: _libc.semctl(i, 0, IPC_RMID),
                "msg": lambda i: _libc.msgctl(i, IPC_RMID, None)}
    for kind, remove in removers.items():
        for ident in _ipc_ids(kind):
            remove(ident)
    return not any(_ipc_ids(kind) for kind in removers)


def clear_keyrings() -> bool:
    """Empty the user and user-session keyrings, which belong to the uid for the life of the user namespace.

    True when they are empty, or when this kernel or its seccomp policy offers no keyrings to anyone.
    """
    _require_namespace_init()
    number = KEYCTL_SYSCALLS.get(platform.machine())
    if number is None:
        return True
    if _libc.syscall(number, KEYCTL_GET_KEYRING_ID, USER_KEYRING, 0) < 0:
        return ctypes.get_errno() in (38, 1)  # ENOSYS, EPERM: keyrings are unavailable to the sandbox
    cleared = all(_libc.syscall(number, KEYCTL_CLEAR, keyring) == 0
                  for keyring in (USER_KEYRING, USER_SESSION_KEYRING))
    return cleared and _libc.syscall(number, KEYCTL_LINK, USER_KEYRING, USER_SESSION_KEYRING) == 0
