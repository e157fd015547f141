"""The `grader` command line: each command parses, calls one service, and shapes the output.

Commands import what they use inside their body, so `grader --help` loads neither settings, the ORM, Rich nor numpy.
"""

import atexit
import gc
import json
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from grader.cli_api import register as register_api_commands
from grader.cli_assignments import register as register_assignment_commands
from grader.cli_errors import AnswersDomainErrors
from grader.cli_lti import register as register_lti_commands
from grader.cli_regrade import register as register_regrade_commands
from grader.cli_stack import register as register_stack_commands
from grader.errors import NotFound, Rejected

if TYPE_CHECKING:
    from grader.config import Settings

# plain click help: Rich's help renderer alone costs more to import than the rest of `grader --help`
app = typer.Typer(help="TinyTorch autograder: grade submissions against assignment bundles.", no_args_is_help=True,
                  pretty_exceptions_enable=False, cls=AnswersDomainErrors, rich_markup_mode=None)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.command()
def grade(
    path: Annotated[Path, typer.Argument(help="The student's file (.py or .ipynb), or a folder of them")],
    student: Annotated[str, typer.Option(help="Student id to record (a folder's files: each file's name)")]
    = "local",
    assignment: Annotated[str | None, typer.Option(help="Shipped assignment id [default: layers]")] = None,
    bundle: Annotated[Path | None, typer.Option(help="Grade against this bundle folder, .zip or .tar.gz instead "
                                                     "(loaded for this command only, not published)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print exactly one JSON object (a folder: one a line)")]
    = False,
    queue: Annotated[bool, typer.Option("--queue", help="Grade through the workers and wait for the result")] = False,
    timeout: Annotated[float, typer.Option(help="With --queue: seconds to wait for a worker's result", min=1)]
    = 180.0,
) -> None:
    """Grade one file, or every *.py and *.ipynb in a folder, on the embedded default (or through the queue), and
    store it.

    The submission is stored without a course: `grader regrade` (without --course) and the database see it, the
    HTTP API and the dashboard, which show one course's submissions posted by its LMS, do not.
    """
    from grader.imports import without_collection

    with without_collection():
        from grader.cli_progress import waiting_on_stderr
        from grader.cli_stack import NotGraded, grade_queued
        from grader.config import get_settings
        from grader.grade_once import grade_file_once
    assignment = _assignment_for(assignment, bundle, queue, as_json)
    if path.is_dir():
        if queue:
            _reject(assignment, "--queue grades one file; grade a folder without it", "invalid", as_json)
        _grade_folder(path, assignment, as_json)
    try:
        content = path.read_bytes()
    except OSError as exc:
        _reject(assignment, f"cannot read {path}: {exc.strerror}", "unreadable", as_json)
    settings = get_settings()
    try:
        if queue:
            document = grade_queued(settings, content=content, filename=path.name, student=student,
                                    assignment=assignment, timeout_s=timeout)
        else:
            in_sandbox = threading.Event()
            with waiting_on_stderr(lambda: _grading_line(path.name, settings) if in_sandbox.is_set() else None):
                document = grade_file_once(settings, content=content, filename=path.name, student=student,
                                           assignment=assignment, on_job=in_sandbox.set)
    except Rejected as exc:
        _reject(assignment, exc.reason, exc.code, as_json)
    except NotFound as exc:
        _reject(assignment, str(exc), "unknown_assignment", as_json)
    except NotGraded as exc:
        _fail(str(exc), code=1)
    if as_json:
        sys.stdout.write(json.dumps(document) + "\n")
    else:
        from grader.cli_output import print_result

        print_result(document)
    raise typer.Exit(0 if document["status"] == "graded" else 1)


def _assignment_for(assignment: str | None, bundle: Path | None, queue: bool, as_json: bool) -> str:
    """The assignment id to grade against; a --bundle is loaded and registered for this process first."""
    if bundle is None:
        return assignment or "layers"
    if assignment is not None or queue:
        _reject(assignment or str(bundle), "--bundle grades here against that bundle; it takes neither "
                "--assignment nor --queue (the workers know only shipped and published assignments)", "invalid",
                as_json)
    from grader.assignments.registry import use_bundle
    from grader.errors import BundleInvalid

    try:
        return use_bundle(bundle)
    except BundleInvalid as exc:
        _reject(str(bundle), str(exc), exc.code, as_json)


