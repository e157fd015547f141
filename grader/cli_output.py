"""Rich rendering of a result document for people at a terminal."""

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

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


class FolderTable:
    """One row per file of a folder; a terminal sees the table grow as each file is graded, a pipe gets it once."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.console = Console()
        self.table = Table("file", "student", "status", "score", "flags or reason", title="graded folder")
        for column in self.table.columns:
            column.overflow = "fold"
        live = enabled and self.console.is_terminal
        self.live = Live(self.table, console=self.console, auto_refresh=False) if live else None

    def __enter__(self) -> "FolderTable":
        if self.live is not None:
            self.live.start(refresh=True)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.live is not None:
            self.live.stop()
        elif self.enabled:
            self.console.print(self.table)

    def add(self, filename: str, student: str, document: dict[str, Any]) -> None:
        """File names, student ids and reasons come from students: shown as text, never as Rich markup."""
        status = document["status"]
        score = f"{document['score']:g}/{document['max_score']:g}" if status == "graded" else "-"
        note = ", ".join(document["integrity"]["flags"]) if status == "graded" else document.get("reason", "")
        style = {"graded": "green", "rejected": "yellow", "error": "magenta"}.get(status, "")
        self.table.add_row(Text(filename), Text(student), Text(status, style=style), score, Text(note))
        if self.live is not None:
            self.live.refresh()
