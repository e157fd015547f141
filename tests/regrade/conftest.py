"""Regrade fixtures: a migrated Postgres database per module, a class of graded submissions per test, and the
worker's grading path run in-process (claim, evaluate once per distinct file, record)."""

import hashlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from grader.assignments.bundle import load_assignment
from grader.db import make_engine, make_session_factory, session_scope
from grader.models import GradingRun, ItemResult, Passback, Submission
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner
from grader.services.accept import Upload, accept_submission
from grader.services.claim import claim_run, record_claimed
from grader.services.courses import create_course
from grader.services.evaluate import Evaluation
from grader.services.queueing import Dispatch, dispatching_scope
from grader.services.regrade import BatchView, RegradeRequest, batch_view, load_batch, start_batch
from grader.services.settle import evaluate_settled
from tests.api.conftest import migrated_database
from tests.conftest import EXAMPLE_SOLUTION, SUBMISSIONS

MAX_BYTES = 512 * 1024
LEASE_S = 60.0
SAMPLES = {"full": EXAMPLE_SOLUTION, "shape": SUBMISSIONS / "missing_shape_check.py",
           "index": SUBMISSIONS / "wrong_matmul_index.py"}


@pytest.fixture(scope="session")
def evaluations(runner: SandboxRunner, limits: SandboxLimits) -> dict[str, Evaluation]:
    """Each sample evaluated once with the real sandbox, keyed by the content's sha256."""
    bundle = load_assignment("layers")
    found = {}
    for path in SAMPLES.values():
        content = path.read_bytes()
        found[hashlib.sha256(content).hexdigest()] = evaluate_settled(bundle, content, path.name, runner, limits,
                                                                      max_bytes=MAX_BYTES)
    return found


@pytest.fixture(scope="module")
def regrade_database(postgres_server_url: str) -> Iterator[str]:
    """One database per module; each test works in a course of its own."""
    with migrated_database(postgres_server_url) as url:
        yield url


@pytest.fixture(scope="module")
def regrade_factory(regrade_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(regrade_database)
    yield make_session_factory(engine)
    engine.dispose()


@dataclass
class Classroom:
    """A course's graded submissions, and what every unit of work of the test sent after commit."""

    factory: sessionmaker[Session]
    evaluations: dict[str, Evaluation]
    course: str
    sent: list[list[Dispatch]] = field(default_factory=list)

    def record(self, messages: Sequence[Dispatch]) -> None:
        self.sent.append(list(messages))

    def submit(self, student: str, sample: str, *, callback: bool = True) -> str:
        """Accept a submission into the course and grade it the way a worker does; returns its id."""
        path = SAMPLES[sample]
        with session_scope(self.factory) as session:
            submission, run = accept_submission(session, Upload(path.read_bytes(), path.name, student, "layers"),
                                                max_bytes=MAX_BYTES)
            submission.course = self.course
            submission.callback_url = "https://lms.example/hook" if callback else None
            run_id, submission_id = run.id, submission.id
        assert self.grade(run_id)
        return submission_id

    def grade(self, run_id: str, *, worker: str = "w1") -> bool:
        """Claim, evaluate (memoized) and record in two transactions, as issue 4's worker does."""
        with session_scope(self.factory) as session:
            claim = claim_run(session, run_id, worker=worker, token=uuid.uuid4().hex, lease_s=LEASE_S,
                              max_attempts=6)
        if claim is None:
            return False
        evaluation = self.evaluations[hashlib.sha256(claim.content).hexdigest()]
        with session_scope(self.factory) as session:
            stored = record_claimed(session, claim, evaluation, rubric_version=load_assignment("layers").rubric.version)
            return stored is not None

    def start(self, **overrides: object) -> str:
        values: dict[str, object] = {"assignment": "layers", "course": self.course, **overrides}
        with dispatching_scope(self.factory, self.record) as session:
            return start_batch(session, RegradeRequest(**values)).id  # type: ignore[arg-type]

    def batch_runs(self, batch_id: str) -> list[str]:
        with session_scope(self.factory) as session:
            return list(session.scalars(select(GradingRun.id).where(GradingRun.batch_id == batch_id)
                                        .order_by(GradingRun.id)))

    def grade_batch(self, batch_id: str) -> None:
        for run_id in self.batch_runs(batch_id):
            self.grade(run_id)

    def view(self, batch_id: str) -> BatchView:
        with session_scope(self.factory) as session:
            return batch_view(session, load_batch(session, batch_id))

    def current(self) -> dict[str, tuple[str, float | None]]:
        """submission id -> (current run id, its score)."""
        with session_scope(self.factory) as session:
            rows = session.execute(select(GradingRun.submission_id, GradingRun.id, GradingRun.score)
                                   .join(Submission, Submission.id == GradingRun.submission_id)
                                   .where(Submission.course == self.course, GradingRun.is_current))
            return {sid: (rid, score) for sid, rid, score in rows}

    def passbacks(self) -> list[tuple[str, str, str]]:
        """(submission id, run id, reason) of every outbox row of the course, oldest first."""
        with session_scope(self.factory) as session:
            rows = session.execute(select(Passback.submission_id, Passback.run_id, Passback.reason)
                                   .join(Submission, Submission.id == Passback.submission_id)
                                   .where(Submission.course == self.course).order_by(Passback.created_at))
            return [tuple(row) for row in rows]  # type: ignore[misc]

    def age_rubric(self, submission_id: str, *, score_delta: float, flip_item: str | None = None) -> None:
        """Make the current result look graded under an older rubric: another version, another score, and
        optionally one item with another status."""
        with session_scope(self.factory) as session:
            run = session.scalars(select(GradingRun).where(GradingRun.submission_id == submission_id,
                                                           GradingRun.is_current)).one()
            run.rubric_version = "old-rubric"
            run.score = (run.score or 0.0) + score_delta
            if flip_item is not None:
                item = session.scalars(select(ItemResult).where(ItemResult.run_id == run.id,
                                                                ItemResult.item_id == flip_item)).one()
                item.status = "failed" if item.status == "passed" else "passed"


@pytest.fixture
def classroom(regrade_factory: sessionmaker[Session], evaluations: dict[str, Evaluation]) -> Classroom:
    course = f"r-{uuid.uuid4().hex[:10]}"
    with session_scope(regrade_factory) as session:
        create_course(session, course)
    return Classroom(factory=regrade_factory, evaluations=evaluations, course=course)
