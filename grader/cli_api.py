"""Commands of the HTTP API side: `grader serve`, `grader courses`, `grader tokens`, `grader passback`."""

import logging
import time
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from grader.config import Settings

logger = logging.getLogger(__name__)
courses_app = typer.Typer(help="Courses: register one with its assignments.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens: one course, one role (lms or instructor).", no_args_is_help=True)
passback_app = typer.Typer(help="LMS grade passback: resend by hand, deliver what is due, run the relay.",
                           no_args_is_help=True)


def _factory(settings: "Settings") -> "sessionmaker[Session]":
    from grader.runtime_context import ensure_embedded_schema, session_factory

    if not settings.database_url:
        ensure_embedded_schema(settings)
    return session_factory(settings)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="API processes (they share the Redis rate limits)")] = 1,
) -> None:
    """Serve the HTTP API with uvicorn (OpenAPI at /openapi.json, docs at /docs)."""
    import uvicorn

    from grader.config import get_settings
    from grader.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level)
    _factory(settings)
    uvicorn.run("grader.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_config=None, access_log=False, proxy_headers=False)


@courses_app.command("create")
def courses_create(
    course: Annotated[str, typer.Argument(help="Course id, e.g. cs249r-2026")],
    assignment: Annotated[list[str] | None, typer.Option(help="Shipped assignment (repeatable)")] = None,
) -> None:
    """Register a course with every shipped assignment (or the ones named); safe to run again."""
    from grader.config import get_settings
    from grader.db import session_scope
    from grader.services.courses import create_course

    with session_scope(_factory(get_settings())) as session:
        row = create_course(session, course, assignments=tuple(assignment) if assignment else None)
        names = [link.assignment for link in row.assignments]
    typer.echo(f"course {course} grades: {', '.join(names)}")


@tokens_app.command("create")
def tokens_create(
    course: Annotated[str, typer.Option(help="The course the token acts for")],
    role: Annotated[str, typer.Option(help="lms (submit, read its submissions) or instructor (read all, regrade)")],
    label: Annotated[str, typer.Option(help="A note for people, e.g. 'Canvas production'")] = "",
) -> None:
    """Mint a token; it is printed once, alone on the last line, and stored only as a hash."""
    from grader.config import get_settings
    from grader.db import session_scope
    from grader.models import TokenRole
    from grader.services.tokens import create_token

    if role not in set(TokenRole):
        typer.echo("error: --role is lms or instructor", err=True)
        raise typer.Exit(2)
    with session_scope(_factory(get_settings())) as session:
        issued = create_token(session, course=course, role=TokenRole(role), label=label)
    typer.echo(f"token id {issued.id} for course {issued.course}, role {issued.role} (shown once):")
    typer.echo(issued.token)


@tokens_app.command("revoke")
def tokens_revoke(token_or_id: Annotated[str, typer.Argument(help="The token itself, or its id")]) -> None:
    """End a token at once; requests with it answer 401 from now on."""
    from grader.config import get_settings
    from grader.db import session_scope
    from grader.services.tokens import revoke_token

    with session_scope(_factory(get_settings())) as session:
        token_id = revoke_token(session, token_or_id)
    typer.echo(f"token {token_id} revoked")


@passback_app.command("resend")
def passback_resend(submission_id: Annotated[str, typer.Argument(help="The submission whose score to send")]) -> None:
    """Send a submission's current score to the LMS again (webhook or LTI AGS), now, and say how it went."""
    from grader.cli_text import printable
    from grader.config import get_settings
    from grader.db import session_scope
    from grader.services.courses import resend_passback
    from grader.services.outbox import courier_from_settings, deliver_passback

    settings = get_settings()
    factory = _factory(settings)
    with session_scope(factory) as session:
        delivery_id = resend_passback(session, course=None, submission_id=submission_id, dispatch=False).id
        outcome = deliver_passback(session, delivery_id, courier=courier_from_settings(settings))
    if outcome is None:
        typer.echo(f"delivery {delivery_id} is being sent by another process")
        return
    code = f"HTTP {outcome.status_code}" if outcome.status_code else "no answer"
    error = f": {printable(outcome.error)}" if outcome.error else ""
    typer.echo(f"delivery {delivery_id}: {outcome.status} ({code}){error}")


@passback_app.command("relay")
def passback_relay(
    interval: Annotated[float | None, typer.Option(help="Seconds between passes (GRADER_PASSBACK_RELAY_INTERVAL_S)")]
    = None,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit")] = False,
) -> None:
    """Deliver every passback whose retry time has come, again and again: the outbox's retry loop."""
    from sqlalchemy.exc import SQLAlchemyError

    from grader.config import get_settings
    from grader.db import session_scope
    from grader.logs import configure_logging, log_event
    from grader.services.outbox import courier_from_settings, deliver_due_passbacks

    settings = get_settings()
    configure_logging(settings.log_level)
    factory, courier = _factory(settings), courier_from_settings(settings)
    pause = settings.passback_relay_interval_s if interval is None else interval
    while True:
        try:
            with session_scope(factory) as session:
                outcomes = deliver_due_passbacks(session, courier=courier)
        except SQLAlchemyError as exc:
            log_event(logger, "relay_pass_failed", level=logging.WARNING, error=type(exc).__name__)
            outcomes = []
        if once:
            typer.echo(f"{len(outcomes)} deliveries attempted")
            return
        if not outcomes:
            time.sleep(pause)


def register(app: typer.Typer) -> None:
    """Add the API's commands to the `grader` CLI (before the stack's `serve` placeholder is considered)."""
    app.command()(serve)
    app.add_typer(courses_app, name="courses")
    app.add_typer(tokens_app, name="tokens")
    app.add_typer(passback_app, name="passback")
