"""bubblewrap backend: own user, PID, network, IPC and mount namespaces; a read-only view of the runtime only."""

import os
import shutil

from grader.errors import SandboxFailure
from grader.sandbox.env import sandbox_environment
from grader.sandbox.job import SandboxJob, SandboxResult
from grader.sandbox.launch import Launch, launch
from grader.sandbox.runtime import Runtime
from grader.sandbox.uids import UidLease

SITE_MOUNT = "/opt/site"
PACKAGE_MOUNT = "/opt/package"
HARNESS_MOUNT = "/opt/harness"
FONT_CACHE_MOUNT = "/opt/fonts"
SANDBOX_UID = 1000
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/bin", "/etc/fonts")


class BwrapRunner:
    """Every run gets fresh namespaces; when the harness exits the kernel ends every process it left."""

    name = "bwrap"
    pool = "cold"

    def __init__(self, runtime: Runtime, *, uid_base: int, uid_count: int = 1000) -> None:
        self.runtime = runtime
        self.uids = UidLease(uid_base, uid_count, runtime.harness_dir.parent / "uids")
        self.bwrap = shutil.which("bwrap")
        self.setpriv = shutil.which("setpriv")

    @property
    def host_uid(self) -> int | None:
        """The unprivileged host uid this process's runs use; None when not root (runs keep the caller's uid)."""
        return self.uids.uid() if os.geteuid() == 0 else None

    def _mounts(self, job: SandboxJob) -> list[str]:
        """System folders, the interpreter, and the staged runtime: all read-only; the job's own package first on
        the import path."""
        args: list[str] = []
        for directory in SYSTEM_DIRS:
            if os.path.exists(directory):
                args += ["--ro-bind", directory, directory]
        if self.runtime.python_prefix is not None:
            prefix = str(self.runtime.python_prefix)
            args += ["--ro-bind", prefix, prefix]
        args += ["--ro-bind", str(self.runtime.site_dir), SITE_MOUNT]
        args += ["--ro-bind", str(self.runtime.package(job.package)), PACKAGE_MOUNT]
        args += ["--ro-bind", str(self.runtime.harness_dir), HARNESS_MOUNT]
        args += ["--ro-bind", str(self.runtime.font_cache_dir), FONT_CACHE_MOUNT]
        return args

    def _privilege_drop(self, uid: int | None) -> list[str]:
        """As root, become the leased uid with no groups and no capabilities before bwrap starts."""
        if uid is None:
            return []
        if self.setpriv is None:
            raise SandboxFailure("setpriv is required to drop root before entering the sandbox")
        return [self.setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--no-new-privs"]

    def sandbox_args(self, job: SandboxJob) -> list[str]:
        """bwrap's own arguments; passed through a pipe so the sandbox's /proc/1/cmdline shows no host path.

        The harness runs as the namespace's PID 1 (`--as-pid-1`): student processes cannot signal it, and
        bubblewrap sees it exit only after the kernel has killed and reaped everything else in the namespace.
        / and /dev are remounted read-only once built: the only writable place is the size-capped /tmp.
        """
        return [
            "--unshare-all", "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--die-with-parent", "--new-session", "--disable-userns", "--cap-drop", "ALL", "--as-pid-1",
            "--proc", "/proc", "--dev", "/dev",
            "--size", str(job.limits.tmp_mib * 1024 * 1024), "--tmpfs", "/tmp",
            *self._mounts(job),
            "--dir", "/tmp/work", "--chdir", "/tmp/work",
            "--hostname", "sandbox",
            "--remount-ro", "/dev", "--remount-ro", "/",
        ]

    def command(self, job: SandboxJob, *, serve: bool = False, uid: int | None = None) -> Launch:
        """Privilege drop (to `uid`, by default this process's leased one), then bwrap (its options read from a
        pipe), then the harness: for one job, or (`serve`) for as many as the host sends, as a warm sandbox."""
        if self.bwrap is None:
            raise SandboxFailure("bubblewrap (bwrap) is not installed; install Debian's bubblewrap package")
        harness = [str(self.runtime.python), "-I", "-S", f"{HARNESS_MOUNT}/main.py", *(["--serve"] if serve else [])]
        drop = self._privilege_drop(self.host_uid if uid is None else uid)
        return Launch(argv=[*drop, self.bwrap], bwrap_args=self.sandbox_args(job), command=harness)

    @staticmethod
    def environment() -> dict[str, str]:
        return sandbox_environment(f"{PACKAGE_MOUNT}:{SITE_MOUNT}", PACKAGE_MOUNT, FONT_CACHE_MOUNT, pid_namespace=True)

    def run(self, job: SandboxJob) -> SandboxResult:
        result = launch(self.command(job), self.environment(), job, cwd="/")
        if result.report in (None, b"") and result.killed is None and "bwrap:" in result.diagnostics:
            raise SandboxFailure(f"bubblewrap could not start: {result.diagnostics.strip()[:300]}")
        return result
