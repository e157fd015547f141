"""Uploading an assignment version over the API: 202 and a `checking` version whose check is sent after commit;
the worker's task body settles it (published and current, rejected, or forced); reads, moving current, and
every bad upload (nothing stored, nothing sent)."""

from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from grader.assignments.loader import load_bundle
from grader.db import session_scope
from grader.models import AssignmentVersion, BundleArchive, VersionStatus
from grader.services.assignment_versions import settle_check
from tests.api.bundle_uploads import (
    FLAKY_SEED,
    LINEAR,
    bundle_copy,
    escaping_entry,
    report_for,
    symlink_entry,
    tar_gz,
    tar_with,
    zip_of,
)
from tests.api.conftest import ApiWorld

UPLOAD = "/api/v1/assignments"


def upload(world: ApiWorld, data: bytes, *, filename: str = "bundle.tar.gz", who: str = "instructor",
           force: bool | None = None) -> httpx.Response:
    form = {} if force is None else {"force": "true" if force else "false"}
    return world.client.post(UPLOAD, headers=world.headers(who), data=form, files={"bundle": (filename, data)})


def stored_counts(world: ApiWorld) -> tuple[int, int]:
    with session_scope(world.factory) as session:
        return (session.scalar(select(func.count()).select_from(AssignmentVersion)) or 0,
                session.scalar(select(func.count()).select_from(BundleArchive)) or 0)


def settle(world: ApiWorld, version_id: str, folder: Path, **findings: object) -> None:
    """What the worker's check leaves: the stored report of the uploaded bundle, settled in one transaction."""
    with session_scope(world.factory) as session:
        settle_check(session, version_id=version_id, report=report_for(load_bundle(folder), **findings))  # type: ignore[arg-type]


def get(world: ApiWorld, path: str, who: str = "instructor") -> httpx.Response:
    return world.client.get(path, headers=world.headers(who))


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_upload_is_202_checking_and_its_check_is_sent_after_commit(world: ApiWorld, tmp_path: Path,
                                                                   kind: str) -> None:
    folder = bundle_copy(tmp_path, title=f"Linear, uploaded as {kind}")
    data = tar_gz(folder) if kind == "tar.gz" else zip_of(folder)
    response = upload(world, data, filename=f"{LINEAR}.{kind}")
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["assignment"], body["status"], body["forced"], body["course"]) == (LINEAR, "checking", False,
                                                                                   world.course)
    assert response.headers["location"] == body["links"]["self"] == f"{UPLOAD}/{LINEAR}/versions/{body['id']}"
    assert [(m.kind, m.run_id) for m in world.dispatcher.messages] == [("check", body["id"])]
    polled = get(world, response.headers["location"]).json()
    assert (polled["status"], polled["check"], polled["current"]) == ("checking", None, False)
    assert polled["published_by"].startswith("api token ") and len(polled["content_hash"]) == 64
    listed = {a["id"]: a for a in get(world, UPLOAD).json()}
    assert listed[LINEAR]["current"] == {"version_id": None, "rubric_version": listed[LINEAR]["rubric_version"],
                                         "published_versions": 0}, "a checking version is never current"


def test_a_passing_check_publishes_and_makes_current(world: ApiWorld, tmp_path: Path) -> None:
    folder = bundle_copy(tmp_path, title="Linear v2")
    version_id = upload(world, tar_gz(folder)).json()["id"]
    settle(world, version_id, folder, flaky="test-linear", tests_nothing="test-linear-edge-cases")
    version = get(world, f"{UPLOAD}/{LINEAR}/versions/{version_id}").json()
    assert (version["status"], version["forced"], version["current"]) == ("published", False, True)
    assert version["published_at"] is not None and version["title"] == "Linear v2"
    check = version["check"]
    assert check["passed"] and check["flaky"] == ["test-linear"]
    assert check["tests_nothing"] == ["test-linear-edge-cases"]
    rows = {item["id"]: item for item in check["items"]}
    assert rows["test-linear"]["failing_seed"] == FLAKY_SEED and rows["test-linear"]["flaky"]
    assert rows["test-linear"]["locked_runs"] == 3000
    assert rows["test-linear"]["locked_rate"] == pytest.approx(2995 / 3000)
    assert rows["test-linear-edge-cases"]["release_passes"]
    hidden = [item for item in check["items"] if item["kind"] == "hidden"]
    assert hidden and all(item["locked_runs"] == 0 and item["locked_rate"] is None for item in hidden)
    detail = get(world, f"{UPLOAD}/{LINEAR}").json()
    assert detail["current"]["version_id"] == version_id and detail["current"]["published_versions"] == 1
    assert detail["title"] == "Linear v2", "the course now grades with the published version"
    assert [v["id"] for v in get(world, f"{UPLOAD}/{LINEAR}/versions").json()] == [version_id]


