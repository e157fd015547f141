"""Messages name the line of the student's own file, not only the line within a cell."""

import re
from pathlib import Path

from grader.assignments.bundle import load_assignment
from grader.notebooks.lines import cell_first_lines, with_file_lines
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner
from grader.services.evaluate import evaluate

WRONG_INDEX = Path(__file__).resolve().parents[1] / "data/submissions/wrong_matmul_index.py"
LOCATED = re.compile(r"layers_dev\.py line (\d+), cell \S+ line \d+: ([^)\n]+)")
FILE = "# %%\nimport numpy as np\n\n# %%\n\ndef f():\n    return 1 / 0\n\n# %%\nf()\n"


def test_each_cell_is_found_in_order_with_its_first_line() -> None:
    cells = [("imports", "import numpy as np"), ("f", "\ndef f():\n    return 1 / 0"), ("call", "f()")]
    assert cell_first_lines(FILE, cells) == {"imports": 2, "f": 5, "call": 10}


def test_a_cell_not_in_the_file_as_written_is_left_out() -> None:
    assert cell_first_lines(FILE, [("restored", "def f():\n    return 2")]) == {}


def test_the_message_gains_the_file_line_and_keeps_the_cell_line() -> None:
    message = "ZeroDivisionError: division by zero (cell f, line 3: return 1 / 0)"
    located = with_file_lines(message, {"f": 5}, "layers_dev.py")
    assert located == "ZeroDivisionError: division by zero (layers_dev.py line 7, cell f line 3: return 1 / 0)"
    assert FILE.splitlines()[7 - 1].strip() == "return 1 / 0"
    assert with_file_lines(message, {}, "layers_dev.py") == message


def test_a_graded_message_points_at_the_students_line(runner: SandboxRunner, limits: SandboxLimits) -> None:
    """The wrong-index matmul fails the locked matmul test; the message's file line holds the quoted code."""
    content = WRONG_INDEX.read_bytes()
    evaluation = evaluate(load_assignment("layers"), content, "layers_dev.py", runner, limits, max_bytes=512 * 1024)
    lines = content.decode().splitlines()
    located = [match for scored in evaluation.score.items for match in LOCATED.finditer(scored.verdict.message)]
    assert located, [scored.verdict.message for scored in evaluation.score.items]
    for match in located:
        quoted = match[2].strip()
        assert quoted[:40] in lines[int(match[1]) - 1], (match[0], lines[int(match[1]) - 1])
