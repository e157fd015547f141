"""The layers below the bundles speak a generic protocol: no assignment's name is written in them, code or comment,
so what is specific to one assignment can only live in that assignment's bundle."""

import re
from pathlib import Path

GRADER = Path(__file__).resolve().parents[2] / "grader"
GENERIC = ("sandbox", "verdicts", "scoring", "services")
ASSIGNMENT_WORDS = re.compile(r"\b(matmul|dense|layers|tinytorch)\b", re.IGNORECASE)


def test_no_assignment_name_below_the_bundles() -> None:
    found = [f"{path.relative_to(GRADER)}:{number}: {line.strip()}"
             for package in GENERIC for path in sorted((GRADER / package).rglob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if ASSIGNMENT_WORDS.search(line)]
    assert found == [], "assignment names below grader/assignments:\n" + "\n".join(found)
