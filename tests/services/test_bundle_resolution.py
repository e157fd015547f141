"""Which bundle grades a run: the version the run names, loaded from the database by a worker process that was
running before it was published, through its LRU cache. And what a stored version holds."""

import io
import tarfile
from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session, sessionmaker

from grader.assignments.registry import load_assignment
from grader.assignments.stored import prepare_version
from grader.config import Settings, get_settings
from grader.db import session_scope
from grader.models import GradingRun, RunStatus
from grader.sandbox.runner import SandboxRunner
from grader.services.accept import Upload
from grader.services.bundles import bundle_by_hash, bundle_for_run, cached_hashes, clear_bundle_cache
from grader.services.courses import regrade_submission, submit_to_course
from grader.services.jobs import grade_in_process, in_process_context
from tests.assignments.authoring import SOURCE
from tests.services.test_assignment_versions import publish
from tests.services.versions_support import make_course, scaling, shipped_copy


def _submit(factory: sessionmaker[Session], student: str) -> tuple[str, str]:
    with session_scope(factory) as session:
        intake = submit_to_course(session, course="c1", callback_url=None, max_bytes=1 << 20, upload=Upload(
            SOURCE.encode(), "scale_dev.py", student, "scaling", external_id=student))
        return intake.submission.id, intake.run.id


def _graded(factory: sessionmaker[Session], run_id: str) -> GradingRun:
    with session_scope(factory) as session:
        run = session.get(GradingRun, run_id)
        assert run is not None
        assert bundle_for_run(session, run).rubric.version == run.rubric_version
        return run


def test_a_running_worker_grades_each_run_with_the_version_it_names(
        session_factory: sessionmaker[Session], settings: Settings, runner: SandboxRunner, tmp_path: Path) -> None:
    make_course(session_factory)
    v1 = publish(session_factory, scaling(tmp_path / "v1", title="Scaling v1"))
    worker = in_process_context(settings, session_factory, runner)
    first_submission, queued_under_v1 = _submit(session_factory, "ada")
    v2 = publish(session_factory, scaling(tmp_path / "v2", title="Scaling v2"))
    for folder in ("v1", "v2"):  # the worker has only the database
        for path in sorted((tmp_path / folder).rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
    clear_bundle_cache()
    assert grade_in_process(worker, queued_under_v1)
    run = _graded(session_factory, queued_under_v1)
    assert (run.status, run.score, run.rubric_version) == (RunStatus.GRADED, 10, v1.rubric_version)
    _, queued_under_v2 = _submit(session_factory, "bob")
    assert grade_in_process(worker, queued_under_v2)
    assert _graded(session_factory, queued_under_v2).rubric_version == v2.rubric_version != v1.rubric_version
    assert set(cached_hashes()) == {v1.content_hash, v2.content_hash}
    with session_scope(session_factory) as session:
        again = regrade_submission(session, course="c1", submission_id=first_submission).id
    assert grade_in_process(worker, again)
    assert _graded(session_factory, again).rubric_version == v2.rubric_version


@pytest.fixture
def two_slots(monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("GRADER_BUNDLE_CACHE_SIZE", "2")
    get_settings.cache_clear()
    clear_bundle_cache()
    yield
    get_settings.cache_clear()
    clear_bundle_cache()


@pytest.mark.usefixtures("two_slots")
def test_the_cache_keeps_the_most_recently_used_versions(session_factory: sessionmaker[Session],
                                                         tmp_path: Path) -> None:
    make_course(session_factory)
    hashes = [publish(session_factory, scaling(tmp_path / str(n), title=f"Scaling {n}")).content_hash
              for n in range(3)]
    with session_scope(session_factory) as session:
        loaded = [bundle_by_hash(session, content_hash) for content_hash in hashes]
        assert [bundle.title for bundle in loaded] == ["Scaling 0", "Scaling 1", "Scaling 2"]
        assert cached_hashes() == hashes[1:]
        assert bundle_by_hash(session, hashes[1]) is loaded[1], "a hit is the loaded bundle, not a reload"
        assert cached_hashes() == [hashes[2], hashes[1]]
        reloaded = bundle_by_hash(session, hashes[0])
        assert reloaded is not loaded[0] and reloaded.rubric.version == loaded[0].rubric.version
        assert cached_hashes() == [hashes[1], hashes[0]]


def test_a_stored_version_holds_the_package_files_it_named_from_the_reference_library(tmp_path: Path) -> None:
    shipped = load_assignment("layers")
    prepared = prepare_version(shipped_copy("layers", tmp_path / "layers"), max_bytes=1 << 24)
    with tarfile.open(fileobj=io.BytesIO(prepared.data), mode="r:gz") as archive:
        names = archive.getnames()
        manifest = yaml.safe_load(archive.extractfile("assignment.yaml").read())  # type: ignore[union-attr]
    assert {"package/tinytorch/core/tensor.py", "package/tinytorch/core/activations.py"} <= set(names)
    assert "from_tinytorch_ref" not in manifest["package"]
    bundle = prepared.bundle
    assert bundle.package.digest == shipped.package.digest, "the sandbox stages exactly the same package"
    assert [(item.id, item.points) for item in bundle.rubric.items] == [
        (item.id, item.points) for item in shipped.rubric.items]
    assert prepare_version(tmp_path / "layers", max_bytes=1 << 24).data == prepared.data
