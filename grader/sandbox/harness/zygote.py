"""The zygote: a clean interpreter, numpy, matplotlib and the job's package imported, forking one workspace per job.

What the package needs is in its staged runtime description (RUNTIME_FILE in the folder HARNESS_PACKAGE names):
the modules to import before any job, and the tensor class (`module:Name`) that array values travel as.

It never sees a job, an output or a report: PID 1 sends it only fork requests.

Runs INSIDE the sandbox as a child of PID 1. It never runs student code, so every fork starts from the same
untouched state; it is not dumpable, so no workspace can read or write its memory. A workspace can still
signal it (they share a uid): PID 1 then notices and starts a fresh zygote.
"""

import contextlib
import ctypes
import fcntl
import gc
import importlib
import json
import os
import resource
import signal
import socket
import struct
import sys
import time
from typing import Any, NoReturn

HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))
for _entry in [HARNESS_DIR, *filter(None, os.environ.get("HARNESS_PATH", "").split(":"))]:
    if _entry not in sys.path:
        sys.path.insert(0, _entry)

import protocol  # noqa: E402

PR_SET_PDEATHSIG, PR_SET_DUMPABLE = 1, 4
SOCKET_FD = 3
WORKSPACE_FDS = 4
MAX_FD = 65536
PID = struct.Struct("=i")
ADOPTION_WAIT_S = 5.0
CLONE_PARENT = 0x00008000
SYS_CLONE = {"x86_64": 56}  # clone(flags, stack, parent_tid, child_tid, tls); a null stack forks like fork()
_SYSCALL = ctypes.PyDLL(None).syscall  # the GIL stays held across the call, as os.fork holds it
_SYSCALL.restype = ctypes.c_long
RUNTIME_FILE = ".runtime.json"
_tensor_class_of_runtime: Any = None  # resolved once by _preload, before any fork


def _prctl(option: int, value: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(option, value, 0, 0, 0)


def _runtime() -> dict[str, Any]:
    """The staged package's runtime description (written by the host when it staged the package)."""
    with open(os.path.join(os.environ.get("HARNESS_PACKAGE", ""), RUNTIME_FILE), "rb") as handle:
        runtime = json.loads(handle.read())
    if not isinstance(runtime, dict):
        raise ValueError(f"{RUNTIME_FILE} is not an object")
    return runtime


def _tensor_class(spec: str) -> Any:
    """`module:Name`, imported; None when the package names no tensor class."""
    if not spec:
        return None
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _seed_font_cache() -> None:
    """Put the font list the host staged where matplotlib looks, so importing pyplot does not scan every font."""
    source, target = os.environ.get("HARNESS_FONT_CACHE", ""), os.environ.get("MPLCONFIGDIR", "")
    if not source or not target or not os.path.isdir(source):
        return
    os.makedirs(target, exist_ok=True)
    for name in os.listdir(source):
        if name.startswith("fontlist-") and name.endswith(".json"):
            with open(os.path.join(source, name), "rb") as staged, open(os.path.join(target, name), "wb") as seeded:
                seeded.write(staged.read())


def _preload() -> None:
    """Import everything a notebook and the harness use, run the warm-up, and freeze the heap for the GC."""
    _seed_font_cache()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot
    import numpy  # noqa: F401

    runtime = _runtime()
    for module in runtime.get("preimports", []):
        importlib.import_module(str(module))
    global _tensor_class_of_runtime
    _tensor_class_of_runtime = _tensor_class(str(runtime.get("tensor_class") or ""))
    import warmup

    warmup.warm_up(_tensor_class_of_runtime)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    gc.collect()
    gc.freeze()


def _install(fds: list[int]) -> None:
    """Put the workspace's descriptors at 0..3 (job, stdout, stderr, frames) and close everything else."""
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 16) for fd in fds]
    for target, fd in enumerate(high):
        os.dup2(fd, target)
    os.closerange(WORKSPACE_FDS, MAX_FD)


def _read_job() -> tuple[dict[str, Any], dict[str, Any]]:
    """The control frame (where to start, which pid supervises) and the job, from the job descriptor."""
    import json

    control = json.loads(protocol.read_frame(0) or b"null")
    job = json.loads(protocol.read_frame(0) or b"null")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    return control, job