def test_a_failing_check_rejects_and_force_publishes_anyway(world: ApiWorld, tmp_path: Path) -> None:
    bad = bundle_copy(tmp_path / "bad", title="Linear, failing")
    rejected = upload(world, tar_gz(bad)).json()["id"]
    settle(world, rejected, bad, passed=False)
    view = get(world, f"{UPLOAD}/{LINEAR}/versions/{rejected}").json()
    assert (view["status"], view["current"], view["check"]["passed"]) == ("rejected", False, False)
    assert get(world, f"{UPLOAD}/{LINEAR}").json()["current"]["version_id"] is None
    forced_folder = bundle_copy(tmp_path / "forced", title="Linear, forced")
    forced = upload(world, tar_gz(forced_folder), force=True).json()
    assert forced["forced"] is True
    settle(world, forced["id"], forced_folder, passed=False)
    view = get(world, f"{UPLOAD}/{LINEAR}/versions/{forced['id']}").json()
    assert (view["status"], view["forced"], view["current"], view["check"]["passed"]) == ("published", True, True,
                                                                                          False)
    statuses = [(v["id"], v["status"]) for v in get(world, f"{UPLOAD}/{LINEAR}/versions").json()]
    assert statuses == [(forced["id"], "published"), (rejected, "rejected")], "newest first"


def test_current_moves_to_a_published_version_and_back_to_shipped(world: ApiWorld, tmp_path: Path) -> None:
    ids = []
    for n in (1, 2):
        folder = bundle_copy(tmp_path / str(n), title=f"Linear v{n}")
        ids.append(upload(world, tar_gz(folder)).json()["id"])
        settle(world, ids[-1], folder)
    checking = upload(world, tar_gz(bundle_copy(tmp_path / "3", title="Linear v3"))).json()["id"]
    path = f"{UPLOAD}/{LINEAR}/current"
    headers = world.headers("instructor")
    moved = world.client.put(path, headers=headers, json={"version": ids[0]})
    assert moved.status_code == 200 and moved.json()["version_id"] == ids[0], moved.text
    assert get(world, f"{UPLOAD}/{LINEAR}").json()["title"] == "Linear v1"
    refused = world.client.put(path, headers=headers, json={"version": checking})
    assert refused.status_code == 409 and refused.json()["error"] == "conflict"
    assert world.client.put(path, headers=headers, json={"version": "nosuchversion"}).status_code == 404
    assert world.client.put(f"{UPLOAD}/layers/current", headers=headers, json={"version": ids[1]}).status_code == 404
    back = world.client.put(path, headers=headers, json={"version": None})
    assert back.status_code == 200 and back.json()["version_id"] is None
    assert get(world, f"{UPLOAD}/{LINEAR}").json()["title"] == "Layers: the Linear and Dropout layers"
    assert world.client.put(path, headers=headers, json={}).status_code == 422


def test_another_course_cannot_read_or_use_a_version(world: ApiWorld, tmp_path: Path) -> None:
    folder = bundle_copy(tmp_path, title="Linear, private")
    version_id = upload(world, tar_gz(folder)).json()["id"]
    settle(world, version_id, folder)
    other = get(world, f"{UPLOAD}/{LINEAR}/versions/{version_id}", who="other_instructor")
    assert other.status_code == 404 and world.course not in other.text
    assert get(world, f"{UPLOAD}/{LINEAR}/versions", who="other_instructor").json() == []
    moved = world.client.put(f"{UPLOAD}/{LINEAR}/current", headers=world.headers("other_instructor"),
                             json={"version": version_id})
    assert moved.status_code == 404
    assert get(world, f"{UPLOAD}/layers/versions/{version_id}").status_code == 404, "a version of another id"


