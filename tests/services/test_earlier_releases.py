"""A course that published v1 and then v2 of layers-linear (v2 changed a locked test): its v1-release students are
`locked_cell_outdated`, a tampered copy is `locked_cell_edited`, a v2 student has no flag; a rejected upload was
never released and excuses nothing. Stored versions on SQLite and Postgres; the check is faked here (its boundary
is tested in tests/assignments and on the real stack in tests/stack/test_midterm_fix.py)."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from grader.assignments.bundle import AssignmentBundle, load_bundle
from grader.assignments.pack import pack_folder
from grader.db import session_scope
from grader.notebooks.reader import read_submission
from grader.notebooks.restore import restore_locked_cells
from grader.services.assignment_versions import publish_now, settle_check, store_upload
from grader.services.bundles import clear_bundle_cache
from grader.services.courses import create_course
from grader.services.earlier_releases import earlier_releases
from tests.stack.midterm_bundles import FIXED_ITEM, replaced, tampered, write_v1, write_v2

MAX_BYTES = 512 * 1024
COURSE = "cs-midterm"


@dataclass
class Verdict:
    """A check's outcome as settling reads it."""

    passed: bool

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed}


def passing(bundle: AssignmentBundle, **_: object) -> Verdict:
    return Verdict(passed=True)


@pytest.fixture
def course(session_factory: sessionmaker[Session], tmp_path: Path) -> dict[str, AssignmentBundle]:
    """v1 then v2 published; a third upload (v1 with another assert) rejected by its check."""
    clear_bundle_cache()
    with session_scope(session_factory) as session:
        create_course(session, COURSE)
    folders = {"v1": write_v1(tmp_path / "v1"), "v2": write_v2(tmp_path / "v2")}
    for name in ("v1", "v2"):
        publish_now(session_factory, runner=None, course=COURSE, source=folders[name], published_by="t",
                    force=False, check=passing)
    rejected = write_v1(tmp_path / "rejected")
    (rejected / "layers.py").write_text(tampered((rejected / "layers.py").read_text()))
    with session_scope(session_factory) as session:
        version = store_upload(session, course=COURSE, bundle_bytes=pack_folder(rejected),
                               archive_name="rejected.tar.gz", published_by="t", force=False)
        settle_check(session, version_id=version.id, report=Verdict(passed=False))
    return {name: load_bundle(folder) for name, folder in {**folders, "rejected": rejected}.items()}


def _flags(session_factory: sessionmaker[Session], text: str, current: AssignmentBundle) -> list[str]:
    with session_scope(session_factory) as session:
        earlier = earlier_releases(session, course=COURSE, assignment="layers-linear")
    cells = read_submission(text.encode(), "layers.py", max_bytes=MAX_BYTES)
    return restore_locked_cells(cells, current.source_cells, earlier).flags


def test_v1_student_outdated_tampered_edited_v2_clean(session_factory: sessionmaker[Session],
                                                      course: dict[str, AssignmentBundle]) -> None:
    v1, v2 = course["v1"], course["v2"]
    assert _flags(session_factory, v1.source_text, v2) == [f"locked_cell_outdated:{FIXED_ITEM}"]
    assert _flags(session_factory, v2.source_text, v2) == []
    edited = replaced(v1.source_text, ("without a bias, y = x @ W", "without a bias, y = x times W"))
    assert _flags(session_factory, edited, v2) == [f"locked_cell_edited:{FIXED_ITEM}"]


def test_a_rejected_upload_was_never_released(session_factory: sessionmaker[Session],
                                              course: dict[str, AssignmentBundle]) -> None:
    assert _flags(session_factory, course["rejected"].source_text, course["v2"]) == [
        f"locked_cell_edited:{FIXED_ITEM}"]


def test_the_shipped_release_counts_for_a_course_that_published(session_factory: sessionmaker[Session],
                                                                 course: dict[str, AssignmentBundle]) -> None:
    """v1 is the shipped bundle's content, so a course's earlier releases include it either way; a course-less
    submission has none."""
    with session_scope(session_factory) as session:
        assert not earlier_releases(session, course=None, assignment="layers-linear")
        create_course(session, "cs-other")
        assert not earlier_releases(session, course="cs-other", assignment="layers-linear")
