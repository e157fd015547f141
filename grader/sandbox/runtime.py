"""The read-only runtime a sandbox sees: the harness, the libraries it needs, and each job's package.

Everything is staged into one world-readable folder outside the project tree, because the sandbox runs
as an unprivileged user that must not (and often cannot) see the project, the venv or root's home. The harness
and the libraries are staged once; a package once per content digest, when the first job that needs it comes.
"""

import contextlib
import hashlib
import os
import shutil
import subprocess
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
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/etc/fonts")  # what fontconfig lists, here and inside
FONT_LIST_TIMEOUT_S = 120
COMPILE_TIMEOUT_S = 600
STAGE_LAYOUT = "2"  # how a stage is filled; a new layout (2: with bytecode) stages afresh beside the old


@dataclass(frozen=True)
class Runtime:
    """Staged folders to expose read-only inside the sandbox, and the interpreter to run there.

    `package_dir` holds every staged package, one folder per digest (see `package`); `font_cache_dir` holds the
    font list matplotlib would otherwise build on every sandbox start (see `_fill_font_cache`).
    """

    harness_dir: Path
    package_dir: Path
    site_dir: Path
    font_cache_dir: Path
    python: Path
    python_prefix: Path | None

    def package(self, spec: PackageSpec) -> Path:
        """The folder `spec` is staged in, staged now if no job needed it before (atomic, as every folder here)."""
        target = self.package_dir / spec.digest
        return target if target.exists() else _stage(target, _fill_package(spec, self.python))


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
    parts = relative.split("/")
    if any(part in ("", ".", "..") or "\0" in part for part in parts) or relative == RUNTIME_FILE:
        raise SandboxFailure(f"the package file path {relative!r} is not a plain relative path")
    return destination.joinpath(*parts)


def _fill_package(spec: PackageSpec, python: Path) -> Callable[[Path], None]:
    """The package's files, compiled, and its runtime description; folders and files readable by the sandbox's
    uid. A module that does not compile is staged as it is: it fails where it is imported, as it would anyway."""
    def fill(destination: Path) -> None:
        for relative, body in spec.files:
            path = _package_path(destination, relative)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
        (destination / RUNTIME_FILE).write_bytes(spec.runtime_description())
        _compile(python, destination, strict=False)
        _readable(destination)

    return fill


def _readable(folder: Path) -> None:
    """Everything in a filled stage readable by the sandbox's uid, and nothing writable but by its owner; folders
    and the files that were executable stay executable."""
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() or path.stat().st_mode & 0o100 else 0o644)


