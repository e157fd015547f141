"""Commands of the deployed stack: `grader worker`, `grader beat`, `grader runs retry`, and the queued grade."""

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from celery import Celery

    from grader.config import Settings

runs_app = typer.Typer(help="Grading runs: re-queue one that ended `error` (read runs with the API or the "
                                "dashboard).", no_args_is_help=True)
POLL_S = 0.5


def worker(
    concurrency: Annotated[int | None, typer.Option(help="Pool processes (default: one per CPU)")] = None,
    hostname: Annotated[str | None, typer.Option(help="Node name, e.g. grader1@%h")] = None,
    queues: Annotated[str | None, typer.Option(help="Comma-separated queues (default: all)")] = None,
) -> None:
    """Start a Celery worker on GRADER_BROKER_URL that grades into GRADER_DATABASE_URL."""
    from grader.config import get_settings
    from grader.logs import configure_logging
    from workers.app import QUEUES, app

    configure_logging(get_settings().log_level)
    argv = ["--quiet", "worker", f"--loglevel={get_settings().log_level}", f"--queues={queues or ','.join(QUEUES)}",
            "--without-gossip", "--without-mingle"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    if hostname:
        argv.append(f"--hostname={hostname}")
    app.worker_main(argv)


def beat() -> None:
    """Start Celery beat: it asks for the stale-run sweep every GRADER_SWEEP_INTERVAL_S seconds."""
    from grader.config import get_settings
    from grader.logs import configure_logging
    from workers.app import app

    settings = get_settings()
    configure_logging(settings.log_level)
    settings.home.mkdir(parents=True, exist_ok=True)
    schedule = settings.home / "celerybeat-schedule"
    app.start(["--quiet", "beat", f"--loglevel={settings.log_level}", f"--schedule={schedule}"])


@runs_app.command("retry")
def retry(run_id: Annotated[str, typer.Argument(help="The id of a run that ended `error`")]) -> None:
    """Re-queue an errored run by hand; it is sent to the workers once the change is committed."""
    from grader.config import get_settings
    from grader.runtime_context import session_factory
    from grader.services.queueing import dispatching_scope, requeue_run
    from workers.app import app
    from workers.dispatch import celery_dispatcher

    with dispatching_scope(session_factory(get_settings()), celery_dispatcher(app)) as session:
        requeue_run(session, run_id)
    typer.echo(f"run {run_id} queued again")


class NotGraded(Exception):
    """`grade --queue` gave up waiting: the sentence says why (broker unreachable, no worker, a slow worker)."""


def grade_queued(settings: "Settings", *, content: bytes, filename: str, student: str, assignment: str,
                 timeout_s: float) -> dict[str, Any]:
    """Accept and commit, send after commit, then wait (at most `timeout_s`) for the stored result."""
    from grader.runtime_context import ensure_embedded_schema, session_factory
    from grader.services.accept import Upload
    from grader.services.queueing import accept_and_queue, dispatching_scope
    from workers.app import app
    from workers.dispatch import celery_dispatcher

    _require_broker(app, settings)
    if not settings.database_url:
        ensure_embedded_schema(settings)
    factory = session_factory(settings)
    with dispatching_scope(factory, celery_dispatcher(app)) as session:
        _, run = accept_and_queue(session, Upload(content, filename, student, assignment),
                                  max_bytes=settings.max_upload_kib * 1024)
        run_id = run.id
    _require_broker(app, settings, run_id=run_id)
    return _wait_for_result(settings, run_id, timeout_s=timeout_s, workers_answering=lambda: _workers_answer(app))


def _workers_answer(app: "Celery") -> bool:
    """Whether any worker answers a ping on the broker (a broker gone meanwhile counts as none)."""
    from kombu.exceptions import OperationalError

    try:
        return bool(app.control.ping(timeout=1.0))
    except OperationalError:
        return False


def _require_broker(app: "Celery", settings: "Settings", run_id: str | None = None) -> None:
    """Fail at once, not after the timeout, when the broker cannot be reached (before storing, or right after)."""
    from kombu.exceptions import OperationalError

    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0.5, interval_step=0.5, timeout=5)
    except OperationalError as exc:
        where = f"the broker at GRADER_BROKER_URL ({_without_password(settings.broker_url)}) is unreachable: {exc}"
        if run_id is None:
            raise NotGraded(f"{where}; nothing was stored") from None
        raise NotGraded(f"{where}; run {run_id} is stored and queued, and the sweeper (`grader beat`) sends it "
                        "once the broker is back") from None


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def _wait_for_result(settings: "Settings", run_id: str, *, timeout_s: float,
                     workers_answering: Callable[[], bool]) -> dict[str, Any]:
    """Poll the database, not the broker: the stored run is the result, whichever worker wrote it."""
    from grader.cli_progress import waiting_on_stderr
    from grader.db import session_scope
    from grader.models import FINISHED, RunStatus
    from grader.runtime_context import session_factory
    from grader.services.grade import load_run
    from grader.services.results import result_document

    state = {"line": f"run {run_id} queued; waiting for a worker to take it", "status": "queued", "worker": ""}
    deadline = time.monotonic() + timeout_s
    with waiting_on_stderr(lambda: state["line"]):
        while time.monotonic() < deadline:
            with session_scope(session_factory(settings)) as session:
                run = load_run(session, run_id)
                if run.status in FINISHED:
                    return result_document(run.submission, run)
                state.update(status=run.status, worker=run.worker or "")
                if run.status != RunStatus.QUEUED:
                    state["line"] = (f"run {run_id} is being graded by {run.worker or 'a worker'} "
                                     f"(attempt {run.attempt}); the host learns item results at the end")
            time.sleep(POLL_S)
    raise NotGraded(_why_not_finished(run_id, timeout_s, state, workers_answering))


def _why_not_finished(run_id: str, timeout_s: float, state: dict[str, str],
                      workers_answering: Callable[[], bool]) -> str:
    from grader.models import RunStatus

    waited = f"run {run_id} was not graded within {timeout_s:g} s (--timeout)"
    stays = "it stays queued and is graded when a worker takes it"
    if state["status"] != RunStatus.QUEUED:
        return f"{waited}: {state['worker'] or 'a worker'} took it and is still grading; the result will be stored"
    if not workers_answering():
        return (f"{waited}: no worker answered on the broker; start one with `grader worker` against the same "
                f"GRADER_BROKER_URL and GRADER_DATABASE_URL; {stays}")
    return f"{waited}: no worker took it (they may be busy with other runs); {stays}"


def register(app: typer.Typer) -> None:
    """Add the stack's commands to the `grader` CLI."""
    app.command()(worker)
    app.command()(beat)
    app.add_typer(runs_app, name="runs")
