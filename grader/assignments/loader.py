"""Loading a bundle from a folder, an archive file or archive bytes, checked whole before anything uses it."""

import tempfile
from pathlib import Path, PurePosixPath

from grader.assignments.archive import MANIFEST, is_archive, unpack
from grader.assignments.hidden import load_probes
from grader.assignments.items import rubric_items
from grader.assignments.loaded import AssignmentBundle
from grader.assignments.marked_yaml import MarkedDocument
from grader.assignments.package_files import build_package, read_manifest
from grader.assignments.schema import AssignmentSpec, parse_spec
from grader.assignments.source import read_source
from grader.assignments.version import bundle_version, judge_files
from grader.errors import BundleInvalid
from grader.scoring.rubric import Rubric


def _source_path(spec: AssignmentSpec, folder: Path, document: MarkedDocument) -> Path:
    relative = PurePosixPath(spec.source)
    if relative.is_absolute() or ".." in relative.parts or not (folder / relative).is_file():
        raise document.error(("source",), f"the instructor source {spec.source!r} is not a file of the bundle")
    if (folder / relative).is_symlink():
        raise document.error(("source",), f"the instructor source {spec.source} is a symlink")
    return folder / relative


def load_folder(folder: Path, *, file: str | None = None, keepalive: object = None) -> AssignmentBundle:
    """Load and check the bundle in `folder`; `file` is how errors name it (the folder by default)."""
    file = file or str(folder)
    document = read_manifest(folder, file)
    spec = parse_spec(document)
    source_path = _source_path(spec, folder, document)
    source_text, cells = read_source(source_path, file=f"{file}/{spec.source}")
    package = build_package(spec, folder, document, file=file)
    own = [(MANIFEST, (folder / MANIFEST).read_bytes()), ("source:" + spec.source, source_path.read_bytes())]
    version = bundle_version(own, judge_files(folder), package)
    probes = load_probes(folder, version, file=file)
    rubric = Rubric(items=rubric_items(spec, cells, probes, document),
                    locked_test_seeds=tuple(spec.locked_test_seeds), version=version)
    return AssignmentBundle(
        name=spec.id, title=spec.title, submission_filename=spec.submission, module_name=spec.module_name,
        source_text=source_text, source_cells=cells, required_names=tuple(spec.required_names), rubric=rubric,
        probes=probes, package=package, folder=folder, keepalive=keepalive,
    )


def load_bundle_bytes(data: bytes, *, name: str) -> AssignmentBundle:
    """Load a bundle archive given as bytes (an upload, a stored version); `name` says which kind it is."""
    workdir = tempfile.TemporaryDirectory(prefix="grader-bundle-")
    folder = Path(workdir.name)
    try:
        unpack(data, name=name, destination=folder)
        return load_folder(folder, file=name, keepalive=workdir)
    except BaseException:
        workdir.cleanup()
        raise


def load_bundle(path: Path) -> AssignmentBundle:
    """Load any bundle: a folder, or a .zip / .tar.gz of one."""
    if path.is_dir():
        return load_folder(path)
    if not is_archive(path.name):
        raise BundleInvalid("a bundle is a folder holding assignment.yaml, or a .zip or .tar.gz of one",
                            file=str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BundleInvalid(f"cannot read the archive: {exc.strerror}", file=str(path)) from exc
    return load_bundle_bytes(data, name=str(path))
