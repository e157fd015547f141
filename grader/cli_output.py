"""Rich rendering of a result document for people at a terminal."""

from typing import Any

from rich.console import Console
from rich.table import Table

STATUS_STYLE = {"passed": "green", "failed": "red", "error": "magenta", "timeout": "yellow",
                "memory": "yellow", "skipped": "dim"}


def print_result(document: dict[str, Any]) -> None:
    console = Console()
    table = Table(title=f"{document['assignment']} — submission {document['submission_id']}")
    table.add_column("item")
    table.add_column("status")
    table.add_column("points", justify="right")
    table.add_column("message", overflow="fold")
    for test in document["tests"]:
        style = STATUS_STYLE.get(test["status"], "")
        table.add_row(test["name"], f"[{style}]{test['status']}[/]", f"{test['points']:g}/{test['max_points']:g}",
                      test["message"] or ("(hidden test)" if test["visibility"] == "hidden" else ""))
    console.print(table)
    console.print(f"[bold]Score: {document['score']:g} / {document['max_score']:g}[/]  "
                  f"(rubric {document['rubric_version']})")
    integrity = document["integrity"]
    if integrity["flags"]:
        console.print(f"[yellow]Integrity flags:[/] {', '.join(integrity['flags'])}")
    sandbox = document["sandbox"]
    console.print(f"Sandbox: {sandbox['wall_s']:.2f} s wall, {sandbox['cpu_s']:.2f} s CPU, "
                  f"{sandbox['max_rss_mib']:.0f} MiB peak" + (f", killed: {sandbox['killed']}" if sandbox["killed"]
                                                                else ""))