@pytest.mark.parametrize("who", ["lms", "other_lms", "nobody"])
def test_only_an_instructor_token_uploads(world: ApiWorld, tmp_path: Path, who: str) -> None:
    before = stored_counts(world)
    response = upload(world, tar_gz(bundle_copy(tmp_path)), who=who)
    assert response.status_code == (401 if who == "nobody" else 403), response.text
    assert stored_counts(world) == before and world.dispatcher.messages == []


def _broken_yaml(tmp_path: Path) -> bytes:
    folder = bundle_copy(tmp_path)
    manifest = folder / "assignment.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("items:\n", "items: [\n", 1), encoding="utf-8")
    return tar_gz(folder)


def _unknown_probe(tmp_path: Path) -> bytes:
    folder = bundle_copy(tmp_path)
    manifest = folder / "assignment.yaml"
    text = manifest.read_text(encoding="utf-8")
    assert "    kind: hidden\n" in text
    manifest.write_text(text.replace("    kind: hidden\n", "    kind: hidden\n    probe: no-such-probe\n", 1),
                        encoding="utf-8")
    return tar_gz(folder)


def _escaping(tmp_path: Path) -> bytes:
    info, data = escaping_entry()
    return tar_with(bundle_copy(tmp_path), info, data)


BAD_UPLOADS = {
    "yaml error": (_broken_yaml, "assignment.yaml, line "),
    "unknown probe": (_unknown_probe, "no-such-probe"),
    "entry outside its root": (_escaping, "escaped.txt"),
    "symlink": (lambda tmp: tar_with(bundle_copy(tmp), symlink_entry()), "passwd"),
    "not an archive": (lambda tmp: b"just some text", "bundle.tar.gz"),
}


@pytest.mark.parametrize("case", sorted(BAD_UPLOADS))
def test_a_bad_upload_is_422_naming_the_problem_and_stores_nothing(world: ApiWorld, tmp_path: Path,
                                                                   case: str) -> None:
    build, named = BAD_UPLOADS[case]
    before = stored_counts(world)
    response = upload(world, build(tmp_path))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "bundle_invalid" and named in body["detail"], body
    assert stored_counts(world) == before and world.dispatcher.messages == []


def test_an_over_size_archive_is_413_and_stores_nothing(api_database: str, tmp_path: Path) -> None:
    from tests.api.conftest import build_world

    small = build_world(api_database, bundle_max_kib=8)
    before = stored_counts(small)
    with small.client:
        data = tar_gz(bundle_copy(tmp_path))
        assert len(data) > 8 * 1024
        response = upload(small, data)
        assert response.status_code == 413 and response.json()["error"] == "too_large", response.text
        assert "8 KiB" in response.json()["detail"]
        huge = upload(small, b"x" * (200 * 1024))
        assert huge.status_code == 413 and huge.json()["error"] == "too_large", "refused by the body cap"
        assert stored_counts(small) == before and small.dispatcher.messages == []


def test_a_bundle_upload_may_be_larger_than_a_submission(api_database: str, tmp_path: Path) -> None:
    """The 512 KiB submission cap does not apply to bundles (they have bundle_max_kib)."""
    from tests.api.conftest import build_world

    roomy = build_world(api_database, max_upload_kib=16)
    with roomy.client:
        data = tar_gz(bundle_copy(tmp_path, title="Linear, larger than a submission"))
        assert len(data) > 16 * 1024
        assert upload(roomy, data).status_code == 202


def test_the_same_content_twice_is_one_version(world: ApiWorld, tmp_path: Path) -> None:
    folder = bundle_copy(tmp_path, title="Linear, twice")
    first = upload(world, tar_gz(folder)).json()
    settle(world, first["id"], folder)
    again = upload(world, zip_of(folder), filename="again.zip")
    assert again.status_code == 202, again.text
    assert again.json()["id"] == first["id"]
    assert again.json()["status"] == "published", "already checked: not checked again"
    assert [m.run_id for m in world.dispatcher.messages] == [first["id"]]
    with session_scope(world.factory) as session:
        assert session.get(AssignmentVersion, first["id"]).status == VersionStatus.PUBLISHED  # type: ignore[union-attr]
