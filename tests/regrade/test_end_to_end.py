"""A preview batch through real `grader worker` and `grader regrade` processes, then published from the CLI."""

import subprocess
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from grader.models import GradingRun, RegradeBatch
from tests.conftest import EXAMPLE_SOLUTION, SUBMISSIONS
from tests.stack.processes import GRADER
from tests.stack.stack import Stack, deployment

FILES = [EXAMPLE_SOLUTION, SUBMISSIONS / "missing_shape_check.py", EXAMPLE_SOLUTION]


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run([*GRADER, "regrade", *args], env=stack.env, capture_output=True, text=True,
                               timeout=240, cwd=stack.log_dir)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


def current_runs(stack: Stack) -> dict[str, str]:
    with Session(stack.engine) as session:
        return dict(session.execute(select(GradingRun.submission_id, GradingRun.id).where(GradingRun.is_current))
                    .all())


def summary_stored(stack: Stack, batch_id: str) -> bool:
    with Session(stack.engine) as session:
        batch = session.get(RegradeBatch, batch_id)
        return batch is not None and batch.summary is not None


def test_preview_through_workers_then_publish(postgres_server_url: str, tmp_path: Path) -> None:
    with deployment(postgres_server_url, tmp_path, lease_s=60, sweep_s=5) as stack:
        stack.start_worker("worker1", concurrency=2)
        stack.submit(FILES, scores={path: 0.0 for path in FILES})
        stack.wait_finished(timeout_s=180)
        first = sorted(stack.expected)[0]
        with Session(stack.engine) as session, session.begin():
            session.execute(update(GradingRun).where(GradingRun.id == first)
                            .values(rubric_version="old-rubric", score=GradingRun.score - 20))
        before = current_runs(stack)

        started = cli(stack, "--assignment", "layers", "--preview", "--wait")
        batch_id = started.stdout.splitlines()[1].strip()
        assert "1 up, 0 down, 2 unchanged" in started.stdout, started.stdout
        assert current_runs(stack) == before, "a preview leaves the current results alone"
        with Session(stack.engine) as session:
            batch = session.get(RegradeBatch, batch_id)
            assert batch is not None and batch.summary is None, "reading the batch (--wait) stores nothing"
        stack.start_beat()
        stack.wait_for(lambda: summary_stored(stack, batch_id), timeout_s=180, what="the sweeper stores the summary")
        with Session(stack.engine) as session:
            batch = session.get(RegradeBatch, batch_id)
            assert batch is not None and batch.finished_at is not None
            runs = list(session.scalars(select(GradingRun).where(GradingRun.batch_id == batch_id)))
        assert len(runs) == 3 and all(run.status == "graded" and run.attempt == 1 for run in runs)
        assert {run.rubric_version for run in runs} == {batch.rubric_version}

        cli(stack, "publish", batch_id)
        assert set(current_runs(stack).values()) == {run.id for run in runs}
        shown = cli(stack, "attach", batch_id)
        assert ": published;" in shown.stdout, shown.stdout
        cli(stack, "rollback", batch_id)
        assert current_runs(stack) == before, "rollback restores the runs the batch replaced"
        again = cli(stack, "--assignment", "layers", "--student", "s0001")
        cancelled = subprocess.run([*GRADER, "regrade", "cancel", again.stdout.splitlines()[1].strip()], env=stack.env,
                                   capture_output=True, text=True, timeout=240, cwd=stack.log_dir)
        assert (cancelled.returncode == 0 and ": cancel" in cancelled.stdout) or (
            cancelled.returncode == 2 and "has ended" in cancelled.stderr), cancelled.stdout + cancelled.stderr
