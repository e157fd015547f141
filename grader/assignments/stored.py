"""An upload made into what a version stores: loaded and checked as given, made self-contained, packed
canonically, and loaded again from exactly the bytes that will be stored (what every worker will load)."""

from dataclasses import dataclass
from pathlib import Path

from grader.assignments.loaded import AssignmentBundle
from grader.assignments.loader import load_bundle, load_bundle_bytes
from grader.assignments.pack import hash_files, pack_files, self_contained_files
from grader.errors import BundleTooLarge


@dataclass(frozen=True)
class PreparedVersion:
    """A bundle ready to store: `bundle` is loaded from `data`, the canonical archive of the files hashed."""

    bundle: AssignmentBundle
    data: bytes
    content_hash: str


def _load_given(source: Path | bytes, archive_name: str, max_bytes: int) -> AssignmentBundle:
    shown = archive_name or (str(source) if isinstance(source, Path) else "the upload")
    size = len(source) if isinstance(source, bytes) else (source.stat().st_size if source.is_file() else 0)
    if size > max_bytes:
        raise BundleTooLarge(f"the archive is {size // 1024} KiB; at most {max_bytes // 1024} KiB is accepted",
                             file=shown)
    if isinstance(source, bytes):
        return load_bundle_bytes(source, name=shown)
    return load_bundle(source)


def prepare_version(source: Path | bytes, *, archive_name: str = "", max_bytes: int) -> PreparedVersion:
    """A folder, an archive file or archive bytes (named by `archive_name`, whose suffix says .zip or .tar.gz),
    as the version it would store; BundleInvalid (naming the upload's own file and line) if it does not load."""
    given = _load_given(source, archive_name, max_bytes)
    contents = self_contained_files(given.folder, dict(given.package.files))
    content_hash = hash_files(contents)
    data = pack_files(contents)
    bundle = load_bundle_bytes(data, name=f"{given.name}@{content_hash[:12]}.tar.gz")
    return PreparedVersion(bundle=bundle, data=data, content_hash=content_hash)