def _compile(python: Path, folder: Path, *, strict: bool = True) -> None:
    """Bytecode for every module, written by the sandbox's own interpreter: the sandbox sees the runtime read-only,
    so without it every start compiles numpy and matplotlib again (about a second and a half). The staged folders
    never change once renamed into place, so the bytecode is not checked against its source."""
    compiled = subprocess.run([str(python), "-I", "-S", "-m", "compileall", "-q", "-j", "0",
                               "--invalidation-mode", "unchecked-hash", str(folder)],
                              capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
    if compiled.returncode != 0 and strict:
        raise SandboxFailure(f"compiling the sandbox runtime failed: {(compiled.stdout + compiled.stderr)[-500:]}")


def _fill_harness(python: Path) -> Callable[[Path], None]:
    def fill(destination: Path) -> None:
        for source in sorted(HARNESS_DIR.glob("*.py")):
            shutil.copyfile(source, destination / source.name)
        _compile(python, destination)
        _readable(destination)

    return fill


def _distribution_closure(names: tuple[str, ...]) -> list[tuple[str, metadata.Distribution]]:
    """The named distributions and everything they require at run time, each with its `Name==version` pin.

    Each distribution's metadata is parsed once: every `Distribution.metadata` access parses its file again, and
    this runs on every command that starts a sandbox.
    """
    found: dict[str, tuple[str, metadata.Distribution]] = {}
    pending = list(names)
    while pending:
        name = pending.pop().lower().replace("_", "-")
        if name in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        meta = dist.metadata
        found[name] = (f"{meta['Name']}=={meta['Version']}", dist)
        for line in meta.get_all("Requires-Dist") or []:
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


def _fill_site(dists: list[metadata.Distribution], python: Path) -> Callable[[Path], None]:
    """Listing the distributions' files reads every RECORD (a third of a second), so only a fill does it. The
    host's bytecode is left behind: it is compiled again by the interpreter the sandbox runs."""
    def fill(destination: Path) -> None:
        for top in _site_tops(dists):
            if top.is_dir():
                shutil.copytree(top, destination / top.name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copyfile(top, destination / top.name)
        _compile(python, destination)
        _readable(destination)

    return fill


def _font_signature() -> str:
    """Every system font file and fontconfig file, by size and mtime: a change to any is a new font list."""
    entries = []
    for root in FONT_DIRS:
        for folder, _subfolders, files in os.walk(root):
            for name in files:
                path = os.path.join(folder, name)
                with contextlib.suppress(OSError):
                    stat = os.stat(path)
                    entries.append(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}")
    return "\n".join(sorted(entries))


def _fill_font_cache(python: Path, site: Path) -> Callable[[Path], None]:
    """matplotlib's font list, built once by the sandbox's interpreter on the staged site.

    Importing pyplot without it scans every system font (one to two seconds, more than numpy and matplotlib
    take to import); the zygote copies this file into its MPLCONFIGDIR instead. Fonts of matplotlib itself are
    stored relative to its data folder, so the list holds inside the sandbox, where the site is mounted elsewhere;
    system fonts are at the same paths there (read-only binds of /usr and /etc/fonts).
    """
    def fill(destination: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="grader-font-home-") as home:
            env = {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
                   "MPLCONFIGDIR": str(destination)}
            script = f"import sys; sys.path.insert(0, {str(site)!r}); import matplotlib.font_manager"
            built = subprocess.run([str(python), "-I", "-S", "-c", script], env=env, cwd=home, capture_output=True,
                                   text=True, timeout=FONT_LIST_TIMEOUT_S)
        if built.returncode != 0:
            raise SandboxFailure(f"matplotlib could not list the fonts: {built.stderr.strip()[-500:]}")
        _readable(destination)

    return fill


def build_runtime(runtime_dir: Path) -> Runtime:
    """Stage (once per content hash) and describe the sandbox runtime; packages are staged as jobs need them."""
    runtime_dir.mkdir(parents=True, exist_ok=True)
    runtime_dir.chmod(0o755)
    packages = runtime_dir / f"packages-{STAGE_LAYOUT}"
    packages.mkdir(mode=0o755, exist_ok=True)
    use_system = SYSTEM_PYTHON.exists()
    python = SYSTEM_PYTHON if use_system else Path(sys.executable).resolve()
    interpreter = f"{python}\0{sys.version}\0{STAGE_LAYOUT}"
    harness = _stage(
        runtime_dir / f"harness-{_digest(sorted(HARNESS_DIR.glob('*.py')), interpreter)}",
        _fill_harness(python),
    )
    closure = _distribution_closure(SANDBOX_DISTRIBUTIONS)
    versions = ",".join(pin for pin, _dist in closure)
    site = _stage(runtime_dir / f"site-{_digest([], versions + interpreter)}",
                  _fill_site([dist for _pin, dist in closure], python))
    fonts = _stage(runtime_dir / f"fonts-{_digest([], site.name + _font_signature())}", _fill_font_cache(python, site))
    return Runtime(
        harness_dir=harness,
        package_dir=packages,
        site_dir=site,
        font_cache_dir=fonts,
        python=python,
        python_prefix=None if use_system else Path(sys.base_prefix).resolve(),
    )
