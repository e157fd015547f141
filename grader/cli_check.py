"""`grader assignments check DIR`: the bundle's solution, locked tests and release, graded in the sandbox here.

Thin: load the bundle, call `check_bundle`, shape the report. Everything the bundle wrote (ids, names, messages)
is shown as literal text.
"""

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from grader.assignments.check_report import CheckItem, CheckReport

RUNS_HELP = ("Seeds each locked test is swept under on the solution, no retry [default: 3000: seeds 0-1499, the "
             "same every check, then 1500 fresh ones]. A locked test failing 1 run in 500 is missed by the "
             "fresh seeds alone with probability 5.0% (0.25% by all 3000); layers' "
             "test-layer-activation-comprehensive (about 1 in 630) fails under 4 of the fixed seeds, so every "
             "check names it")


def assignments_check(
    bundle: Annotated[Path, typer.Argument(help="The bundle folder, .zip or .tar.gz")],
    runs: Annotated[int | None, typer.Option(help=RUNS_HELP, min=1, max=100_000)] = None,
    full_runs: Annotated[int, typer.Option(help="Graded runs of the whole solution, each under fresh probe seeds",
                                           min=1, max=50)] = 3,
    seed: Annotated[int | None, typer.Option(help="Repeat an earlier check: the seed its report names", min=0,
                                             max=2**32 - 1)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object")] = False,
) -> None:
    """Grade the instructor's solution in the sandbox several times, sweep each locked test under many seeds, and
    grade the student release once. Exit 1 when the solution loses points; flaky tests and items the release
    passes are named."""
    from grader.assignments.loader import load_bundle
    from grader.cli_progress import waiting_on_stderr
    from grader.config import get_settings
    from grader.runtime_context import runner_for
    from grader.sandbox.runner import limits_from_settings
    from grader.services.check import DEFAULT_RUNS, check_bundle

    loaded = load_bundle(bundle)
    settings = get_settings()
    with waiting_on_stderr(lambda: f"checking {loaded.name} in the sandbox"):
        report = check_bundle(loaded, runner=runner_for(settings), runs=runs or DEFAULT_RUNS, full_runs=full_runs,
                              seed=seed, limits=limits_from_settings(settings))
    if as_json:
        sys.stdout.write(json.dumps(report.to_json()) + "\n")
    else:
        print_check(report)
    raise typer.Exit(0 if report.passed else 1)


def _rate(passes: int, runs: int) -> str:
    return f"{passes}/{runs}" if passes == runs else f"{passes}/{runs} ({100 * passes / runs:.2f}%)"


def _locked_cell(item: "CheckItem") -> str:
    sweep = item.sweep
    if sweep is None:
        return "-"
    if sweep.error:
        return f"no count: {sweep.error}"
    return _rate(sweep.passed, sweep.runs)


def print_check(report: "CheckReport", console: "Console | None" = None) -> None:
    """The check table, then its verdict and what to fix; every bundle-written string is literal text."""
    from rich.console import Console
    from rich.table import Table

    from grader.cli_output import literal

    console = console or Console()
    table = Table(title=literal(f"check {report.assignment}: {report.title}"))
    for column, justify in (("item", "left"), ("kind", "left"), ("points", "right"), ("solution", "right"),
                            ("locked test, per seed", "right"), ("release", "left")):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for item in report.items:
        solution = _rate(item.solution_passes, item.solution_runs)
        release = literal("passes: tests nothing", "yellow") if item.release_passes else literal("fails", "green")
        table.add_row(literal(item.id), literal(item.kind), literal(f"{item.points:g}"),
                      literal(solution, "" if item.solution_passes == item.solution_runs else "red"),
                      literal(_locked_cell(item), "yellow" if item.flaky else ""), release)
    console.print(table)
    _print_findings(report, console)


def _print_findings(report: "CheckReport", console: "Console") -> None:
    from grader.cli_output import literal

    scores = ", ".join(f"{score:g}" for score in report.solution_scores)
    verdict = "passed" if report.passed else "FAILED: the solution does not earn full marks"
    console.print(literal(f"check {verdict} (solution scored {scores} of {report.max_score:g}; release "
                          f"{report.release_score:g})", "bold green" if report.passed else "bold red"))
    for item in report.items:
        if item.solution_passes < item.solution_runs:
            console.print(literal(f"solution loses {item.id}: {item.solution_message}", "red"))
        if item.flaky and item.sweep is not None:
            sweep = item.sweep
            found = sweep.error or (f"fails {sweep.runs - sweep.passed} of {sweep.runs} seeds "
                                    f"({100 * (1 - sweep.rate):.2f}%), e.g. seed {sweep.failing_seed}: "
                                    f"{sweep.failing_message}")
            console.print(literal(f"flaky locked test {item.id}: {found}", "yellow"))
    for item_id in report.tests_nothing:
        console.print(literal(f"tests nothing: the student release passes {item_id}", "yellow"))
    console.print(literal(f"{report.runs} seeds per locked test ({report.fixed_seeds} fixed), {report.full_runs} "
                          f"graded runs, {report.cost_s:.1f} s; repeat with --seed {report.seed}", "dim"))


def register(app: typer.Typer) -> None:
    app.command("check")(assignments_check)
