"""bubblewrap backend: own user, PID, network, IPC and mount namespaces; a read-only view of the runtime only."""

import os
import shutil
import tempfile

from grader.errors import SandboxFailure
from grader.sandbox.env import sandbox_environment
from grader.sandbox.job import SandboxJob, SandboxResult
from grader.sandbox.launch import launch
from grader.sandbox.runtime import Runtime

SITE_MOUNT = "/opt/site"
PACKAGE_MOUNT = "/opt/tinytorch"
HARNESS_MOUNT = "/opt/harness"
SANDBOX_UID = 1000
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/bin", "/etc/fonts")


class BwrapRunner:
    """Every run gets fresh namespaces; when the harness exits the kernel ends every process it left."""

    name = "bwrap"

    def __init__(self, runtime: Runtime, *, uid_base: int) -> None:
        self.runtime = runtime
        self.uid_base = uid_base
        self.bwrap = shutil.which("bwrap")
        self.setpriv = shutil.which("setpriv")

    def _host_uid(self) -> int:
        """A dedicated unprivileged host uid per worker process, so process limits count only this run."""
        return self.uid_base + os.getpid() % 1000

    def _mounts(self) -> list[str]:
        args: list[str] = []
        for directory in SYSTEM_DIRS:
            if os.path.exists(directory):
                args += ["--ro-bind", directory, directory]
        if self.runtime.python_prefix is not None:
            prefix = str(self.runtime.python_prefix)
            args += ["--ro-bind", prefix, prefix]
        args += ["--ro-bind", str(self.runtime.site_dir), SITE_MOUNT]
        args += ["--ro-bind", str(self.runtime.package_dir), PACKAGE_MOUNT]
        args += ["--ro-bind", str(self.runtime.harness_dir), HARNESS_MOUNT]
        return args

    def command(self, job: SandboxJob) -> list[str]:
        """The full argv: drop to the run's uid, then enter the namespaces."""
        if self.bwrap is None:
            raise SandboxFailure("bubblewrap (bwrap) is not installed; install Debian's bubblewrap package")
        prefix: list[str] = []
        if os.geteuid() == 0:
            if self.setpriv is None:
                raise SandboxFailure("setpriv is required to drop root before entering the sandbox")
            uid = str(self._host_uid())
            prefix = [self.setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                      "--bounding-set=-all"]
        return [
            *prefix, self.bwrap,
            "--unshare-all", "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--die-with-parent", "--new-session", "--disable-userns",
            "--proc", "/proc", "--dev", "/dev",
            "--size", str(job.limits.tmp_mib * 1024 * 1024), "--tmpfs", "/tmp",
            *self._mounts(),
            "--dir", "/tmp/work", "--chdir", "/tmp/work",
            "--hostname", "sandbox",
            str(self.runtime.python), "-I", "-S", f"{HARNESS_MOUNT}/main.py",
        ]

    def run(self, job: SandboxJob) -> SandboxResult:
        env = sandbox_environment(f"{PACKAGE_MOUNT}:{SITE_MOUNT}", pid_namespace=True)
        cwd = tempfile.gettempdir()
        result = launch(self.command(job), env, job, cwd=cwd)
        if result.report in (None, b"") and result.killed is None and "bwrap:" in result.diagnostics:
            raise SandboxFailure(f"bubblewrap could not start: {result.diagnostics.strip()[:300]}")
        return result
