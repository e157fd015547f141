"""Publishing assignment versions to a course: stored whole and made current in one transaction, or not at all;
moved between published versions and back to the shipped bundle. On SQLite and Postgres."""

import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from grader.assignments.pack import content_hash, pack_folder
from grader.assignments.registry import load_assignment
from grader.db import session_scope
from grader.errors import BundleInvalid, BundleTooLarge, CheckFailed, Conflict, NotFound
from grader.models import AssignmentVersion, CourseAssignment, VersionStatus
from grader.services.assignment_versions import (
    check_stored_version,
    list_assignments,
    publish_now,
    set_current,
    settle_check,
    store_upload,
    versions,
)
from grader.services.bundles import current_bundle
from tests.services.versions_support import Checker, Report, counts, make_course, scaling, shipped_copy


def publish(factory: sessionmaker[Session], folder: Path, *, passed: bool = True, force: bool = False,
            course: str = "c1") -> AssignmentVersion:
    version, _report = publish_now(factory, runner=None, course=course, source=folder, published_by="prof",
                                   force=force, check=Checker(passed=passed))
    return version


def test_publish_stores_the_version_and_makes_it_current(session_factory: sessionmaker[Session],
                                                         tmp_path: Path) -> None:
    make_course(session_factory)
    checker = Checker()
    version, report = publish_now(session_factory, runner=None, course="c1", source=scaling(tmp_path / "b"),
                                  published_by="prof", force=False, check=checker)
    assert report.passed and [bundle.name for bundle in checker.seen] == ["scaling"]
    assert (version.status, version.forced, version.published_by) == (VersionStatus.PUBLISHED, False, "prof")
    assert version.content_hash == content_hash(tmp_path / "b") and version.check_report == report.to_json()
    with session_scope(session_factory) as session:
        link = session.get(CourseAssignment, ("c1", "scaling"))
        assert link is not None and link.version_id == version.id
        bundle = current_bundle(session, "c1", "scaling")
        assert bundle.rubric.version == version.rubric_version == checker.seen[0].rubric.version
        assert bundle.rubric.max_score == 10 and bundle.title == "Scaling tensors"
        rows = {row.assignment: row for row in list_assignments(session, course="c1")}
    assert rows["scaling"].version is not None and rows["scaling"].published_versions == 1
    assert rows["layers"].version is None, "shipped assignments stay on their shipped bundle"
    assert counts(session_factory) == (1, 1)


def test_the_same_bundle_again_is_the_same_version(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    make_course(session_factory)
    first = publish(session_factory, scaling(tmp_path / "a"))
    (tmp_path / "b").mkdir()
    folder = scaling(tmp_path / "b")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "x.pyc").write_bytes(b"junk")
    again = publish(session_factory, folder)
    assert again.id == first.id and counts(session_factory) == (1, 1)
    assert pack_folder(tmp_path / "a") == pack_folder(folder), "packing is canonical: same files, same bytes"


def test_an_archive_upload_of_a_folder_is_the_folder_s_version(session_factory: sessionmaker[Session],
                                                               tmp_path: Path) -> None:
    make_course(session_factory)
    folder = scaling(tmp_path / "b")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"scaling/{path.relative_to(folder).as_posix()}")
    with session_scope(session_factory) as session:
        stored = store_upload(session, course="c1", bundle_bytes=buffer.getvalue(), archive_name="up.zip",
                              published_by="prof", force=False)
        assert stored.status == VersionStatus.CHECKING and stored.content_hash == content_hash(folder)
        link = session.get(CourseAssignment, ("c1", "scaling"))
        assert link is None, "a version being checked is never current"


@pytest.mark.parametrize("passed, force, status, current", [
    (True, False, VersionStatus.PUBLISHED, True),
    (False, False, VersionStatus.REJECTED, False),
    (False, True, VersionStatus.PUBLISHED, True),
])
def test_settling_a_check(session_factory: sessionmaker[Session], tmp_path: Path, passed: bool, force: bool,
                          status: VersionStatus, current: bool) -> None:
    make_course(session_factory)
    with session_scope(session_factory) as session:
        stored = store_upload(session, course="c1", bundle_bytes=pack_folder(scaling(tmp_path / "b")),
                              archive_name="b.tar.gz", published_by="prof", force=force)
    settled = check_stored_version(session_factory, runner=None, version_id=stored.id, check=Checker(passed))
    assert settled is not None and (settled.status, settled.forced) == (status, force)
    assert settled.check_report is not None and settled.check_report["passed"] is passed
    with session_scope(session_factory) as session:
        link = session.get(CourseAssignment, ("c1", "scaling"))
        assert (link is not None and link.version_id == stored.id) is current
        again = settle_check(session, version_id=stored.id, report=Report(passed=not passed))
        assert again is not None and again.status == status, "a duplicate check message changes nothing"
    assert check_stored_version(session_factory, runner=None, version_id=stored.id, check=Checker()) is None


