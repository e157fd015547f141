"""A bundle folder as one canonical archive: the same files always give the same bytes and the same content hash.

The archive is a .tar.gz of plain files only, sorted by path, with mtime 0, uid/gid 0 and fixed modes, so a
version is addressed by what it holds, never by when or where it was packed. Junk an editor or an OS leaves
behind (`__pycache__`, `.DS_Store`, ...) is neither packed nor hashed.
"""

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

import yaml

from grader.assignments.archive import MANIFEST, MAX_ENTRIES, MAX_UNPACKED_BYTES
from grader.assignments.package_files import DEFAULT_FOLDER
from grader.errors import BundleInvalid, BundleTooLarge

JUNK_PARTS = frozenset({"__pycache__", ".DS_Store", "__MACOSX", ".ipynb_checkpoints", ".git", "Thumbs.db"})
JUNK_SUFFIXES = (".pyc", ".pyo")
MATERIALISED_HEADER = ("# Published with the package files it named from tinytorch_ref copied into its package "
                       "folder.\n")


def bundle_files(folder: Path) -> list[tuple[str, Path]]:
    """(relative POSIX path, path) of every file that belongs to the bundle, sorted; a symlink is refused."""
    files = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part in JUNK_PARTS for part in relative.parts) or path.name.endswith(JUNK_SUFFIXES):
            continue
        if path.is_symlink():
            raise BundleInvalid("a symlink; a bundle holds plain files only", file=f"{folder}/{relative.as_posix()}")
        if path.is_file():
            files.append((relative.as_posix(), path))
    if len(files) > MAX_ENTRIES:
        raise BundleTooLarge(f"the bundle holds more than {MAX_ENTRIES} files", file=str(folder))
    return sorted(files)


def _read_all(folder: Path) -> list[tuple[str, bytes]]:
    contents, total = [], 0
    for name, path in bundle_files(folder):
        body = path.read_bytes()
        total += len(body)
        if total > MAX_UNPACKED_BYTES:
            raise BundleTooLarge(f"the bundle's files exceed {MAX_UNPACKED_BYTES // (1024 * 1024)} MiB",
                                 file=str(folder))
        contents.append((name, body))
    return contents


def hash_files(contents: list[tuple[str, bytes]]) -> str:
    """sha256 over (path, sha256 of bytes) in path order: 64 hex digits."""
    digest = hashlib.sha256()
    for name, body in sorted(contents):
        digest.update(name.encode() + b"\0" + hashlib.sha256(body).digest())
    return digest.hexdigest()


def content_hash(folder: Path) -> str:
    """The hash a version of this folder is stored under (the same as its packed archive's)."""
    return hash_files(_read_all(folder))


def pack_folder(folder: Path) -> bytes:
    """The folder's canonical .tar.gz (files at the archive's top)."""
    return pack_files(_read_all(folder))


def pack_files(contents: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as zipped, \
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, body in sorted(contents):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode, info.uid, info.gid = len(body), 0, 0o644, 0, 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def self_contained_files(folder: Path, package: dict[str, bytes]) -> list[tuple[str, bytes]]:
    """The folder's files, with every package file the manifest names from the grader's reference library
    (`package.from_tinytorch_ref`) copied into the bundle's package folder and that key removed: a stored
    version then holds every file its submissions import, whatever grader later loads it.

    `package` is the loaded bundle's staged files (path -> bytes).
    """
    contents = _read_all(folder)
    manifest = yaml.safe_load((folder / MANIFEST).read_text(encoding="utf-8"))
    section = manifest.get("package") or {}
    named = section.get("from_tinytorch_ref") or {}
    if not named:
        return contents
    target = section.get("folder") or DEFAULT_FOLDER
    del section["from_tinytorch_ref"]
    if not section:
        del manifest["package"]
    text = MATERIALISED_HEADER + yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=118)
    kept = [(name, body) for name, body in contents if name != MANIFEST]
    copied = [(f"{target}/{staged}", package[staged]) for staged in named]
    return sorted([*kept, *copied, (MANIFEST, text.encode())])
