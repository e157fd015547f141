"""Rich rendering for people at a terminal: what a student, an LMS or a file wrote is shown literally, never as markup.

Rich reads `[...]` in a plain string as a tag, so `A[r, k]` in a student's line would vanish and `[/x]` in an
exception message would crash the table after the run was stored. Everything not written by this module goes
through `literal` (a `Text`, never parsed) and `printable` (control characters shown as escapes, so an ANSI
sequence or a carriage return in a message cannot recolour, move or clear the terminal).
"""

import re
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

STATUS_STYLE = {"passed": "green", "failed": "red", "error": "magenta", "timeout": "yellow",
                "memory": "yellow", "skipped": "dim"}
# C0 controls but newline and tab, DEL, C1 controls, and the bidirectional overrides that reorder what is shown.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object) -> str:
    """The text with every control character that could drive a terminal written as a visible escape."""
    return CONTROL.sub(_escape, str(value))


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
