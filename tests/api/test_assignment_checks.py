"""The worker's half of an upload, on the real database: the check task's body checks a `checking` version in the
real sandbox and settles it; a repeat, a version already settled, or one whose check cannot run changes nothing
more; the sweeper re-sends checks stuck past their lease with backoff; check messages go to the grading queue."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from grader.config import Settings
from grader.db import session_scope
from grader.models import AssignmentVersion, VersionStatus
from grader.models.base import utcnow
from grader.sandbox.runner import SandboxRunner
from grader.services.check_jobs import check_queued_version, give_up_check
from grader.services.jobs import in_process_context, sweep
from grader.services.queueing import Dispatch
from grader.services.sweep import sweep_stuck_checks
from tests.api.bundle_uploads import LINEAR, bundle_copy, tar_gz
from tests.api.conftest import ApiWorld
from workers.app import CHECK_TASK, GRADING_QUEUE, TASK_QUEUES
from workers.dispatch import celery_dispatcher

LEASE_S = 900


class NoSandbox:
    """A runner that must not be used: a settled version is never checked again."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the sandbox was used ({name}) for a version that is not checking")


def _upload(world: ApiWorld, folder: Path, *, force: bool = False) -> str:
    response = world.client.post("/api/v1/assignments", headers=world.headers("instructor"),
                                 data={"force": "true" if force else "false"},
                                 files={"bundle": (f"{folder.name}.tar.gz", tar_gz(folder))})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def _version(world: ApiWorld, version_id: str) -> AssignmentVersion:
    with session_scope(world.factory) as session:
        version = session.get(AssignmentVersion, version_id)
        assert version is not None
        session.expunge(version)
        return version


def test_the_task_body_checks_in_the_sandbox_and_publishes(world: ApiWorld, tmp_path: Path,
                                                           runner: SandboxRunner) -> None:
    version_id = _upload(world, bundle_copy(tmp_path, title="Linear, checked for real"))
    context = in_process_context(Settings(), world.factory, runner)
    assert check_queued_version(context, version_id) is True
    version = _version(world, version_id)
    assert version.status == VersionStatus.PUBLISHED and not version.forced and version.published_at is not None
    report = version.check_report
    assert report is not None and report["passed"] is True and report["assignment"] == LINEAR
    assert {item["id"] for item in report["items"]} >= {"test-linear", "test-linear-edge-cases"}
    assert all(item["solution_passes"] == item["solution_runs"] > 0 for item in report["items"])
    current = world.client.get(f"/api/v1/assignments/{LINEAR}", headers=world.headers("instructor")).json()
    assert current["current"]["version_id"] == version_id
    assert check_queued_version(in_process_context(Settings(), world.factory, NoSandbox()),  # type: ignore[arg-type]
                                version_id) is False, "a repeated message is left alone"
    assert _version(world, version_id).check_report == report


def test_a_settled_version_is_never_checked_or_changed_again(world: ApiWorld, tmp_path: Path) -> None:
    version_id = _upload(world, bundle_copy(tmp_path, title="Linear, settled"))
    context = in_process_context(Settings(), world.factory, NoSandbox())  # type: ignore[arg-type]
    assert give_up_check(context, version_id, "internal error: a bug in check") is True
    assert _version(world, version_id).status == VersionStatus.REJECTED
    assert check_queued_version(context, version_id) is False
    assert give_up_check(context, version_id, "again") is False
    assert _version(world, version_id).status == VersionStatus.REJECTED


def test_an_unknown_version_is_dropped_without_the_sandbox(world: ApiWorld) -> None:
    context = in_process_context(Settings(), world.factory, NoSandbox())  # type: ignore[arg-type]
    assert check_queued_version(context, "no-such-version") is False


def _age(world: ApiWorld, version_id: str, seconds: float) -> None:
    with session_scope(world.factory) as session:
        version = session.get(AssignmentVersion, version_id)
        assert version is not None
        version.dispatched_at = utcnow() - timedelta(seconds=seconds)


def _swept(world: ApiWorld, now_offset_s: float = 0.0) -> list[str]:
    with session_scope(world.factory) as session:
        return sweep_stuck_checks(session, lease_s=LEASE_S, now=utcnow() + timedelta(seconds=now_offset_s))


def test_the_sweeper_resends_a_stuck_check_with_backoff(world: ApiWorld, tmp_path: Path) -> None:
    stuck = _upload(world, bundle_copy(tmp_path / "stuck", title="Linear, stuck"))
    fresh = _upload(world, bundle_copy(tmp_path / "fresh", title="Linear, fresh"))
    settled = _upload(world, bundle_copy(tmp_path / "settled", title="Linear, settled"))
    context = in_process_context(Settings(), world.factory, NoSandbox())  # type: ignore[arg-type]
    give_up_check(context, settled, "settled")
    for version_id in (stuck, settled):
        _age(world, version_id, LEASE_S + 60)
    swept = _swept(world)
    assert stuck in swept and fresh not in swept and settled not in swept
    version = _version(world, stuck)
    assert version.dispatches == 2 and version.status == VersionStatus.CHECKING
    assert stuck not in _swept(world, LEASE_S + 60), "the second re-send waits two leases"
    assert stuck in _swept(world, 2 * LEASE_S + 60)


def test_the_periodic_sweep_sends_stuck_checks_after_its_commit(world: ApiWorld, tmp_path: Path) -> None:
    stuck = _upload(world, bundle_copy(tmp_path, title="Linear, lost message"))
    _age(world, stuck, 10 * LEASE_S)
    sent: list[Dispatch] = []
    context = replace(in_process_context(Settings(check_lease_s=LEASE_S), world.factory, NoSandbox()),  # type: ignore[arg-type]
                      dispatch=sent.extend)
    report = sweep(context)
    assert stuck in report.checks and Dispatch("check", stuck) in sent


class RecordingCelery:
    def __init__(self) -> None:
        self.sent: list[tuple[str, list[str], str]] = []

    def send_task(self, name: str, *, args: Sequence[str], queue: str) -> None:
        self.sent.append((name, list(args), queue))


def test_a_check_message_goes_to_the_grading_workers() -> None:
    celery = RecordingCelery()
    celery_dispatcher(celery)([Dispatch("check", "v1")])  # type: ignore[arg-type]
    assert celery.sent == [(CHECK_TASK, ["v1"], GRADING_QUEUE)] and TASK_QUEUES[CHECK_TASK] == GRADING_QUEUE


def test_the_check_task_is_registered_acks_late() -> None:
    from workers.app import app
    from workers.tasks import check_version_task

    task = app.tasks[CHECK_TASK]
    assert task.name == check_version_task.name == CHECK_TASK and task.acks_late and task.reject_on_worker_lost
