"""Rich rendering for people at a terminal: what a student, an LMS or a file wrote is shown literally, never as markup.

Rich reads `[...]` in a plain string as a tag, so `A[r, k]` in a student's line would vanish and `[/x]` in an
exception message would crash the table after the run was stored. Everything not written by this module goes
through `literal` (a `Text`, never parsed) and `printable` (control characters shown as escapes, so an ANSI
sequence or a carriage return in a message cannot recolour, move or clear the terminal).
"""

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from grader.cli_text import printable

__all__ = ["FolderTable", "literal", "print_result", "printable"]

STATUS_STYLE = {"passed": "green", "failed": "red", "error": "magenta", "timeout": "yellow",
                "memory": "yellow", "skipped": "dim"}


def literal(value: object, style: str = "") -> Text:
    """Text that Rich shows as it is: no markup, no terminal control."""
    return Text(printable(value), style=style)


def print_result(document: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=literal(f"{document['assignment']} — submission {document['submission_id']}"))
    table.add_column("item")
    table.add_column("status")
    table.add_column("points", justify="right")
    table.add_column("message", overflow="fold")
    for test in document["tests"]:
        message = test["message"] or ("(hidden test)" if test["visibility"] == "hidden" else "")
        table.add_row(literal(test["name"]), literal(test["status"], STATUS_STYLE.get(test["status"], "")),
                      literal(f"{test['points']:g}/{test['max_points']:g}"), literal(message))
    console.print(table)
    console.print(Text.assemble(literal(f"Score: {document['score']:g} / {document['max_score']:g}", "bold"),
                                literal(f"  (rubric {document['rubric_version']})")))
    integrity = document["integrity"]
    if integrity["flags"]:
        console.print(Text.assemble(literal("Integrity flags:", "yellow"), " ",
                                    literal(", ".join(integrity["flags"]))))
    sandbox = document["sandbox"]
    killed = f", killed: {sandbox['killed']}" if sandbox["killed"] else ""
    console.print(literal(f"Sandbox: {sandbox['wall_s']:.2f} s wall, {sandbox['cpu_s']:.2f} s CPU, "
                          f"{sandbox['max_rss_mib']:.0f} MiB peak{killed}"))


class FolderTable:
    """One row per file of a folder; a terminal sees the table grow as each file is graded, a pipe gets it once."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.console = Console()
        self.table = Table("file", "student", "status", "score", "flags or reason", title=literal("graded folder"))
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
        """File names, student ids and reasons come from students: shown literally, like the single file's table."""
        status = document["status"]
        score = f"{document['score']:g}/{document['max_score']:g}" if status == "graded" else "-"
        note = ", ".join(document["integrity"]["flags"]) if status == "graded" else document.get("reason", "")
        style = {"graded": "green", "rejected": "yellow", "error": "magenta"}.get(status, "")
        self.table.add_row(literal(filename), literal(student), literal(status, style), literal(score),
                           literal(note))
        if self.live is not None:
            self.live.refresh()
