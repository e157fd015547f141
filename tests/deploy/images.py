"""The images the deploy test runs, all built on this machine from Debian's and PyPI's packages.

- `debian:bookworm-slim`: no registry but Debian's is reachable, so the base is `debootstrap --variant=minbase
  bookworm` imported under the official tag (the Dockerfile stays what a user builds against Docker Hub).
- `tinytorch-grader:test`: the repository's Dockerfile, unchanged.
- stand-ins for `postgres:15` and `redis:7` (tests/deploy/standins), from Debian's postgresql-15 and redis-server.

Caching, keyed by content: the base carries a label with the hash of what debootstrap was asked for and is
imported again only when that changes; the other images go through `docker build`'s own layer cache, which keys
every step on its instruction and the checksums of the files it copies. Image RUN steps reach Debian and PyPI
through the host's network (`--network host`); the bridge has no NAT.
"""

import hashlib
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.deploy.daemon import CACHE_DIR, Docker, DockerUnavailable, docker_client

BASE_TAG = "debian:bookworm-slim"
BASE_SUITE = "bookworm"
BASE_MIRROR = "http://deb.debian.org/debian"
BASE_LABEL = "org.tinytorch-grader.base-key"
GRADER_TAG = "tinytorch-grader:test"
POSTGRES_TAG = "tinytorch-grader-standin/postgres:15"
REDIS_TAG = "tinytorch-grader-standin/redis:7"
STANDINS = REPO_ROOT / "tests" / "deploy" / "standins"
LOCAL_CA_DIR = Path("/usr/local/share/ca-certificates")
# What the official slim image's apt sees: the release, its updates and its security updates.
BASE_SOURCES = f"""Types: deb
URIs: {BASE_MIRROR}
Suites: {BASE_SUITE} {BASE_SUITE}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: {BASE_SUITE}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""
# The slim image keeps no documentation, manual pages or locales; neither does ours.
BASE_DPKG_EXCLUDES = """path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
"""


@dataclass
class BuildTimes:
    """Seconds each image took on this run (a cached one takes about nothing)."""

    seconds: dict[str, float] = field(default_factory=dict)

    def timed(self, name: str, started: float) -> None:
        self.seconds[name] = round(time.monotonic() - started, 1)


def _base_key() -> str:
    debootstrap = subprocess.run(["debootstrap", "--version"], capture_output=True, text=True, check=False)
    recipe = "\n".join([BASE_SUITE, "minbase", BASE_MIRROR, BASE_SOURCES, BASE_DPKG_EXCLUDES, debootstrap.stdout])
    return hashlib.sha256(recipe.encode()).hexdigest()[:20]


def _image_label(docker: Docker, tag: str, label: str) -> str | None:
    result = docker.run("image", "inspect", "--format", f'{{{{index .Config.Labels "{label}"}}}}', tag, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def build_base(docker: Docker) -> None:
    """debootstrap a minimal bookworm and import it as debian:bookworm-slim, unless the same one is there."""
    key = _base_key()
    if _image_label(docker, BASE_TAG, BASE_LABEL) == key:
        return
    if shutil.which("debootstrap") is None:
        raise DockerUnavailable("no debootstrap: run `bash .ci/setup deploy`")
    with tempfile.TemporaryDirectory(dir=CACHE_DIR, prefix="rootfs-") as work:
        rootfs = Path(work) / "rootfs"
        result = subprocess.run(["debootstrap", "--variant=minbase", BASE_SUITE, str(rootfs), BASE_MIRROR],
                                capture_output=True, text=True, timeout=1200, check=False)
        if result.returncode != 0:
            raise DockerUnavailable(f"debootstrap failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")
        (rootfs / "etc/apt/sources.list").unlink(missing_ok=True)
        (rootfs / "etc/apt/sources.list.d/debian.sources").write_text(BASE_SOURCES)
        (rootfs / "etc/dpkg/dpkg.cfg.d/docker-slim").write_text(BASE_DPKG_EXCLUDES)
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (rootfs / cache).glob("*"):
                if path.is_file():
                    path.unlink()
        tar = subprocess.Popen(["tar", "--numeric-owner", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        assert tar.stdout is not None
        imported = subprocess.run(
            [*docker_import_argv(key), "-", BASE_TAG], stdin=tar.stdout, env=docker.env,
            capture_output=True, text=True, timeout=600, check=False)
        tar.stdout.close()
        tar.wait(timeout=60)
        if imported.returncode != 0 or tar.returncode != 0:
            raise DockerUnavailable(f"docker import of the base failed: {imported.stderr[-2000:]}")


def docker_import_argv(key: str) -> list[str]:
    return [docker_client(), "import", "--change", f"LABEL {BASE_LABEL}={key}", "--change", 'CMD ["bash"]']


def extra_ca_certs() -> str:
    """The host's local CAs (a TLS-intercepting proxy's), handed to the build stage so pip reaches PyPI as the
    host does; empty where the host has none."""
    return "\n".join(path.read_text() for path in sorted(LOCAL_CA_DIR.glob("*.crt")))


def build(docker: Docker, tag: str, context: Path, *build_args: str) -> None:
    argv = ["build", "--network", "host", "--tag", tag]
    for build_arg in build_args:
        argv += ["--build-arg", build_arg]
    result = docker.run(*argv, str(context), check=False, timeout_s=1800)
    if result.returncode != 0:
        raise AssertionError(f"docker build of {tag} failed: {result.stdout[-4000:]}{result.stderr[-3000:]}")


def build_all(docker: Docker) -> BuildTimes:
    """The base, the grader image from the repository's Dockerfile, and the two stand-ins."""
    times = BuildTimes()
    started = time.monotonic()
    build_base(docker)
    times.timed("base", started)
    started = time.monotonic()
    build(docker, GRADER_TAG, REPO_ROOT, f"EXTRA_CA_CERTS={extra_ca_certs()}")
    times.timed("grader", started)
    for tag, folder in ((POSTGRES_TAG, "postgres"), (REDIS_TAG, "redis")):
        started = time.monotonic()
        build(docker, tag, STANDINS / folder)
        times.timed(folder, started)
    return times
