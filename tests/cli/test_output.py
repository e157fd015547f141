"""Every terminal output path shows student and LMS text literally: no Rich markup, no terminal control."""

import ast
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from grader.cli_output import literal, print_result, printable
from grader.cli_regrade import _show
from grader.services.batch_states import BatchState
from grader.services.regrade import BatchView
from grader.services.regrade_summary import BatchProgress, BatchSummary, ItemFlips, ScoreChange

CLI_MODULES = sorted((Path(__file__).resolve().parents[2] / "grader").glob("cli*.py"))
HOSTILE = [
    "bad shape [/oops] here", "[bold]loud[/bold]", "[link=https://evil.example]click[/link]",
    "total += A[r, k] * B[c, k]",
    "red \x1b[31mALERT\x1b[0m", "clear \x1b[2J\x1b[H", "osc \x1b]8;;https://evil.example\x07x\x1b]8;;\x07",
    "cr\roverwrite", "bell\x07 nul\x00 del\x7f c1\x9b", "bidi \u202eevil\u202c", "[/]",
]
# What each hostile string must look like on the screen: its text, with control characters as visible escapes.
TERMINAL_CONTROL = ("\x1b[31m", "\x1b[2J", "\x1b]8;;https://evil", "\r", "\x07", "\x00", "\x7f", "\x9b", "\u202e")


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=400, force_terminal=True, color_system="truecolor", soft_wrap=True), out


def _assert_shown_literally(text: str, hostile: str) -> None:
    assert printable(hostile) in text, (hostile, text)
    for control in TERMINAL_CONTROL:
        assert control not in text, (control, text)


def _document(hostile: str) -> dict[str, Any]:
    return {"submission_id": hostile, "assignment": hostile, "status": "graded", "score": 10, "max_score": 90,
            "rubric_version": hostile,
            "tests": [{"id": "x", "name": hostile, "points": 0, "max_points": 10, "status": "error",
                       "visibility": "visible", "message": f"ValueError: {hostile}\nline 3: {hostile}"},
                      {"id": "y", "name": "hidden", "points": 0, "max_points": 10, "status": hostile,
                       "visibility": "hidden", "message": ""}],
            "integrity": {"locked_cells_modified": True, "flags": [f"locked_cell_edited:{hostile}"]},
            "sandbox": {"wall_s": 1.0, "cpu_s": 0.5, "max_rss_mib": 50, "killed": hostile}}


def _batch(hostile: str) -> BatchView:
    progress = BatchProgress(total=1, queued=0, running=0, done=1, failed=0, cancelled=0, changed=1)
    summary = BatchSummary(rubric_version="r", up=1, down=0, unchanged=0, new=0, errored=0, cancelled=0,
                           largest_changes=[ScoreChange(submission_id=hostile, student=hostile, run_id="run",
                                                        old_score=None, new_score=90, delta=90)],
                           items=[ItemFlips(id="i", name=hostile, flipped=1, now_passed=1, no_longer_passed=0)])
    return BatchView(id=hostile, assignment=hostile, course=hostile, rubric_version=hostile, scope="latest",
                     filters={}, preview=True, phase=next(iter(BatchState)), actions=[], state=hostile,
                     publication=hostile, progress=progress,
                     created_at=datetime.now(UTC), finished_at=datetime.now(UTC), summary=summary)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_result_table_shows_student_text_literally(hostile: str) -> None:
    console, out = _console()
    print_result(_document(hostile), console)
    text = out.getvalue()
    _assert_shown_literally(text, hostile)
    assert text.count(printable(hostile)) >= 6


@pytest.mark.parametrize("hostile", HOSTILE)
def test_batch_summary_shows_ids_and_names_literally(hostile: str) -> None:
    console, out = _console()
    _show(_batch(hostile), console)
    text = out.getvalue()
    _assert_shown_literally(text, hostile)
    assert text.count(printable(hostile)) >= 5


def test_printable_keeps_text_and_layout_and_escapes_controls() -> None:
    assert printable("C[i, j] += A[i, k]\n\tnext") == "C[i, j] += A[i, k]\n\tnext"
    assert printable("\x1b[2J\r\u202e") == "\\x1b[2J\\x0d\\u202e"
    assert literal("[bold]x[/bold]").plain == "[bold]x[/bold]"


CHECKED_CALLS = {"print", "add_row", "Table", "add_column", "assemble"}


def _outputs_markup(node: ast.expr) -> bool:
    """An argument Rich would parse as markup: an f-string, a concatenation, or a string constant with a '['."""
    if isinstance(node, ast.JoinedStr | ast.BinOp):
        return True
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and "[" in node.value


@pytest.mark.parametrize("module", CLI_MODULES, ids=lambda path: path.name)
def test_no_cli_module_hands_rich_a_formatted_string(module: Path) -> None:
    """Every Rich call in grader/cli*.py takes Text (literal) or our own constants, so nothing is read as markup."""
    offenders = []
    for node in ast.walk(ast.parse(module.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in CHECKED_CALLS:
            continue
        values = [*node.args, *(keyword.value for keyword in node.keywords)]
        offenders += [f"{module.name}:{value.lineno}" for value in values if _outputs_markup(value)]
    assert offenders == []
