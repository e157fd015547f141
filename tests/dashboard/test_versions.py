"""An assignment's versions page: who uploaded each version, when, its status and forced flag, and its check table
(pass rates, the flaky test with its seed, what tests nothing); the form that moves current; the submission page
naming the version that graded a run. On SQLite and PostgreSQL, like every dashboard page."""

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from grader.assignments.loader import load_bundle
from grader.db import session_scope
from grader.models import AssignmentVersion, GradingRun
from grader.services.assignment_versions import settle_check, store_upload
from tests.api.bundle_uploads import FLAKY_SEED, LINEAR, bundle_copy, report_for, tar_gz
from tests.api.conftest import ApiWorld
from tests.dashboard.conftest import HOSTILE, Seeded, csrf_of, elements

PAGE = f"/dashboard/assignments/{LINEAR}/versions"


def _store(world: ApiWorld, folder: Path, *, course: str | None = None, force: bool = False,
           settle: dict[str, object] | None = None) -> str:
    """A version as an upload leaves it (`checking`), settled with a report as the worker's check would."""
    with session_scope(world.factory) as session:
        version = store_upload(session, course=course or world.course, bundle_bytes=tar_gz(folder),
                               archive_name=f"{folder.name}.tar.gz", published_by="ada@example.edu", force=force)
        if settle is not None:
            settle_check(session, version_id=version.id, report=report_for(load_bundle(folder), **settle))  # type: ignore[arg-type]
        return version.id


def _rows(page: str) -> dict[str, dict[str, str]]:
    return {row["data-version"]: row for row in elements(page, "tr") if "data-version" in row}


def test_versions_page_shows_each_version_and_its_check(browser: TestClient, world: ApiWorld,
                                                        tmp_path: Path) -> None:
    rejected = _store(world, bundle_copy(tmp_path / "a", title="Linear, failing"), settle={"passed": False})
    forced = _store(world, bundle_copy(tmp_path / "b", title="Linear, forced"), force=True,
                    settle={"passed": False})
    published = _store(world, bundle_copy(tmp_path / "c", title="Linear, good"),
                       settle={"flaky": "test-linear", "tests_nothing": "test-linear-edge-cases"})
    checking = _store(world, bundle_copy(tmp_path / "d", title="Linear, waiting"))
    page = browser.get(PAGE).text
    rows = _rows(page)
    assert [v for v in rows if v in {rejected, forced, published, checking}] == [checking, published, forced,
                                                                                 rejected], "newest first"
    assert {v: (rows[v]["data-status"], rows[v]["data-forced"]) for v in (rejected, forced, published, checking)} \
        == {rejected: ("rejected", "false"), forced: ("published", "true"), published: ("published", "false"),
            checking: ("checking", "false")}
    assert rows[published].get("class") == "this" and elements(page, "p", id="current-version",
                                                                data_version=published)
    assert "ada@example.edu" in page and ">forced</strong>" in page
    assert elements(page, "form", id=f"use-form-{forced}") and not elements(page, "form", id=f"use-form-{rejected}")
    assert not elements(page, "form", id=f"use-form-{checking}"), "only a published version can be made current"
    section = page.split(f'id="check-{published}"')[1].split("</section>")[0]
    items = {row["data-item"]: row for row in elements(section, "tr") if "data-item" in row}
    assert items["test-linear"].get("class") == "flaky" and items["test-linear"]["data-solution-rate"] == "1.0000"
    assert items["test-linear"]["data-locked-rate"] == f"{2995 / 3000:.4f}"
    assert f"<code>{FLAKY_SEED}</code>" in section and "tanh saturates" in section
    findings = {li["data-finding"]: li for li in elements(section, "li") if "data-finding" in li}
    assert set(findings) == {"flaky", "tests-nothing"}
    flaky_line = section.split('data-finding="flaky"')[1].split("</li>")[0]
    nothing_line = section.split('data-finding="tests-nothing"')[1].split("</li>")[0]
    assert "<code>test-linear</code>" in flaky_line and "<code>test-linear-edge-cases</code>" in nothing_line
    hidden = [row for row in items.values() if row["data-locked-rate"] == ""]
    assert hidden, "hidden items have no locked-test rate"
    failing = page.split(f'id="check-{rejected}"')[1].split("</section>")[0]
    assert "did not earn full marks" in failing
    assert "has not finished checking" in page.split(f'id="check-{checking}"')[1].split("</section>")[0]