def _grade_folder(folder: Path, assignment: str, as_json: bool) -> None:
    """One row (or JSON line) per file as each is graded; the exit code is the worst file's."""
    from grader.imports import without_collection

    with without_collection():
        from grader.cli_output import FolderTable
        from grader.config import get_settings
        from grader.grade_folder import grade_folder, submission_files

    files = submission_files(folder)
    if not files:
        _reject(assignment, f"{folder} holds no *.py or *.ipynb file", "empty_folder", as_json)
    statuses = []
    with FolderTable(enabled=not as_json) as table:
        for result in grade_folder(get_settings(), files, assignment=assignment):
            statuses.append(result.document["status"])
            if as_json:
                sys.stdout.write(json.dumps({"file": result.path.name, "student": result.student,
                                             **result.document}) + "\n")
                sys.stdout.flush()
            else:
                table.add(result.path.name, result.student, result.document)
    raise typer.Exit(1 if "error" in statuses else 2 if "rejected" in statuses else 0)


def _grading_line(filename: str, settings: "Settings") -> str:
    """What the host knows of a run in progress: the sandbox reports items only when it is done."""
    limits = settings.sandbox
    return (f"grading {filename} in the sandbox: the notebook, then each locked test and hidden probe in turn "
            f"(each at most {limits.per_test_cpu_s:g} s CPU, the run at most {limits.wall_s:g} s)")


def _reject(assignment: str, reason: str, code: str, as_json: bool) -> NoReturn:
    from grader.cli_text import printable
    from grader.services.results import rejected_document

    if as_json:
        sys.stdout.write(json.dumps(rejected_document(assignment, reason, code)) + "\n")
    sys.stderr.write(f"rejected: {printable(reason)}\n")
    raise typer.Exit(2)


@app.command()
def release(
    out: Annotated[Path | None, typer.Option(help="Where to write the student release: a .py (percent) or .ipynb "
                                                  "file [default: the bundle's submission file name]")] = None,
    assignment: Annotated[str | None, typer.Option(help="Shipped assignment id [default: layers]")] = None,
    bundle: Annotated[Path | None, typer.Option(help="Release this bundle folder, .zip or .tar.gz instead")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the file if it exists")] = False,
) -> None:
    """Write the student release: solutions replaced by `raise NotImplementedError()`."""
    from grader.assignments.release import release_of

    if assignment is not None and bundle is not None:
        _fail("give --assignment or --bundle, not both")
    if out is not None and out.suffix.lower() not in {".py", ".ipynb"}:
        raise typer.BadParameter(f"{out} must end in .py or .ipynb (what `grader grade` reads)", param_hint="--out")
    filename, text = release_of(assignment=assignment or ("layers" if bundle is None else None), bundle=bundle,
                                suffix=None if out is None else out.suffix.lower())
    out = out or Path(filename)
    try:
        with out.open("w" if force else "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        _fail(f"{out} exists; pass --force to replace it")
    except FileNotFoundError:
        _fail(f"cannot write {out}: the directory {out.parent} does not exist")
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror}")
    typer.echo(f"wrote {out}")


def _fail(message: str, code: int = 2) -> NoReturn:
    from grader.cli_text import printable

    sys.stderr.write(f"error: {printable(message)}\n")
    raise typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations the configured database lacks, and say which."""
    from grader.config import get_settings
    from grader.db import make_engine
    from grader.migrate import head_revision, upgrade

    settings = get_settings()
    if not settings.database_url:  # the embedded default lives in the home, which a fresh install has not made
        settings.home.mkdir(parents=True, exist_ok=True)
    applied = upgrade(make_engine(settings.effective_database_url))
    for revision in applied:
        typer.echo(f"applied {revision.revision}: {revision.title}")
    if applied:
        typer.echo(f"database is now at revision {head_revision()} (the newest)")
    else:
        typer.echo(f"database was already at revision {head_revision()} (the newest); nothing applied")


register_api_commands(app)
register_assignment_commands(app)
register_stack_commands(app)
register_regrade_commands(app)
register_lti_commands(app)


def main() -> None:
    """Console entry point; an unexpected failure is exit 1 with a one-line reason, not a traceback (a bad
    setting, like every GraderError, is answered by the root group with its own exit code).

    The last exit handler freezes the heap: the interpreter's teardown would otherwise run the collector over
    every object a grade left (0.4 s, more than a tenth of `grade FILE`). Connections and sandboxes are closed
    by their own exit handlers before it.
    """
    atexit.register(gc.freeze)
    try:
        app()
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        from grader.cli_text import printable

        sys.stderr.write(f"internal error: {type(exc).__name__}: {printable(exc)}\n")
        sys.exit(1)
