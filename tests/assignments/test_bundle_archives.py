"""A bundle travels as a .zip or .tar.gz of its folder: it loads as the folder does, with the same version, and an
archive that could write outside its root or hold a link is refused whole."""

import io
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from grader.assignments.bundle import load_bundle, load_bundle_bytes
from grader.errors import BundleInvalid
from tests.assignments.authoring import write_bundle


def _files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file()}


def _zip(entries: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in entries.items():
            archive.writestr(name, body)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def _tar(entries: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, body in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            archive.addfile(info)
    return buffer.getvalue()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / "scaling", hidden=True)


@pytest.mark.parametrize("pack", [_zip, _tar])
@pytest.mark.parametrize("prefix", ["", "scaling/"])
def test_an_archive_loads_as_its_folder_with_the_same_version(folder: Path, tmp_path: Path, pack: object,
                                                              prefix: str) -> None:
    data = pack({prefix + name: body for name, body in _files(folder).items()})  # type: ignore[operator]
    name = "scaling.zip" if pack is _zip else "scaling.tar.gz"
    (tmp_path / name).write_bytes(data)
    from_folder, from_file = load_bundle(folder), load_bundle(tmp_path / name)
    from_bytes = load_bundle_bytes(data, name=name)
    assert from_file.rubric.version == from_bytes.rubric.version == from_folder.rubric.version
    assert from_file.package == from_folder.package and list(from_file.probes) == ["hidden-scale-random"]
    assert from_file.folder != folder and (from_file.folder / "hidden_tests.py").is_file()


@pytest.mark.parametrize("pack", [_zip, _tar])
@pytest.mark.parametrize("evil", ["../escape.py", "/etc/evil.py", "scaling/../../escape.py", "other/extra.py"])
def test_an_entry_outside_the_root_is_refused(folder: Path, tmp_path: Path, pack: object, evil: str) -> None:
    entries = {"scaling/" + name: body for name, body in _files(folder).items()}
    entries[evil] = b"print('outside')\n"
    with pytest.raises(BundleInvalid, match="lies outside the bundle's root") as caught:
        load_bundle_bytes(pack(entries), name="b.zip" if pack is _zip else "b.tar.gz")  # type: ignore[operator]
    assert caught.value.file in ("b.zip", "b.tar.gz")
    assert not (tmp_path / "escape.py").exists()


@pytest.mark.parametrize("pack", [_zip, _tar])
def test_a_symlink_entry_is_refused(folder: Path, pack: object) -> None:
    data = pack(_files(folder), links={"reference/data.py": "/etc/passwd"})  # type: ignore[operator]
    name = "b.zip" if pack is _zip else "b.tar.gz"
    with pytest.raises(BundleInvalid, match=r"reference/data.py' is a (symlink|link)"):
        load_bundle_bytes(data, name=name)


def test_a_symlink_in_a_bundle_folders_package_is_refused(folder: Path) -> None:
    (folder / "package" / "minitorch" / "secrets.py").symlink_to("/etc/passwd")
    with pytest.raises(BundleInvalid, match="is a symlink") as caught:
        load_bundle(folder)
    assert caught.value.file.endswith("package/minitorch/secrets.py")


def test_an_archive_without_a_manifest_and_a_file_that_is_no_archive(tmp_path: Path) -> None:
    with pytest.raises(BundleInvalid, match=r"no assignment\.yaml at the archive's top or in exactly one"):
        load_bundle_bytes(_zip({"a/x.py": b"", "b/y.py": b""}), name="b.zip")
    with pytest.raises(BundleInvalid, match="not a readable zip archive"):
        load_bundle_bytes(b"not a zip", name="b.zip")
    (tmp_path / "bundle.rar").write_bytes(b"x")
    with pytest.raises(BundleInvalid, match=r"a \.zip or \.tar\.gz of one"):
        load_bundle(tmp_path / "bundle.rar")


def test_the_extraction_lives_as_long_as_its_bundle(folder: Path) -> None:
    bundle = load_bundle_bytes(_zip(_files(folder)), name="b.zip")
    extracted = bundle.folder
    assert (extracted / "assignment.yaml").is_file()
    del bundle
    import gc

    gc.collect()
    assert not extracted.exists()
