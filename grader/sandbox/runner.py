"""The one small interface every sandbox backend implements, and the factory that picks one."""

from pathlib import Path
from typing import Protocol

from grader.config import Settings
from grader.sandbox.job import SandboxJob, SandboxLimits, SandboxResult


class SandboxRunner(Protocol):
    """Runs a job's student code somewhere it cannot hurt anyone and returns the untrusted report."""

    name: str
    pool: str

    def run(self, job: SandboxJob) -> SandboxResult:
        """Run to completion within the job's limits; student misbehaviour is a result, not an exception."""
        ...


def limits_from_settings(settings: Settings) -> SandboxLimits:
    """Limits from configuration, so deployments tune them without code changes."""
    sandbox = settings.sandbox
    return SandboxLimits(
        cpu_s=sandbox.cpu_s,
        wall_s=sandbox.wall_s,
        per_test_cpu_s=sandbox.per_test_cpu_s,
        per_test_wall_s=max(sandbox.per_test_wall_s, sandbox.per_test_cpu_s + 1),
        memory_mib=sandbox.memory_mib,
        max_processes=sandbox.max_processes,
        max_file_mib=sandbox.max_file_mib,
        max_open_files=sandbox.max_open_files,
        output_bytes=sandbox.output_kib * 1024,
        report_bytes=sandbox.report_kib * 1024,
        tmp_mib=sandbox.tmp_mib,
    )


def make_runner(settings: Settings) -> SandboxRunner:
    """The configured backend and pool: bubblewrap, kept warm, unless a deployment explicitly chooses otherwise.

    The process backend has no PID namespace to sweep between jobs, so it always runs cold.
    """
    from grader.sandbox.runtime import build_runtime

    sandbox = settings.sandbox
    runtime = build_runtime(Path(sandbox.runtime_dir))
    if sandbox.backend == "process":
        from grader.sandbox.process_backend import ProcessRunner

        return ProcessRunner(runtime)
    if sandbox.pool == "cold":
        from grader.sandbox.bwrap_backend import BwrapRunner

        return BwrapRunner(runtime, uid_base=sandbox.uid_base, uid_count=sandbox.uid_count)
    from grader.sandbox.warm_backend import WarmRunner

    return WarmRunner(runtime, uid_base=sandbox.uid_base, uid_count=sandbox.uid_count, max_jobs=sandbox.pool_max_jobs,
                      warm_runtimes=sandbox.warm_runtimes)
