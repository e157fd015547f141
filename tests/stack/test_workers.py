"""The Celery side without a broker: lazy configuration, stable task names, and the retry classification,
with each task body run in-process (Celery's eager `apply`) and the domain call faked."""

import os
import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from grader.config import Settings
from grader.errors import NotFound, SandboxFailure
from workers import tasks
from workers.app import GRADE_TASK, PASSBACK_TASK, SWEEP_TASK, app, create_app


class Calls:
    """Counts calls of a faked domain function and raises what the test asks for."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error
        self.args: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.args.append(args + tuple(kwargs.values()))
        if self.error is not None:
            raise self.error


@pytest.fixture
def faked(monkeypatch: pytest.MonkeyPatch) -> dict[str, Calls]:
    give_up = Calls()
    monkeypatch.setattr(tasks, "job_context", lambda: "context")
    monkeypatch.setattr(tasks.jobs, "give_up_run", give_up)
    return {"give_up": give_up}


def test_importing_the_workers_opens_nothing_and_reads_settings_lazily() -> None:
    env = {**os.environ, "GRADER_BROKER_URL": "redis://127.0.0.1:1/0",
           "GRADER_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    code = "import workers.tasks, workers.app as a; print(a.app.conf.broker_url)"
    completed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "redis://127.0.0.1:1/0"


def test_delivery_settings_and_stable_task_names() -> None:
    conf = create_app(Settings(broker_url="redis://example:6379/3")).conf
    assert conf.broker_url == "redis://example:6379/3"
    assert (conf.task_acks_late, conf.task_reject_on_worker_lost, conf.worker_prefetch_multiplier) == (True, True, 1)
    assert conf.task_ignore_result and conf.result_backend is None
    assert {GRADE_TASK, PASSBACK_TASK, SWEEP_TASK} <= set(app.tasks)
    assert conf.beat_schedule["sweep-stale-runs"]["task"] == SWEEP_TASK


def test_a_transient_error_is_retried_then_the_run_ends_error(monkeypatch: pytest.MonkeyPatch,
                                                              faked: dict[str, Calls]) -> None:
    monkeypatch.setattr("workers.base.get_settings", lambda: Settings(task_max_retries=3))
    grade = Calls(OperationalError("UPDATE", {}, Exception("connection refused")))
    monkeypatch.setattr(tasks.jobs, "grade_queued_run", grade)
    tasks.grade_task.apply(args=["run-1"])
    assert len(grade.args) == 4, "the first try and three retries"
    [(context, run_id, reason)] = faked["give_up"].args
    assert (context, run_id) == ("context", "run-1") and "after 3 retries: OperationalError" in reason


def test_a_sandbox_failure_is_transient_too(monkeypatch: pytest.MonkeyPatch, faked: dict[str, Calls]) -> None:
    monkeypatch.setattr("workers.base.get_settings", lambda: Settings(task_max_retries=1))
    grade = Calls(SandboxFailure("bwrap could not start"))
    monkeypatch.setattr(tasks.jobs, "grade_queued_run", grade)
    tasks.grade_task.apply(args=["run-1"])
    assert len(grade.args) == 2 and len(faked["give_up"].args) == 1


def test_an_obsolete_message_is_dropped_quietly(monkeypatch: pytest.MonkeyPatch, faked: dict[str, Calls]) -> None:
    grade = Calls(NotFound("no grading run run-1"))
    monkeypatch.setattr(tasks.jobs, "grade_queued_run", grade)
    result = tasks.grade_task.apply(args=["run-1"])
    assert result.successful() and len(grade.args) == 1 and faked["give_up"].args == []


def test_a_bug_ends_the_run_error_and_is_raised_not_retried(monkeypatch: pytest.MonkeyPatch,
                                                            faked: dict[str, Calls]) -> None:
    grade = Calls(KeyError("a bug"))
    monkeypatch.setattr(tasks.jobs, "grade_queued_run", grade)
    result = tasks.grade_task.apply(args=["run-1"])
    assert result.failed() and isinstance(result.result, KeyError)
    assert len(grade.args) == 1 and "internal error: KeyError" in faked["give_up"].args[0][2]


def test_the_sweep_is_not_retried_beat_sends_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    sweep = Calls(OperationalError("SELECT", {}, Exception("down")))
    monkeypatch.setattr(tasks, "job_context", lambda: "context")
    monkeypatch.setattr(tasks.jobs, "sweep", sweep)
    assert tasks.sweep_task.apply().successful() and len(sweep.args) == 1
