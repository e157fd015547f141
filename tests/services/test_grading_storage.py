"""Accepting and grading through the services, stored on SQLite and on Postgres alike."""

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from grader import runtime_context
from grader.config import Settings
from grader.db import session_scope
from grader.errors import Rejected, SandboxFailure
from grader.models import GradingRun, ItemResult, RunStatus, Submission
from grader.sandbox.job import SandboxJob, SandboxResult
from grader.sandbox.runner import SandboxRunner
from grader.services.accept import Upload, accept_submission
from grader.services.jobs import grade_in_process, in_process_context
from grader.services.results import result_document

REPO_ROOT = Path(__file__).resolve().parents[2]
SOLUTION = REPO_ROOT / "grader/assignments/layers/examples/student_solution.py"
SUBMISSIONS = REPO_ROOT / "tests/data/submissions"
MAX_BYTES = 512 * 1024


def create_upload(**overrides: object) -> Upload:
    values: dict[str, object] = {"content": SOLUTION.read_bytes(), "filename": "layers_dev.py",
                                 "student": "s1", "assignment": "layers"}
    values.update(overrides)
    return Upload(**values)  # type: ignore[arg-type]


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_graded_submission_is_stored_whole(session_factory: sessionmaker[Session], runner: SandboxRunner) -> None:
    upload = create_upload()
    with session_scope(session_factory) as session:
        _submission, run = accept_submission(session, upload, max_bytes=MAX_BYTES)
        run_id = run.id
        assert run.status == "queued"
    assert grade_in_process(in_process_context(Settings(), session_factory, runner), run_id, worker="test-worker")
    with session_scope(session_factory) as session:
        run = session.get(GradingRun, run_id)
        assert run is not None
        document = result_document(run.submission, run)
    with session_scope(session_factory) as session:
        stored = session.get(Submission, document["submission_id"])
        assert stored is not None and stored.content == upload.content
        assert stored.sha256 == hashlib.sha256(upload.content).hexdigest() and stored.student == "s1"
        run = session.get(GradingRun, run_id)
        assert run is not None and run.status == "graded" and run.is_current and run.score == 90
        assert run.started_at and run.finished_at and run.finished_at >= run.started_at
        assert run.worker == "test-worker" and run.attempt == 1 and run.rubric_version
        assert run.sandbox_usage["wall_s"] > 0 and run.sandbox_usage["backend"] == "bwrap"
        assert _count(session, ItemResult) == 11
        assert "TinyTorch Layers Module" in run.output


def test_grading_a_finished_run_again_changes_nothing(session_factory: sessionmaker[Session],
                                                      runner: SandboxRunner) -> None:
    with session_scope(session_factory) as session:
        _, run = accept_submission(session, create_upload(content=(SUBMISSIONS / "bias_ignored.py").read_bytes()),
                                   max_bytes=MAX_BYTES)
        run_id = run.id
    context = in_process_context(Settings(), session_factory, runner)
    assert [grade_in_process(context, run_id) for _ in range(2)] == [True, False]
    with session_scope(session_factory) as session:
        run = session.get(GradingRun, run_id)
        assert run is not None and run.attempt == 1 and run.score == 75
        assert _count(session, ItemResult) == 11


@pytest.mark.parametrize("name", ["empty.py", "binary.ipynb", "flattened_seed.py"])
def test_rejected_upload_stores_nothing(session_factory: sessionmaker[Session], name: str) -> None:
    with pytest.raises(Rejected), session_scope(session_factory) as session:
        accept_submission(session, create_upload(content=(SUBMISSIONS / name).read_bytes(), filename=name),
                          max_bytes=MAX_BYTES)
    with session_scope(session_factory) as session:
        assert _count(session, Submission) == 0 and _count(session, GradingRun) == 0


def test_same_external_id_is_the_same_submission(session_factory: sessionmaker[Session]) -> None:
    with session_scope(session_factory) as session:
        first, _ = accept_submission(session, create_upload(external_id="lms-1"), max_bytes=MAX_BYTES)
    with session_scope(session_factory) as session:
        again, _ = accept_submission(session, create_upload(external_id="lms-1"), max_bytes=MAX_BYTES)
        assert again.id == first.id
        assert _count(session, Submission) == 1


class BrokenSandbox:
    """A sandbox that cannot start (a host without user namespaces, say): infrastructure, not the student."""

    name = "broken"
    pool = "cold"

    def run(self, job: SandboxJob) -> SandboxResult:
        raise SandboxFailure("bwrap: setting up uid map: Permission denied")


def test_a_sandbox_that_cannot_run_still_ends_the_run_with_a_result(settings: Settings,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """`grader grade` takes the worker's path: the failure is stored on the run (error, cause, finish time)
    before it is raised, so no run stays queued forever without a result."""
    monkeypatch.setattr(runtime_context, "runner_for", lambda _settings: BrokenSandbox())
    with pytest.raises(SandboxFailure):
        runtime_context.grade_file_embedded(settings, content=SOLUTION.read_bytes(), filename="layers_dev.py",
                                            student="s1", assignment="layers")
    with session_scope(runtime_context.session_factory(settings)) as session:
        run = session.scalars(select(GradingRun)).one()
        assert run.status == RunStatus.ERROR and run.finished_at is not None and run.attempt == 1
        assert run.error is not None and "uid map: Permission denied" in run.error
        assert run.lease_expires_at is None and run.claim_token is None
