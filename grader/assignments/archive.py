"""A bundle archive (.zip or .tar.gz of one folder) unpacked safely: plain files and folders inside its root only.

Entries that climb out (`../`, absolute paths), links of any kind, devices and entries beside the one folder of
an archive of a folder are refused before anything is written; so are archives past the size caps.
"""

import io
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath

from grader.errors import BundleInvalid, BundleTooLarge

ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz")
MANIFEST = "assignment.yaml"
MAX_ENTRIES = 2000
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_RATIO = 100  # text compresses 3-10 times; far more is a bomb of repeated bytes
RATIO_FLOOR_BYTES = 1024 * 1024  # below this a high ratio (an empty file in a tiny archive) is harmless
TAR_OVERHEAD_BYTES = 3 * 512  # header, PAX header and padding of one tar member


@dataclass(frozen=True)
class Entry:
    """One archive member: its path as written, whether it is a folder, and (for a file) how to read it."""

    name: str
    is_dir: bool
    size: int
    read: Callable[[], bytes]


def is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def _zip_entries(data: bytes, file: str) -> Iterator[Entry]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise BundleInvalid(f"not a readable zip archive: {exc}", file=file) from exc
    for info in archive.infolist():
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise BundleInvalid(f"the entry {info.filename!r} is a symlink; a bundle holds plain files only",
                                file=file)
        yield Entry(info.filename, info.is_dir(), info.file_size, partial(archive.read, info))


def _tar_read(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = archive.extractfile(member)
    return b"" if handle is None else handle.read()


def _gunzip(data: bytes, file: str) -> bytes:
    """The gzip stream's bytes, decompressed no further than the caps allow: a bomb stops here, unread."""
    limit = MAX_UNPACKED_BYTES + MAX_ENTRIES * TAR_OVERHEAD_BYTES
    out, rest = bytearray(), data
    try:
        while rest and len(out) <= limit:
            stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out += stream.decompress(rest, limit + 1 - len(out))
            if not stream.eof and not stream.unconsumed_tail:
                raise BundleInvalid("not a readable .tar.gz archive: the gzip stream is truncated", file=file)
            rest = stream.unused_data if stream.eof else b""
    except zlib.error as exc:
        raise BundleInvalid(f"not a readable .tar.gz archive: {exc}", file=file) from exc
    if len(out) > limit:
        raise BundleTooLarge(f"the archive unpacks to more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MiB",
                             file=file)
    return bytes(out)


def _tar_entries(data: bytes, file: str) -> Iterator[Entry]:
    raw = _gunzip(data, file)
    try:
        archive = tarfile.open(fileobj=io.BytesIO(raw), mode="r:")  # noqa: SIM115 - read lazily, bytes in memory
        members = archive.getmembers()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BundleInvalid(f"not a readable .tar.gz archive: {exc}", file=file) from exc
    for member in members:
        if member.issym() or member.islnk():
            raise BundleInvalid(f"the entry {member.name!r} is a link; a bundle holds plain files only", file=file)
        if not (member.isfile() or member.isdir()):
            raise BundleInvalid(f"the entry {member.name!r} is not a plain file or folder", file=file)
        yield Entry(member.name, member.isdir(), member.size, partial(_tar_read, archive, member))


def _relative(name: str, file: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise BundleInvalid(f"the entry {name!r} lies outside the bundle's root", file=file)
    return PurePosixPath(*[part for part in path.parts if part != "."])


def _root(paths: list[PurePosixPath], file: str) -> PurePosixPath:
    """The folder holding assignment.yaml: the archive's top, or the one top-level folder that holds it."""
    if PurePosixPath(MANIFEST) in paths:
        return PurePosixPath()
    folders = [path.parent for path in paths if path.name == MANIFEST and len(path.parts) == 2]
    if len(folders) == 1:
        return folders[0]
    raise BundleInvalid(f"no {MANIFEST} at the archive's top or in exactly one top-level folder", file=file)


def _check_size(entries: list[Entry], packed: int, file: str) -> None:
    """Caps on entries, unpacked bytes and compression ratio, from the sizes the archive declares (a zip entry
    is never read past its declared size)."""
    total = sum(entry.size for entry in entries)
    if len(entries) > MAX_ENTRIES or total > MAX_UNPACKED_BYTES:
        raise BundleTooLarge(f"the archive holds more than {MAX_ENTRIES} entries or "
                             f"{MAX_UNPACKED_BYTES // (1024 * 1024)} MiB unpacked", file=file)
    if total > RATIO_FLOOR_BYTES and total > MAX_RATIO * max(packed, 1):
        raise BundleTooLarge(f"the archive unpacks to {total // packed} times its size (more than {MAX_RATIO}); "
                             "it looks like a zip bomb", file=file)


def unpack(data: bytes, *, name: str, destination: Path) -> None:
    """Write the bundle's files under `destination` (which must exist and be empty)."""
    file = name
    if name.lower().endswith(".zip"):
        entries = list(_zip_entries(data, file))
    elif is_archive(name):
        entries = list(_tar_entries(data, file))
    else:
        raise BundleInvalid("a bundle archive is a .zip or a .tar.gz", file=file)
    _check_size(entries, len(data), file)
    paths = [_relative(entry.name, file) for entry in entries]
    root = _root([path for path, entry in zip(paths, entries, strict=True) if not entry.is_dir], file)
    written: set[PurePosixPath] = set()
    for path, entry in zip(paths, entries, strict=True):
        if not path.parts or path == root:
            continue
        if path in written and not entry.is_dir:
            raise BundleInvalid(f"the entry {entry.name!r} is in the archive twice", file=file)
        written.add(path)
        if not path.is_relative_to(root):
            raise BundleInvalid(f"the entry {entry.name!r} lies outside the bundle's root {root}/", file=file)
        target = destination.joinpath(*path.relative_to(root).parts)
        if entry.is_dir:
            target.mkdir(parents=True, exist_ok=True)
            continue
        body = entry.read()
        if len(body) != entry.size:
            raise BundleInvalid(f"the entry {entry.name!r} does not hold the size it declares", file=file)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
