"""Start the harness under OS limits, feed it the job, and collect its capped report and resource use."""

import json
import os
import resource
import select
import signal
import subprocess
import time
from collections.abc import Callable, Sequence

from grader.sandbox.job import SandboxJob, SandboxResult

MIB = 1024 * 1024
WALL_GRACE_S = 5.0


def _limit_setter(job: SandboxJob) -> Callable[[], None]:
    """rlimits applied in the child before exec; every process of the run inherits them."""
    limits = job.limits

    def apply() -> None:
        hard_cpu = int(limits.cpu_s + limits.per_test_cpu_s * (len(job.tests) + len(job.probes))) + 5
        resource.setrlimit(resource.RLIMIT_CPU, (hard_cpu, hard_cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mib * MIB, limits.memory_mib * MIB))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.max_file_mib * MIB, limits.max_file_mib * MIB))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.max_open_files, limits.max_open_files))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _read_capped(process: subprocess.Popen[bytes], cap: int, deadline: float) -> tuple[bytes, str | None]:
    """Read stdout until EOF, the cap, or the deadline; say which limit ended it, if any."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return b"".join(chunks), "timeout"
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks), None
        size += len(chunk)
        if size > cap:
            return b"", "output"
        chunks.append(chunk)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        pass


def launch(argv: Sequence[str], env: dict[str, str], job: SandboxJob, cwd: str) -> SandboxResult:
    """Run one sandboxed harness to completion; never raises for anything the student did."""
    started = time.monotonic()
    deadline = started + job.limits.wall_s + WALL_GRACE_S
    process = subprocess.Popen(
        list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
        preexec_fn=_limit_setter(job), start_new_session=True, close_fds=True,
    )
    assert process.stdin is not None and process.stderr is not None
    try:
        process.stdin.write(json.dumps(job.to_wire()).encode())
        process.stdin.close()
    except BrokenPipeError:
        pass
    report, killed = _read_capped(process, job.limits.report_bytes, deadline)
    if killed:
        _kill_group(process)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = status
    _kill_group(process)
    diagnostics = process.stderr.read(16384).decode("utf-8", "replace")
    process.stderr.close()
    process.stdout.close()  # type: ignore[union-attr]
    exit_text = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.WEXITSTATUS(status)}"
    return SandboxResult(
        report=None if killed else report,
        wall_s=round(time.monotonic() - started, 4),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 4),
        max_rss_mib=round(usage.ru_maxrss / 1024, 1),
        killed=killed,
        exit=exit_text,
        diagnostics=diagnostics,
    )
