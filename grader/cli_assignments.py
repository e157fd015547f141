"""`grader assignments`: scaffold an assignment bundle from an instructor source (and `check`, grader.cli_check)."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from grader.assignments.scaffold import Scaffold

assignments_app = typer.Typer(help="Assignment bundles: scaffold one with `new`, check one with `check`.",
                              no_args_is_help=True)


@assignments_app.command("new")
def assignments_new(
    source: Annotated[Path, typer.Argument(help="The instructor source: a jupytext percent .py or an .ipynb with "
                                                "nbgrader metadata")],
    out: Annotated[Path, typer.Option(help="The bundle folder to write (new, or empty)")],
    package: Annotated[Path | None, typer.Option(help="A folder of the modules a submission imports (copied "
                                                      "to the bundle's package/)")] = None,
) -> None:
    """Scaffold a bundle: one rubric item per locked graded cell with its nbgrader points, no hidden items."""
    from grader.assignments.scaffold import scaffold_bundle

    _print_scaffold(scaffold_bundle(source, out=out, package=package))


def _print_scaffold(found: "Scaffold") -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from grader.cli_output import literal

    bundle = found.bundle
    console = Console()
    table = Table("cell", "kind", "points", title=literal(f"{bundle.name}: {bundle.title}"))
    for cell in bundle.source_cells:
        if cell.grade_id and (cell.solution or cell.locked):
            kind = "solution" if cell.solution else "locked test" if cell.graded else "locked"
            table.add_row(literal(cell.grade_id), literal(kind), literal(f"{cell.points:g}" if cell.graded else ""))
    console.print(table)
    rows = [("rubric", f"{len(bundle.rubric.items)} locked items, {bundle.rubric.max_score:g} points"),
            ("the solution defines", ", ".join(found.defined_names) or "(nothing at top level)"),
            ("tensor class", found.tensor_class or "(none inferred)"),
            ("package", f"{len(found.package_files)} files" if found.package_files else "(none)")]
    for label, value in rows:
        console.print(Text.assemble(literal(f"{label}: ", "bold"), literal(value)))
    console.print(literal(f"wrote {found.folder} (rubric {bundle.rubric.version})"))


def register(app: typer.Typer) -> None:
    from grader.cli_check import register as register_check
    from grader.cli_versions import register as register_versions

    register_check(assignments_app)
    register_versions(assignments_app)
    app.add_typer(assignments_app, name="assignments")
