"""Plain-process backend: rlimits and a fresh tmp dir, no isolation. For development where bwrap is missing."""

import shutil
import tempfile

from grader.sandbox.env import sandbox_environment
from grader.sandbox.job import SandboxJob, SandboxResult
from grader.sandbox.launch import Launch, launch
from grader.sandbox.runtime import Runtime


class ProcessRunner:
    """Limits without isolation: the code can read files and reach the network. Never for real students."""

    name = "process"
    pool = "cold"

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def run(self, job: SandboxJob) -> SandboxResult:
        workdir = tempfile.mkdtemp(prefix="grader-run-")
        try:
            package = self.runtime.package(job.package)
            env = sandbox_environment(f"{package}:{self.runtime.site_dir}", str(package),
                                      str(self.runtime.font_cache_dir), pid_namespace=False)
            env["HOME"] = workdir
            env["MPLCONFIGDIR"] = f"{workdir}/.matplotlib"
            argv = [str(self.runtime.python), "-I", "-S", str(self.runtime.harness_dir / "main.py")]
            return launch(Launch(argv=argv), env, job, cwd=workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
