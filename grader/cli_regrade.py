"""`grader regrade`: start a batch, follow it with a progress bar, cancel, publish or roll it back."""

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from grader.services.regrade_scope import OnlyStatus, Scope

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.orm import Session

    from grader.services.batch_states import BatchAction
    from grader.services.regrade import BatchView

regrade_app = typer.Typer(help="Regrade an assignment under its current rubric version, or manage a batch.")
POLL_S = 1.0


def _run(work: "Callable[[Session], BatchView]") -> "BatchView":
    """One unit of work; the runs it queued are sent to the workers after its commit, in one dispatch."""
    from grader.config import get_settings
    from grader.runtime_context import ensure_embedded_schema, session_factory
    from grader.services.queueing import dispatching_scope
    from workers.app import app
    from workers.dispatch import celery_dispatcher

    settings = get_settings()
    if not settings.database_url:
        ensure_embedded_schema(settings)
    with dispatching_scope(session_factory(settings), celery_dispatcher(app)) as session:
        return work(session)


def _on(action: "BatchAction", batch_id: str) -> "BatchView":
    from grader.services.regrade import act_on_batch, batch_view

    return _run(lambda session: batch_view(session, act_on_batch(session, batch_id, action)))


def _show(view: "BatchView", console: "Console | None" = None) -> None:
    """The batch's state and counts; once it has ended, what changed (ids and names shown literally)."""
    from rich.console import Console
    from rich.table import Table

    from grader.cli_output import literal

    console = console or Console()
    progress = view.progress
    console.print(literal(f"batch {view.id} ({view.assignment}, rubric {view.rubric_version[:12]}): {view.phase}; "
                          f"{progress.done}/{progress.total} done, {progress.failed} failed, "
                          f"{progress.cancelled} cancelled, {progress.changed} changed"), soft_wrap=True)
    summary = view.summary
    if summary is None:
        return
    console.print(literal(f"scores: {summary.up} up, {summary.down} down, {summary.unchanged} unchanged, "
                          f"{summary.new} new"), soft_wrap=True)
    changes = Table("student", "submission", "old", "new", "change", title="largest changes")
    for change in summary.largest_changes:
        old = "-" if change.old_score is None else f"{change.old_score:g}"
        changes.add_row(literal(change.student), literal(change.submission_id), old,
                        literal(f"{change.new_score:g}"), literal(f"{change.delta:+g}"))
    items = Table("item", "students flipped", "now passed", "no longer passed", title="rubric items")
    for item in summary.items:
        items.add_row(literal(item.name), str(item.flipped), str(item.now_passed), str(item.no_longer_passed))
    console.print(changes, items)


@regrade_app.callback(invoke_without_command=True)
def regrade(
    ctx: typer.Context,
    assignment: Annotated[str, typer.Option(help="Assignment name")] = "layers",
    course: Annotated[str | None, typer.Option(help="Only this course's submissions")] = None,
    only_status: Annotated[OnlyStatus | None, typer.Option(help="error or failed submissions only")] = None,
    since: Annotated[datetime | None, typer.Option(help="Only submissions received at or after this time")] = None,
    student: Annotated[list[str] | None, typer.Option(help="Only this student (repeatable)")] = None,
    scope: Annotated[Scope, typer.Option(help="latest, best or all submissions of each student")] = Scope.LATEST,
    preview: Annotated[bool, typer.Option(help="Compute new scores without making them current; publish later")]
    = False,
    wait: Annotated[bool, typer.Option(help="Follow the batch with a progress bar until it ends")] = False,
) -> None:
    """Start a regrade batch against the current rubric version (the batch id is printed alone on a line)."""
    if ctx.invoked_subcommand is not None:
        return
    from grader.services.regrade import RegradeRequest, batch_view, start_batch

    request = RegradeRequest(assignment=assignment, course=course, only_status=only_status,
                             since=since.astimezone() if since else None, students=tuple(student or ()),
                             scope=scope, preview=preview, requested_by="cli")
    view = _run(lambda session: batch_view(session, start_batch(session, request)))
    typer.echo(f"regrade batch of {view.progress.total} runs ({'preview' if preview else 'published'}):")
    typer.echo(view.id)
    if wait:
        _follow(view.id)


def _read(batch_id: str) -> "BatchView":
    from grader.services.regrade import batch_view, load_batch

    return _run(lambda session: batch_view(session, load_batch(session, batch_id)))


def _follow(batch_id: str) -> None:
    """Poll the batch (its progress comes from the runs) until it ends, then print its summary."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    view = _read(batch_id)
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}", markup=False),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    started, first = time.monotonic(), view.progress.done + view.progress.cancelled
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(f"batch {batch_id[:8]}", total=view.progress.total, rate="")
        while True:
            finished = view.progress.done + view.progress.cancelled
            rate = (finished - first) / max(time.monotonic() - started, 1e-6)
            bar.update(task, completed=finished, rate=f"{rate:.1f} runs/s")
            if view.state != "running":
                break
            time.sleep(POLL_S)
            view = _read(batch_id)
    _show(view)


@regrade_app.command("attach")
def attach(batch_id: Annotated[str, typer.Argument(help="A regrade batch id")]) -> None:
    """Follow a running batch with a progress bar (safe to interrupt and attach again)."""
    _follow(batch_id)


@regrade_app.command("show")
def show(batch_id: Annotated[str, typer.Argument(help="A regrade batch id")]) -> None:
    """Progress, state and (once ended) what changed."""
    _show(_read(batch_id))


@regrade_app.command("cancel")
def cancel(batch_id: Annotated[str, typer.Argument(help="A regrade batch id")]) -> None:
    """Stop the batch's queued runs; runs a worker already took finish."""
    from grader.services.batch_states import BatchAction

    _show(_on(BatchAction.CANCEL, batch_id))


@regrade_app.command("publish")
def publish(batch_id: Annotated[str, typer.Argument(help="A preview batch that has ended")]) -> None:
    """Make a preview's (or a rolled-back batch's) results current and pass the changed scores back to the LMS."""
    from grader.services.batch_states import BatchAction

    _show(_on(BatchAction.PUBLISH, batch_id))


@regrade_app.command("rollback")
def rollback(batch_id: Annotated[str, typer.Argument(help="A published batch that has ended")]) -> None:
    """Make the results the batch replaced current again (and pass those scores back)."""
    from grader.services.batch_states import BatchAction

    _show(_on(BatchAction.ROLLBACK, batch_id))


def register(app: typer.Typer) -> None:
    app.add_typer(regrade_app, name="regrade")
