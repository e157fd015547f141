"""`grader assignments publish | list | show | versions | use`: a course's stored assignment versions.

Every string that came from a bundle or a database row is printed as literal Rich Text, never as markup.
"""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from grader.models import AssignmentVersion

SHIPPED = "shipped"
CourseOption = Annotated[str, typer.Option("--course", help="The course id")]


def _factory() -> "sessionmaker[Session]":
    from grader.cli_api import _factory as factory
    from grader.config import get_settings

    return factory(get_settings())


def version_document(version: "AssignmentVersion") -> dict[str, Any]:
    return {"id": version.id, "course": version.course_id, "assignment": version.assignment,
            "status": str(version.status), "forced": version.forced, "content_hash": version.content_hash,
            "rubric_version": version.rubric_version, "title": version.title, "published_by": version.published_by,
            "created_at": version.created_at.isoformat(),
            "published_at": version.published_at.isoformat() if version.published_at else None}


def publish(
    folder: Annotated[Path, typer.Argument(help="The bundle: a folder holding assignment.yaml, or a .zip/.tar.gz")],
    course: CourseOption,
    force: Annotated[bool, typer.Option(help="Publish even if the check fails (recorded on the version)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout")] = False,
    published_by: Annotated[str, typer.Option(help="Who publishes (default: $USER)")] = "",
) -> None:
    """Check the bundle in the sandbox, store it as an immutable version and make it the course's current one."""
    import getpass

    from grader.cli_progress import waiting_on_stderr
    from grader.config import get_settings
    from grader.errors import CheckFailed
    from grader.runtime_context import runner_for
    from grader.sandbox.runner import limits_from_settings
    from grader.services.assignment_versions import publish_now

    settings = get_settings()
    try:
        with waiting_on_stderr(lambda: f"checking {folder} in the sandbox"):
            version, report = publish_now(_factory(), runner=runner_for(settings), course=course, source=folder,
                                          published_by=published_by or getpass.getuser(), force=force,
                                          limits=limits_from_settings(settings))
    except CheckFailed as exc:  # the table says what failed; the error line and exit code follow
        if exc.report is not None:
            _show_check(exc.report, as_json)
        raise
    if as_json:
        typer.echo(json.dumps({**version_document(version), "check": report.to_json()}))
        return
    _show_check(report, as_json)
    _print_published(version, overridden=not report.passed)


def _show_check(report: Any, as_json: bool) -> None:
    from grader.cli_check import print_check

    if as_json:
        typer.echo(json.dumps({"status": "rejected", "check": report.to_json()}))
    else:
        print_check(report)


def _print_published(version: "AssignmentVersion", *, overridden: bool) -> None:
    from rich.console import Console

    from grader.cli_output import literal

    console = Console()
    if overridden:
        console.print(literal("the check failed; published anyway because --force was given (recorded)", "yellow"))
    console.print(literal(f"published {version.assignment} version {version.id} to {version.course_id} "
                          f"(content {version.content_hash[:12]}, rubric {version.rubric_version}); it is current"))


def list_command(course: CourseOption) -> None:
    """The course's assignments and the version each grades with now."""
    from rich.console import Console
    from rich.table import Table

    from grader.cli_output import literal
    from grader.db import session_scope
    from grader.services.assignment_versions import list_assignments

    table = Table("assignment", "title", "current", "rubric", "points", "published versions")
    with session_scope(_factory()) as session:
        for row in list_assignments(session, course=course):
            table.add_row(*(literal(cell) for cell in (
                row.assignment, row.title, row.version.id if row.version else SHIPPED, row.rubric_version,
                f"{row.max_score:g}", str(row.published_versions))))
    Console().print(table)


def show(assignment: Annotated[str, typer.Argument(help="The assignment id")], course: CourseOption) -> None:
    """What the course grades an assignment with now: its version and rubric."""
    from rich.console import Console
    from rich.table import Table

    from grader.cli_output import literal
    from grader.db import session_scope
    from grader.services.assignment_versions import current_version_id
    from grader.services.bundles import current_bundle

    with session_scope(_factory()) as session:
        bundle = current_bundle(session, course, assignment)
        version_id = current_version_id(session, course=course, assignment=assignment)
    console = Console()
    console.print(literal(f"{bundle.name}: {bundle.title}", "bold"))
    console.print(literal(f"current: {version_id or SHIPPED}; rubric {bundle.rubric.version}; "
                          f"{bundle.rubric.max_score:g} points; submission file {bundle.submission_filename}"))
    table = Table("item", "kind", "points", "name")
    for item in bundle.rubric.items:
        table.add_row(literal(item.id), literal(item.kind), literal(f"{item.points:g}"), literal(item.name))
    console.print(table)


def versions_command(assignment: Annotated[str, typer.Argument(help="The assignment id")],
                     course: CourseOption) -> None:
    """Every version of the assignment uploaded to the course, newest first; * marks the current one."""
    from rich.console import Console
    from rich.table import Table

    from grader.cli_output import literal
    from grader.db import session_scope
    from grader.services.assignment_versions import current_version_id, versions

    table = Table("")
    for column in ("version", "status", "forced", "check", "published by", "created", "content", "rubric"):
        table.add_column(column, overflow="fold")  # ids are copied from here into `use`: never cut short
    with session_scope(_factory()) as session:
        rows = versions(session, course=course, assignment=assignment)
        current = current_version_id(session, course=course, assignment=assignment)
        for version in rows:
            report = version.check_report or {}
            check = "" if not report else "passed" if report.get("passed") else "failed"
            table.add_row(*(literal(cell) for cell in (
                "*" if version.id == current else "", version.id, str(version.status), "yes" if version.forced else "",
                check, version.published_by, version.created_at.strftime("%Y-%m-%d %H:%M"),
                version.content_hash[:12], version.rubric_version)))
    console = Console()
    console.print(table)
    if current is None:
        console.print(literal(f"current: {SHIPPED} (the bundle shipped with the grader)"))


def use(assignment: Annotated[str, typer.Argument(help="The assignment id")],
        version: Annotated[str, typer.Argument(help=f"A published version id, or `{SHIPPED}`")],
        course: CourseOption) -> None:
    """Make one of the assignment's published versions (or the shipped bundle) what the course grades with."""
    from grader.cli_output import literal
    from grader.db import session_scope
    from grader.services.assignment_versions import set_current

    with session_scope(_factory()) as session:
        chosen = None if version == SHIPPED else _by_prefix(session, course, assignment, version)
        set_current(session, course=course, assignment=assignment, version_id=chosen)
    from rich.console import Console

    Console().print(literal(f"{course} grades {assignment} with {version} from now on"))


def _by_prefix(session: "Session", course: str, assignment: str, given: str) -> str:
    """A version id, or the start of exactly one of the assignment's version ids (as the tables show them)."""
    from grader.services.assignment_versions import versions

    matches = [row.id for row in versions(session, course=course, assignment=assignment) if row.id.startswith(given)]
    return matches[0] if len(matches) == 1 and len(given) >= 6 else given


def register(app: typer.Typer) -> None:
    app.command("publish")(publish)
    app.command("list")(list_command)
    app.command("show")(show)
    app.command("versions")(versions_command)
    app.command("use")(use)
