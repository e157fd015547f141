"""What an integrity flag means, in words: the stored flag stays a code (`kind:cell`), the page says what it is.

A locked cell from an earlier release is told apart from a tamper: the student kept the cell they were given, and
the grader ran the current one anyway. Unknown kinds are shown as their code, never guessed at.
"""

from dataclasses import dataclass

LABELS = {
    "locked_cell_edited": "Locked cell edited",
    "locked_cell_deleted": "Locked cell deleted",
    "locked_cell_duplicated": "Locked cell duplicated",
    "locked_cell_metadata_edited": "Locked cell's nbgrader metadata edited",
    "locked_cell_metadata_stripped": "Locked cell's nbgrader metadata stripped",
    "locked_cell_outdated": "Locked cell from an earlier release (not an edit; the current cell was run)",
    "locked_test_untrusted": "Locked test's own result not trusted (judged outside the sandbox)",
    "harness_channel_corrupted": "The sandbox's result channel was tampered with",
}
NOT_TAMPER = frozenset({"locked_cell_outdated"})


@dataclass(frozen=True)
class FlagLabel:
    """One flag as a page shows it: its kind, the cell or item it names, its words, and whether it is a tamper."""

    code: str
    kind: str
    cell: str | None
    text: str
    tamper: bool


def flag_label(flag: str) -> FlagLabel:
    kind, _, cell = flag.partition(":")
    text = LABELS.get(kind, kind)
    return FlagLabel(code=flag, kind=kind, cell=cell or None, text=text, tamper=kind not in NOT_TAMPER)


def tampers(flags: list[str]) -> list[str]:
    """The flags that say the student changed something: after a mid-term fix most of a class holds an earlier
    release's cells, and "Only flagged" must not list them all."""
    return [flag for flag in flags if flag_label(flag).tamper]