def test_a_failing_check_without_force_writes_nothing(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    make_course(session_factory)
    with pytest.raises(CheckFailed, match=r"flaky: test-shift.*--force"):
        publish(session_factory, scaling(tmp_path / "b"), passed=False)
    assert counts(session_factory) == (0, 0)
    forced = publish(session_factory, scaling(tmp_path / "b"), passed=False, force=True)
    assert forced.status == VersionStatus.PUBLISHED and forced.forced
    assert forced.check_report is not None and forced.check_report["passed"] is False


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in entries.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def _tar_bomb() -> bytes:
    """A .tar.gz whose one file of zeros unpacks past the 64 MiB cap (from a few dozen KiB)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as archive:
        info = tarfile.TarInfo("assignment.yaml")
        info.size = 68 * 1024 * 1024
        archive.addfile(info, io.BytesIO(bytes(info.size)))
    return buffer.getvalue()


def _bad_uploads(tmp_path: Path) -> dict[str, tuple[bytes, type[Exception], str]]:
    folder = scaling(tmp_path / "good")
    files = {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}
    bad_yaml = {**files, "assignment.yaml": files["assignment.yaml"] + b"  - id: [\n"}
    return {
        "not loading": (_zip(bad_yaml), BundleInvalid, "assignment.yaml, line"),
        "outside root": (_zip({**files, "../evil.py": b"x"}), BundleInvalid, "outside the bundle's root"),
        "zip bomb": (_zip({**files, "padding.txt": b"\0" * (8 * 1024 * 1024)}), BundleTooLarge, "zip bomb"),
        "not an archive": (b"hello", BundleInvalid, "not a readable zip"),
        "tar bomb": (_tar_bomb(), BundleTooLarge, "unpacks to more than 64 MiB"),
    }


@pytest.mark.parametrize("case", ["not loading", "outside root", "zip bomb", "not an archive", "tar bomb"])
def test_a_bad_upload_is_refused_whole(session_factory: sessionmaker[Session], tmp_path: Path, case: str) -> None:
    make_course(session_factory)
    data, error, message = _bad_uploads(tmp_path)[case]
    name = "up.tar.gz" if case == "tar bomb" else "up.zip"
    with session_scope(session_factory) as session, pytest.raises(error, match=message):
        store_upload(session, course="c1", bundle_bytes=data, archive_name=name, published_by="p", force=True)
    assert counts(session_factory) == (0, 0)


def test_a_symlink_in_a_folder_and_an_oversize_archive_are_refused(session_factory: sessionmaker[Session],
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    make_course(session_factory)
    folder = scaling(tmp_path / "b")
    (folder / "notes.txt").symlink_to("/etc/passwd")
    with pytest.raises(BundleInvalid, match=r"notes\.txt: a symlink"):
        publish(session_factory, folder)
    (folder / "notes.txt").unlink()
    from grader.config import get_settings

    monkeypatch.setenv("GRADER_BUNDLE_MAX_KIB", "1")
    get_settings.cache_clear()
    try:
        with session_scope(session_factory) as session, pytest.raises(BundleTooLarge, match="at most 1 KiB") as info:
            store_upload(session, course="c1", bundle_bytes=pack_folder(folder) + b"\0" * 2048,
                         archive_name="b.tar.gz", published_by="p", force=False)
        assert info.value.http_status == 413
    finally:
        get_settings.cache_clear()
    assert counts(session_factory) == (0, 0)


def test_an_unknown_course_stores_nothing(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no course 'nope'"):
        publish(session_factory, scaling(tmp_path / "b"), course="nope")
    assert counts(session_factory) == (0, 0)


def test_move_between_published_versions_and_back_to_shipped(session_factory: sessionmaker[Session],
                                                             tmp_path: Path) -> None:
    make_course(session_factory)
    shipped = load_assignment("layers-linear")
    v1 = publish(session_factory, shipped_copy("layers-linear", tmp_path / "v1", title="Linear v1"))
    v2 = publish(session_factory, shipped_copy("layers-linear", tmp_path / "v2", title="Linear v2"))
    with session_scope(session_factory) as session:
        assert current_bundle(session, "c1", "layers-linear").title == "Linear v2"
        set_current(session, course="c1", assignment="layers-linear", version_id=v1.id)
        assert current_bundle(session, "c1", "layers-linear").title == "Linear v1"
        set_current(session, course="c1", assignment="layers-linear", version_id=None)
        assert current_bundle(session, "c1", "layers-linear") is shipped
        assert [row.id for row in versions(session, course="c1", assignment="layers-linear")] == [v2.id, v1.id]
        with pytest.raises(NotFound, match="is of 'layers-linear', not 'layers'"):
            set_current(session, course="c1", assignment="layers", version_id=v1.id)
    with session_scope(session_factory) as session:
        rejected = store_upload(session, course="c1", bundle_bytes=pack_folder(tmp_path / "v1") + b"",
                                archive_name="v.tar.gz", published_by="p", force=False)
        assert rejected.id == v1.id and rejected.status == VersionStatus.PUBLISHED
    make_course(session_factory, "c2")
    with session_scope(session_factory) as session, pytest.raises(NotFound, match="no assignment version"):
        set_current(session, course="c2", assignment="layers-linear", version_id=v2.id)


def test_only_a_published_version_can_be_current(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    make_course(session_factory)
    with session_scope(session_factory) as session:
        stored = store_upload(session, course="c1", bundle_bytes=pack_folder(scaling(tmp_path / "b")),
                              archive_name="b.tar.gz", published_by="p", force=False)
    publish(session_factory, scaling(tmp_path / "c", title="Other"))
    with session_scope(session_factory) as session, pytest.raises(Conflict, match="is checking"):
        set_current(session, course="c1", assignment="scaling", version_id=stored.id)
    with session_scope(session_factory) as session, pytest.raises(NotFound, match="no shipped bundle"):
        set_current(session, course="c1", assignment="scaling", version_id=None)