def _await_adoption(supervisor: int) -> None:
    """Run nothing of the student's until PID 1 is our parent: only then does it see our exit and usage, and
    only then is the process a signal to our parent would reach immune to it."""
    deadline = time.monotonic() + ADOPTION_WAIT_S
    while os.getppid() != supervisor:
        if time.monotonic() > deadline:
            os._exit(71)
        time.sleep(0.0002)


def _cpu_limit(job: dict[str, Any]) -> int:
    """The whole job's CPU cap for this process, as the cold path sets it on the sandbox (never above ours)."""
    limits = job["limits"]
    units = [unit.get("limits") or limits for unit in [*job["tests"], *job["probes"]]]
    hard = int(limits["setup_cpu_s"] + sum(float(unit["per_test_cpu_s"]) for unit in units)) + 5
    current = resource.getrlimit(resource.RLIMIT_CPU)[1]
    return hard if current == resource.RLIM_INFINITY else min(hard, current)


def _become_workspace(link: socket.socket, fds: list[int]) -> NoReturn:
    """In the fresh fork: take the job's descriptors, limits and a fresh random state, then run the job."""
    code = 71
    try:
        link.detach()
        _install(fds)
        os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        control, job = _read_job()
        _await_adoption(int(control["supervisor"]))
        import numpy
        import workspace

        numpy.random.seed(int.from_bytes(os.urandom(4), "little"))  # fresh, as a new interpreter's would be
        hard = _cpu_limit(job)
        resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
        workspace.workspace_main(job, control, _tensor_class_of_runtime)
    except BaseException:
        code = 71
    os._exit(code)


def _clone_parent() -> int:
    """os.fork(), except that the child's parent is our parent, PID 1 (clone with CLONE_PARENT): no middle process
    has to copy and then tear down this interpreter's page tables for every job. The interpreter is told about
    the fork exactly as os.fork tells it; -1 where the raw call is unknown (another architecture) or fails."""
    number = SYS_CLONE.get(os.uname().machine)
    if number is None:
        return -1
    ctypes.pythonapi.PyOS_BeforeFork()
    pid = int(_SYSCALL(ctypes.c_long(number), ctypes.c_ulong(CLONE_PARENT | signal.SIGCHLD), ctypes.c_void_p(0),
                       ctypes.c_void_p(0), ctypes.c_void_p(0), ctypes.c_ulong(0)))
    if pid == 0:
        ctypes.pythonapi.PyOS_AfterFork_Child()
    else:
        ctypes.pythonapi.PyOS_AfterFork_Parent()
    return pid


def _double_fork(link: socket.socket, fds: list[int]) -> None:
    """The portable way: the workspace is an orphan that PID 1 (init, or a subreaper) adopts and reaps."""
    middle = os.fork()
    if middle == 0:
        try:
            child = os.fork()
            if child == 0:
                _become_workspace(link, fds)
            link.send(PID.pack(child))
        finally:
            os._exit(0)
    os.waitpid(middle, 0)


def _fork_workspace(link: socket.socket, fds: list[int]) -> None:
    """A workspace whose parent is PID 1, which alone reaps it and sees its exit and usage."""
    child = _clone_parent()
    if child == 0:
        _become_workspace(link, fds)
    if child > 0:
        link.send(PID.pack(child))
    else:
        _double_fork(link, fds)
    for fd in fds:
        os.close(fd)


def serve(link: socket.socket) -> None:
    """One request, one fork, until PID 1 closes the link."""
    while True:
        message, fds, _, _ = socket.recv_fds(link, 16, WORKSPACE_FDS)
        if not message:
            return
        if len(fds) != WORKSPACE_FDS:
            for fd in fds:
                os.close(fd)
            continue
        _fork_workspace(link, fds)


def main() -> None:
    _prctl(PR_SET_DUMPABLE, 0)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    link = socket.socket(fileno=SOCKET_FD)
    _preload()
    link.send(b"ready")
    serve(link)


if __name__ == "__main__":
    main()
