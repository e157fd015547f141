"""A Docker engine of the test's own: Debian's dockerd, started by hand on a private socket and stopped by pid.

The data root lives in a cache folder kept between runs on the same machine (images and build layers are the
cache); a lock file keeps two test runs from sharing it at once, and every container, network and volume left in
it by an earlier run is removed when the daemon starts, before the test makes its own. Only addresses of the
subnets below are ever given to a bridge or a container.
"""

import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

CACHE_DIR = Path(os.environ.get("GRADER_DEPLOY_CACHE", "/var/cache/tinytorch-grader-deploy"))
BRIDGE_IP = "10.213.0.1/24"  # docker0, used by no container of the test (compose makes its own network)
ADDRESS_POOL = "10.213.16.0/20"  # any network created without an explicit subnet
STACK_SUBNET = "10.213.40.0/24"  # the compose network, set explicitly in its ipam
STACK_GATEWAY = "10.213.40.1"  # the host's address on it: the test's LMS callback receiver listens here
CGROUP_PARENT = "/tinytorch-grader-deploy"  # absolute: not under the cgroup of whoever started the test
START_TIMEOUT_S = 120
LOCK_TIMEOUT_S = 1800


class DockerUnavailable(AssertionError):
    """Docker could not be set up: the deploy tests fail (they never skip) with the reason."""


@dataclass(frozen=True)
class Docker:
    """A running daemon and the environment that points the docker and compose clients at it."""

    socket: Path
    pid: int
    log: Path

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": f"unix://{self.socket}", "DOCKER_BUILDKIT": "0"}

    def run(self, *args: str, check: bool = True, timeout_s: float = 600, input_bytes: bytes | None = None,
            ) -> subprocess.CompletedProcess[str]:
        """`docker ARGS`, failing with its output when it fails."""
        result = subprocess.run([docker_client(), *args], env=self.env, capture_output=True, timeout=timeout_s,
                                input=input_bytes, check=False)
        out = subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(errors="replace"),
                                          result.stderr.decode(errors="replace"))
        if check and out.returncode != 0:
            raise AssertionError(f"docker {' '.join(args[:4])} failed ({out.returncode}): {out.stderr[-3000:]}")
        return out

    def ids(self, *args: str) -> list[str]:
        return self.run(*args).stdout.split()


