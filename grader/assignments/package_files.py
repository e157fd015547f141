"""A bundle's package: the read-only modules a submission imports, gathered into one PackageSpec for the sandbox.

Files come from a folder of the bundle (`package/` by default) and, by name, from the grader's reference library
(`package.from_tinytorch_ref`: staged path -> tinytorch_ref file), so a shipped bundle need not copy them.
"""

import importlib.util
from pathlib import Path, PurePosixPath

from grader.assignments.archive import MANIFEST
from grader.assignments.marked_yaml import MarkedDocument, load_marked
from grader.assignments.schema import AssignmentSpec, parse_spec
from grader.errors import BundleInvalid
from grader.sandbox.package import RUNTIME_FILE, PackageSpec

DEFAULT_FOLDER = "package"
SKIPPED = ("__pycache__",)


def reference_dir() -> Path:
    """tinytorch_ref's folder, found without importing it (it imports numpy)."""
    found = importlib.util.find_spec("tinytorch_ref")
    assert found is not None and found.submodule_search_locations, "tinytorch_ref is part of the grader"
    return Path(next(iter(found.submodule_search_locations)))


def _staged_path(raw: str) -> str | None:
    """A relative POSIX path inside the package, or None when it is absolute or climbs out."""
    path = PurePosixPath(raw)
    if not raw or path.is_absolute() or ".." in path.parts or "\\" in raw or raw != path.as_posix():
        return None
    return raw


def _folder_files(folder: Path, file: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part in SKIPPED for part in relative.parts) or path.suffix == ".pyc":
            continue
        if path.is_symlink():
            raise BundleInvalid(f"{relative.as_posix()} is a symlink; a package holds plain files only",
                                file=f"{file}/{relative.as_posix()}")
        if path.is_file():
            files[relative.as_posix()] = path.read_bytes()
    return files


def _reference_files(spec: AssignmentSpec, document: MarkedDocument, have: dict[str, bytes]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    source_dir = reference_dir()
    for staged, name in spec.package.from_tinytorch_ref.items():
        where = ("package", "from_tinytorch_ref", staged)
        if _staged_path(staged) is None:
            raise document.error(where, f"{staged!r} is not a relative path inside the package")
        if staged in have:
            raise document.error(where, f"{staged} is both in the package folder and named from tinytorch_ref")
        if "/" in name or not (source_dir / name).is_file():
            raise document.error(where, f"tinytorch_ref has no file {name!r}")
        files[staged] = (source_dir / name).read_bytes()
    return files


def module_names(paths: list[str]) -> list[str]:
    """The importable modules among staged paths, parents before children (`a/__init__.py` is `a`)."""
    modules = []
    for path in sorted(paths):
        parts = PurePosixPath(path).with_suffix("").parts
        if not path.endswith(".py") or not all(part.isidentifier() for part in parts):
            continue
        modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return [module for module in modules if module]


def _check_shadowing(files: dict[str, bytes], named: set[str], spec: AssignmentSpec, document: MarkedDocument,
                     *, folder: str) -> None:
    """The student's module must be the one a submission's import finds, never a package file."""
    for path in sorted(files):
        top = PurePosixPath(path).parts[0]
        if top.removesuffix(".py") != spec.module_name and top != RUNTIME_FILE:
            continue
        what = f"the student's module {spec.module_name}" if top != RUNTIME_FILE else "the sandbox's runtime file"
        problem = f"the package's {top} shadows {what} ({spec.submission})"
        if path in named:
            raise document.error(("package", "from_tinytorch_ref", path), problem)
        raise BundleInvalid(problem, file=f"{folder}/{path}")


def build_package(spec: AssignmentSpec, folder: Path, document: MarkedDocument, *, file: str) -> PackageSpec:
    """The PackageSpec of a bundle; every path, collision and the tensor class's module are checked."""
    named = spec.package.folder
    if named is not None and (_staged_path(named) is None or not (folder / named).is_dir()):
        raise document.error(("package", "folder"), f"the package folder {named!r} is not a folder of the bundle")
    package_dir = folder / (named or DEFAULT_FOLDER)
    shown = f"{file}/{named or DEFAULT_FOLDER}"
    files = _folder_files(package_dir, shown) if package_dir.is_dir() else {}
    from_reference = _reference_files(spec, document, files)
    files.update(from_reference)
    _check_shadowing(files, set(from_reference), spec, document, folder=shown)
    modules = module_names(list(files))
    if spec.tensor_class is not None and spec.tensor_class.split(":")[0] not in modules:
        raise document.error(("tensor_class",), f"the tensor class's module {spec.tensor_class.split(':')[0]} is "
                                                "not a module of the package")
    preimports = modules if spec.package.preimports is None else spec.package.preimports
    return PackageSpec(files=tuple(sorted(files.items())), preimports=tuple(preimports),
                       tensor_class=spec.tensor_class or "")


def read_manifest(folder: Path, file: str) -> MarkedDocument:
    """The bundle's assignment.yaml, parsed with line marks; `file` is how errors name the bundle."""
    path = folder / MANIFEST
    if not path.is_file():
        raise BundleInvalid(f"not a bundle: it has no {MANIFEST}", file=file)
    try:
        return load_marked(path.read_text(encoding="utf-8"), f"{file}/{MANIFEST}")
    except UnicodeDecodeError as exc:
        raise BundleInvalid(f"not UTF-8 text (byte {exc.start})", file=f"{file}/{MANIFEST}") from exc


def load_package(folder: Path, *, file: str) -> PackageSpec:
    """The package of the bundle in `folder` alone, without its source or hidden tests: what a sandbox needs to
    start, known before the rest of the bundle is read (loading the bundle checks it whole, this included)."""
    document = read_manifest(folder, file)
    return build_package(parse_spec(document), folder, document, file=file)
