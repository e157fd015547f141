"""The read-only runtime a sandbox sees: the harness, the libraries it needs, and each job's package.

Everything is staged into one world-readable folder outside the project tree, because the sandbox runs
as an unprivileged user that must not (and often cannot) see the project, the venv or root's home. The harness
and the libraries are staged once; a package once per content digest, when the first job that needs it comes.
"""

import hashlib
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from grader.errors import SandboxFailure
from grader.sandbox.package import RUNTIME_FILE, PackageSpec

HARNESS_DIR = Path(__file__).parent / "harness"
SANDBOX_DISTRIBUTIONS = ("numpy", "matplotlib")
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")


@dataclass(frozen=True)
class Runtime:
    """Staged folders to expose read-only inside the sandbox, and the interpreter to run there.

    `package_dir` holds every staged package, one folder per digest (see `package`).
    """

    harness_dir: Path
    package_dir: Path
    site_dir: Path
    python: Path
    python_prefix: Path | None

    def package(self, spec: PackageSpec) -> Path:
        """The folder `spec` is staged in, staged now if no job needed it before (atomic, as every folder here)."""
        target = self.package_dir / spec.digest
        return target if target.exists() else _stage(target, _fill_package(spec))


def _stage(target: Path, fill: Callable[[Path], None]) -> Path:
    """Build a folder once, atomically: a half-copied runtime is never used.

    The staging folder is private to this process (forked pool workers that start together all stage at once,
    and share every id() they inherited); the first rename wins and the others drop their copy.
    """
    if target.exists():
        return target
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{target.name}-", dir=target.parent))
    try:
        fill(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    staging.chmod(0o755)
    try:
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _digest(paths: list[Path], extra: str = "") -> str:
    digest = hashlib.sha256(extra.encode())
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _package_path(destination: Path, relative: str) -> Path:
    """Where one package file goes; a path that could leave the folder (or replace its runtime file) is refused."""
    parts = Path(relative).parts
    if not parts or Path(relative).is_absolute() or any(part in ("", ".", "..") for part in parts) or \
            relative == RUNTIME_FILE:
        raise SandboxFailure(f"the package file path {relative!r} is not a plain relative path")
    return destination.joinpath(*parts)


def _fill_package(spec: PackageSpec) -> Callable[[Path], None]:
    """The package's files and its runtime description; folders and files readable by the sandbox's uid."""
    def fill(destination: Path) -> None:
        for relative, body in spec.files:
            path = _package_path(destination, relative)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            path.chmod(0o644)
        (destination / RUNTIME_FILE).write_bytes(spec.runtime_description())
        (destination / RUNTIME_FILE).chmod(0o644)
        for folder in destination.rglob("*"):
            if folder.is_dir():
                folder.chmod(0o755)

    return fill


def _fill_harness(destination: Path) -> None:
    for source in sorted(HARNESS_DIR.glob("*.py")):
        shutil.copyfile(source, destination / source.name)


def _distribution_closure(names: tuple[str, ...]) -> list[metadata.Distribution]:
    """The named distributions and everything they require at run time."""
    found: dict[str, metadata.Distribution] = {}
    pending = list(names)
    while pending:
        name = pending.pop().lower().replace("_", "-")
        if name in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found[name] = dist
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return [found[name] for name in sorted(found)]


def _site_tops(dists: list[metadata.Distribution]) -> list[Path]:
    tops: set[Path] = set()
    for dist in dists:
        for file in dist.files or []:
            top = file.parts[0]
            if top.endswith((".dist-info", ".pth")) or top in ("..", "__pycache__"):
                continue
            tops.add(Path(str(dist.locate_file(top))))
    return sorted(p for p in tops if p.exists())


def _fill_site(dists: list[metadata.Distribution]) -> Callable[[Path], None]:
    """Listing the distributions' files reads every RECORD (a third of a second), so only a fill does it."""
    def fill(destination: Path) -> None:
        for top in _site_tops(dists):
            if top.is_dir():
                shutil.copytree(top, destination / top.name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copyfile(top, destination / top.name)
        for path in destination.rglob("*"):
            path.chmod(0o755 if path.is_dir() or path.stat().st_mode & 0o100 else 0o644)

    return fill


def build_runtime(runtime_dir: Path) -> Runtime:
    """Stage (once per content hash) and describe the sandbox runtime; packages are staged as jobs need them."""
    runtime_dir.mkdir(parents=True, exist_ok=True)
    runtime_dir.chmod(0o755)
    packages = runtime_dir / "packages"
    packages.mkdir(mode=0o755, exist_ok=True)
    harness = _stage(
        runtime_dir / f"harness-{_digest(sorted(HARNESS_DIR.glob('*.py')))}",
        _fill_harness,
    )
    dists = _distribution_closure(SANDBOX_DISTRIBUTIONS)
    versions = ",".join(f"{d.metadata['Name']}=={d.version}" for d in dists)
    site = _stage(runtime_dir / f"site-{_digest([], versions + sys.version)}", _fill_site(dists))
    use_system = SYSTEM_PYTHON.exists()
    return Runtime(
        harness_dir=harness,
        package_dir=packages,
        site_dir=site,
        python=SYSTEM_PYTHON if use_system else Path(sys.executable).resolve(),
        python_prefix=None if use_system else Path(sys.base_prefix).resolve(),
    )
