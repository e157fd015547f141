"""The `grader` command line: each command parses, calls one service, and shapes the output."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from grader.cli_api import register as register_api_commands
from grader.cli_output import print_result
from grader.cli_regrade import register as register_regrade_commands
from grader.cli_stack import register as register_stack_commands
from grader.config import get_settings
from grader.errors import NotFound, Rejected

app = typer.Typer(help="TinyTorch autograder: grade layers_dev.py submissions.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.command()
def grade(
    path: Annotated[Path, typer.Argument(help="The student's layers_dev.py or .ipynb")],
    student: Annotated[str, typer.Option(help="Student id to record")] = "local",
    assignment: Annotated[str, typer.Option(help="Assignment name")] = "layers",
    as_json: Annotated[bool, typer.Option("--json", help="Print exactly one JSON object")] = False,
    queue: Annotated[bool, typer.Option("--queue", help="Grade through the workers and wait for the result")] = False,
) -> None:
    """Grade one file on the embedded default (or through the queue) and store it."""
    from grader.cli_stack import grade_queued
    from grader.runtime_context import grade_file_embedded

    try:
        content = path.read_bytes()
    except OSError as exc:
        _reject(assignment, f"cannot read {path}: {exc.strerror}", "unreadable", as_json)
    try:
        grade_file = grade_queued if queue else grade_file_embedded
        document = grade_file(get_settings(), content=content, filename=path.name, student=student,
                              assignment=assignment)
    except Rejected as exc:
        _reject(assignment, exc.reason, exc.code, as_json)
    except NotFound as exc:
        _reject(assignment, str(exc), "unknown_assignment", as_json)
    if as_json:
        sys.stdout.write(json.dumps(document) + "\n")
    else:
        print_result(document)
    raise typer.Exit(0 if document["status"] == "graded" else 1)


def _reject(assignment: str, reason: str, code: str, as_json: bool) -> None:
    from grader.cli_output import printable
    from grader.services.results import rejected_document

    if as_json:
        sys.stdout.write(json.dumps(rejected_document(assignment, reason, code)) + "\n")
    sys.stderr.write(f"rejected: {printable(reason)}\n")
    raise typer.Exit(2)


@app.command()
def release(
    out: Annotated[Path, typer.Option(help="Where to write the student release")] = Path("layers_dev.py"),
    assignment: Annotated[str, typer.Option(help="Assignment name")] = "layers",
) -> None:
    """Write the student release: solutions replaced by `raise NotImplementedError()`."""
    from grader.assignments.bundle import load_assignment
    from grader.assignments.release import clear_solutions

    out.write_text(clear_solutions(load_assignment(assignment).source_text), encoding="utf-8")
    typer.echo(f"wrote {out}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every Alembic migration to the configured database."""
    from grader.db import make_engine
    from grader.migrate import upgrade

    settings = get_settings()
    upgrade(make_engine(settings.effective_database_url))
    typer.echo("database is at the newest revision")


register_api_commands(app)
register_stack_commands(app)
register_regrade_commands(app)


def main() -> None:
    """Console entry point; an unexpected failure is exit 1 with a one-line reason, not a traceback."""
    try:
        app()
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        from grader.cli_output import printable

        sys.stderr.write(f"internal error: {type(exc).__name__}: {printable(exc)}\n")
        sys.exit(1)