def test_versions_page_is_linked_from_the_assignments(browser: TestClient, world: ApiWorld) -> None:
    index = browser.get("/dashboard").text
    assert elements(index, "a", href=PAGE) and elements(index, "a", href="/dashboard/assignments/layers/versions")
    assignment = browser.get(f"/dashboard/assignments/{LINEAR}").text
    assert elements(assignment, "a", href=PAGE)
    empty = browser.get(PAGE).text
    assert "No version was uploaded yet" in empty and elements(empty, "p", id="current-version",
                                                               data_version="shipped")


def test_the_use_form_moves_current_and_back(browser: TestClient, world: ApiWorld, tmp_path: Path) -> None:
    first = _store(world, bundle_copy(tmp_path / "1", title="Linear one"), settle={})
    second = _store(world, bundle_copy(tmp_path / "2", title="Linear two"), settle={})
    page = browser.get(PAGE).text
    token = csrf_of(page)
    action = f"/dashboard/assignments/{LINEAR}/current"
    refused = browser.post(action, data={"version": first, "csrf_token": "wrong"}, follow_redirects=False)
    assert refused.status_code == 403
    assert _rows(browser.get(PAGE).text)[second].get("class") == "this"
    moved = browser.post(action, data={"version": first, "csrf_token": token}, follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"].endswith("/versions?done=current")
    page = browser.get(PAGE).text
    assert _rows(page)[first].get("class") == "this" and elements(page, "form", id="use-shipped-form")
    back = browser.post(action, data={"version": "shipped", "csrf_token": token}, follow_redirects=False)
    assert back.status_code == 303
    assert elements(browser.get(PAGE).text, "p", id="current-version", data_version="shipped")
    api = world.client.get(f"/api/v1/assignments/{LINEAR}", headers=world.headers("instructor")).json()
    assert api["current"]["version_id"] is None


def test_untrusted_titles_stay_text_and_other_courses_stay_out(browser: TestClient, world: ApiWorld,
                                                               tmp_path: Path) -> None:
    ours = _store(world, bundle_copy(tmp_path / "ours", title=HOSTILE.replace('"', "'")), settle={})
    theirs = _store(world, bundle_copy(tmp_path / "theirs", title="Linear, theirs"), course=world.other, settle={})
    page = browser.get(PAGE).text
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert ours in _rows(page) and theirs not in page
    assert browser.get("/dashboard/assignments/pooling/versions").status_code == 404


def test_the_submission_page_names_the_version_that_graded_it(browser: TestClient, world: ApiWorld,
                                                              seeded: Seeded, tmp_path: Path) -> None:
    sid = seeded.ids["bob-2"]
    page = browser.get(f"/dashboard/submissions/{sid}").text
    assert elements(page, "dd", id="graded-version", data_version="shipped") and "the shipped bundle" in page
    version_id = _store(world, bundle_copy(tmp_path, name="layers", title="Layers, fixed"), settle={})
    with session_scope(world.factory) as session:
        version = session.get(AssignmentVersion, version_id)
        assert version is not None
        run = session.scalars(select(GradingRun).where(GradingRun.submission_id == sid, GradingRun.is_current)).one()
        run.rubric_version = version.rubric_version  # as if the published version had graded it
        rubric_version = version.rubric_version
    page = browser.get(f"/dashboard/submissions/{sid}").text
    [graded] = elements(page, "dd", id="graded-version")
    assert (graded["data-version"], graded["data-rubric-version"]) == (version_id, rubric_version)
    assert "published by ada@example.edu" in page
    assert elements(page, "a", href=f"/dashboard/assignments/layers/versions#check-{version_id}")
    [run_row] = [row for row in elements(page, "tr") if row.get("data-rubric-version") == rubric_version]
    assert run_row["data-status"] == "graded"
