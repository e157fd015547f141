"""300 submissions through the real queue: Postgres, our own Redis, two `grader worker` processes (one pool
process each, so two workers share the queue on this 2-core machine) and `grader beat`.

Every submission must end graded exactly once, with the score the embedded path gives the same file, and the
sweeper must stay quiet on a healthy backlog (lease 60 s, sweep every 5 s). Measured on the 2-core machine:
15 s with the warm sandbox (~0.2 s per grade), 5 minutes when a grade cost ~1.3 s of CPU.
"""

import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grader.models import GradingRun
from tests.conftest import EXAMPLE_SOLUTION
from tests.stack.processes import GRADER
from tests.stack.stack import Stack, deployment, mixed_batch

BATCH = 300
pytestmark = pytest.mark.timeout(720)


@pytest.fixture(scope="module")
def batch(postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory,
          embedded_scores: dict[Path, float]) -> Iterator[Stack]:
    """The batch is graded once for the module; each test checks one promise about the result."""
    with deployment(postgres_server_url, tmp_path_factory.mktemp("batch"), lease_s=60, sweep_s=5) as stack:
        stack.start_worker("w1", concurrency=1)
        stack.start_worker("w2", concurrency=1)
        stack.start_beat()
        stack.submit(mixed_batch(embedded_scores, BATCH), scores=embedded_scores)
        elapsed = stack.wait_finished(timeout_s=540)
        print(f"stack-figures: batch={BATCH} workers=2x1 seconds={elapsed:.1f} per_run_s={elapsed / BATCH:.2f}")
        yield stack


def test_every_submission_is_graded_once_with_the_embedded_score(batch: Stack) -> None:
    batch.assert_graded_exactly_once()


def test_two_workers_share_the_queue_and_never_grade_a_submission_twice(batch: Stack) -> None:
    with Session(batch.engine) as session:
        by_worker = Counter(str(worker) for worker in session.scalars(select(GradingRun.worker)))
        current = Counter(session.scalars(select(GradingRun.submission_id).where(GradingRun.is_current)))
    assert {name.split("@")[0] for name in by_worker} == {"w1", "w2"}, by_worker
    assert min(by_worker.values()) >= BATCH // 4, f"one worker starved: {by_worker}"
    assert len(current) == BATCH and set(current.values()) == {1}


def test_a_healthy_backlog_is_not_flooded_with_resends(batch: Stack) -> None:
    """A backlog longer than the lease (60 s here) is not lost, so the sweeper must leave it alone."""
    with Session(batch.engine) as session:
        dispatches = session.scalar(select(func.sum(GradingRun.dispatches)))
    assert dispatches == BATCH
    assert not batch.log_events("sweep_resent")


def test_grade_queue_prints_the_json_contract_of_the_embedded_path(batch: Stack, tmp_path: Path) -> None:
    """`grader grade --queue --json` goes through the same workers and prints what `grader grade --json` does."""
    def grade(*extra: str, env: dict[str, str]) -> dict[str, Any]:
        completed = subprocess.run([*GRADER, "grade", str(EXAMPLE_SOLUTION), "--json", *extra], env=env,
                                   capture_output=True, text=True, timeout=180, cwd=tmp_path)
        assert completed.returncode == 0, completed.stderr
        lines = completed.stdout.splitlines()
        assert len(lines) == 1, completed.stdout
        document: dict[str, Any] = json.loads(lines[0])
        return document

    embedded_env = {k: v for k, v in batch.env.items() if k not in ("GRADER_DATABASE_URL", "GRADER_BROKER_URL")}
    embedded = grade(env={**embedded_env, "GRADER_HOME": str(tmp_path / "embedded")})
    queued = grade("--queue", env=batch.env)
    with Session(batch.engine) as session:
        run = session.scalars(select(GradingRun).where(GradingRun.submission_id == queued["submission_id"])).one()
        batch.expected[run.id] = embedded["score"]
        assert run.worker and run.worker.split("@")[0] in {"w1", "w2"}
    assert set(queued) == set(embedded)
    for key in ("status", "score", "max_score", "assignment", "rubric_version", "integrity"):
        assert queued[key] == embedded[key], key
    assert [(t["id"], t["status"], t["points"]) for t in queued["tests"]] == [
        (t["id"], t["status"], t["points"]) for t in embedded["tests"]]
    assert set(queued["sandbox"]) == set(embedded["sandbox"])