def docker_client() -> str:
    """Debian's client, of the same release as the daemon."""
    for candidate in ("/usr/bin/docker", shutil.which("docker")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise DockerUnavailable("no docker client: run `bash .ci/setup deploy` (Debian's docker.io)")


@contextmanager
def cache_lock() -> Iterator[None]:
    """One deploy test run at a time owns the cached data root."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / "lock", "w") as handle:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DockerUnavailable(f"{CACHE_DIR}/lock is held by another deploy test run") from None
                time.sleep(2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _dockerd_argv(run_dir: Path, storage_driver: str) -> list[str]:
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    if not os.access(dockerd, os.X_OK):
        raise DockerUnavailable("no dockerd: run `bash .ci/setup deploy` (Debian's docker.io)")
    return [dockerd, "--iptables=false", "--ip6tables=false", "--ip-masq=false",
            f"--storage-driver={storage_driver}", f"--data-root={CACHE_DIR / ('docker-' + storage_driver)}",
            f"--exec-root={run_dir / 'exec'}", f"--pidfile={run_dir / 'dockerd.pid'}",
            f"--host=unix://{run_dir / 'docker.sock'}", f"--bip={BRIDGE_IP}",
            f"--default-address-pool=base={ADDRESS_POOL},size=24", f"--cgroup-parent={CGROUP_PARENT}",
            "--userland-proxy=true", "--log-level=warn"]


def _wait_ready(docker: Docker, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DockerUnavailable(f"dockerd exited ({process.returncode}): {docker.log.read_text()[-3000:]}")
        if docker.socket.exists() and docker.run("version", check=False, timeout_s=30).returncode == 0:
            return
        time.sleep(0.5)
    raise DockerUnavailable(f"dockerd did not answer in {START_TIMEOUT_S} s: {docker.log.read_text()[-3000:]}")


def _remove_leftovers(docker: Docker) -> None:
    """Containers, networks and volumes an interrupted earlier run left in the cached data root."""
    containers = docker.ids("ps", "-aq")
    if containers:
        docker.run("rm", "-f", "-v", *containers)
    docker.run("network", "prune", "-f")
    docker.run("image", "prune", "-f")  # images a rebuild superseded; the current ones' build cache stays
    volumes = docker.ids("volume", "ls", "-q")
    if volumes:
        docker.run("volume", "rm", "-f", *volumes)


def stop(process: subprocess.Popen[bytes], docker: Docker | None) -> None:
    """Every container of this daemon by id, then the daemon by its pid."""
    if docker is not None and process.poll() is None:
        try:
            containers = docker.ids("ps", "-aq")
            if containers:
                docker.run("rm", "-f", "-v", *containers, timeout_s=180)
        except (AssertionError, subprocess.TimeoutExpired):
            pass
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def _unmount_under(folder: Path, *, itself: bool = False) -> None:
    """What a daemon that did not shut down cleanly leaves mounted (netns files, overlays), deepest first."""
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    inside = [m for m in mounts if m.startswith(f"{folder}/") or (itself and m == str(folder))]
    for target in sorted(inside, key=len, reverse=True):
        subprocess.run(["umount", "--lazy", target], check=False, capture_output=True)


def _remove_bridge() -> None:
    """docker0 outlives dockerd; it is removed when it carries the test's own address (and so is ours)."""
    shown = subprocess.run(["ip", "-brief", "address", "show", "docker0"], capture_output=True, text=True,
                           check=False)
    if shown.returncode == 0 and BRIDGE_IP in shown.stdout:
        subprocess.run(["ip", "link", "delete", "docker0"], capture_output=True, check=False)


def _remove_cgroups() -> None:
    """The daemon's cgroup parent in every v1 hierarchy, once its containers are gone (rmdir of empty folders)."""
    for parent in Path("/sys/fs/cgroup").glob(f"*{CGROUP_PARENT}"):
        for child in sorted(parent.rglob("*"), key=lambda path: len(str(path)), reverse=True):
            if child.is_dir():
                with suppress(OSError):
                    child.rmdir()
        with suppress(OSError):
            parent.rmdir()


def _end_under(run_dir: Path) -> None:
    """containerd and its shims of one daemon (their config and address are under its run folder) that outlived
    it, by pid."""
    for proc in Path("/proc").iterdir():
        argv = _argv_of(proc) if proc.name.isdigit() else []
        if argv and argv[0].endswith((b"containerd", b"containerd-shim-runc-v2")) \
                and any(str(run_dir).encode() in a for a in argv):
            with suppress(ProcessLookupError):
                os.kill(int(proc.name), signal.SIGKILL)


def _argv_of(proc: Path) -> list[bytes]:
    try:
        return (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


def _end_orphaned_daemons() -> None:
    """A dockerd on the cached data root while we hold the cache lock was left by a run that was killed (the lock
    dies with its holder, the daemon does not: it has a session of its own). It still holds the data root's
    database, so a new daemon would time out opening it: end it, then its containerd and shims, by pid."""
    data_root = f"--data-root={CACHE_DIR}".encode()
    for proc in Path("/proc").iterdir():
        argv = _argv_of(proc) if proc.name.isdigit() else []
        if not (argv and argv[0].endswith(b"dockerd") and any(a.startswith(data_root) for a in argv)):
            continue
        exec_roots = [a.split(b"=", 1)[1].decode() for a in argv if a.startswith(b"--exec-root=")]
        pid = int(proc.name)
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        for exec_root in exec_roots:
            _end_under(Path(exec_root).parent)
            _unmount_under(Path(exec_root).parent)
            shutil.rmtree(Path(exec_root).parent, ignore_errors=True)


@contextmanager
def docker_daemon() -> Iterator[Docker]:
    """Start dockerd (overlay2, or GRADER_DEPLOY_STORAGE_DRIVER=vfs), yield it, and stop it and its containers.

    Its socket and exec root are in a folder of its own, not under pytest's temporary folders: another pytest
    session on the machine prunes old ones, and must not delete a running daemon's socket.
    """
    storage_driver = os.environ.get("GRADER_DEPLOY_STORAGE_DRIVER", "overlay2")
    run_dir = Path(tempfile.mkdtemp(prefix="grader-dockerd-"))
    log = run_dir / "dockerd.log"
    with cache_lock(), open(log, "wb") as log_handle:
        _end_orphaned_daemons()
        process = subprocess.Popen(_dockerd_argv(run_dir, storage_driver), stdout=log_handle,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        docker: Docker | None = None
        try:
            docker = Docker(socket=run_dir / "docker.sock", pid=process.pid, log=log)
            _wait_ready(docker, process)
            _remove_leftovers(docker)
            yield docker
        finally:
            stop(process, docker)
            _end_under(run_dir)
            _unmount_under(run_dir)
            _unmount_under(CACHE_DIR / f"docker-{storage_driver}", itself=True)
            _remove_bridge()
            _remove_cgroups()
            shutil.rmtree(run_dir, ignore_errors=True)
