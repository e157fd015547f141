"""`grader grade DIR`: every submission of an LMS download graded on one sandbox, one row per file, and a
rejected file stops none of the others."""

import json
import shutil
from pathlib import Path
from typing import Any

import jupytext

from tests.e2e.test_grade_cli import CONTRACT_KEYS, EXPECTED, REPO_ROOT, SUBMISSIONS, run_grader

SOLUTION = REPO_ROOT / "grader/assignments/layers/examples/student_solution.py"


def _download(tmp_path: Path) -> Path:
    """A folder as an LMS hands it out: files named after students, one notebook, some that are not ours."""
    folder = tmp_path / "download"
    folder.mkdir()
    shutil.copy(SOLUTION, folder / "alice_layers_dev.py")
    shutil.copy(SUBMISSIONS / "bias_ignored.py", folder / "bob_layers_dev.py")
    notebook = jupytext.reads(SOLUTION.read_text(encoding="utf-8"), fmt="py:percent")
    (folder / "[bold]carol[bold].ipynb").write_text(jupytext.writes(notebook, fmt="ipynb"))
    shutil.copy(SUBMISSIONS / "empty.py", folder / "dave_layers_dev.py")
    shutil.copy(SUBMISSIONS / "flattened_seed.py", folder / "erin_layers_dev.py")
    (folder / "readme.txt").write_text("not a submission\n")
    (folder / "nested").mkdir()
    shutil.copy(SOLUTION, folder / "nested" / "frank_layers_dev.py")
    return folder


def _lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.strip().splitlines()]


def test_every_file_gets_a_json_line_and_rejections_stop_nothing(tmp_path: Path) -> None:
    folder = _download(tmp_path)
    completed = run_grader(tmp_path, "grade", str(folder), "--json")
    assert completed.returncode == 2, completed.stderr
    rows = {row["file"]: row for row in _lines(completed.stdout)}
    assert list(rows) == ["[bold]carol[bold].ipynb", "alice_layers_dev.py", "bob_layers_dev.py",
                          "dave_layers_dev.py", "erin_layers_dev.py"]
    for name in ("alice_layers_dev.py", "[bold]carol[bold].ipynb"):
        assert rows[name]["status"] == "graded" and rows[name]["score"] == 90
        assert rows[name]["integrity"]["flags"] == []
        assert set(rows[name]) == CONTRACT_KEYS | {"file", "student"}
    assert rows["bob_layers_dev.py"]["score"] == EXPECTED["bias_ignored.py"]["score"]
    assert rows["alice_layers_dev.py"]["student"] == "alice_layers_dev"
    assert rows["dave_layers_dev.py"]["status"] == "rejected" and "empty" in rows["dave_layers_dev.py"]["reason"]
    assert rows["erin_layers_dev.py"]["status"] == "rejected"
    assert "not a layers notebook" in rows["erin_layers_dev.py"]["reason"]
    assert len({row["submission_id"] for row in rows.values() if row["status"] == "graded"}) == 3
    assert "Traceback" not in completed.stderr


def test_the_table_has_one_row_per_file_with_names_shown_as_written(tmp_path: Path) -> None:
    folder = _download(tmp_path)
    completed = run_grader(tmp_path, "grade", str(folder), env={"COLUMNS": "200"})
    assert completed.returncode == 2, completed.stderr
    table = completed.stdout
    assert "[bold]carol[bold].ipynb" in table
    rows = [line for line in table.splitlines() if "_layers_dev.py" in line or "carol" in line]
    assert len(rows) == 5
    assert "90/90" in next(line for line in rows if "alice" in line)
    assert "the file is empty" in next(line for line in rows if "dave" in line)


def test_a_folder_of_graded_files_exits_0(tmp_path: Path) -> None:
    folder = tmp_path / "clean"
    folder.mkdir()
    for student in ("ann", "ben"):
        shutil.copy(SOLUTION, folder / f"{student}.py")
    completed = run_grader(tmp_path, "grade", str(folder), "--json")
    assert completed.returncode == 0, completed.stderr
    assert [row["score"] for row in _lines(completed.stdout)] == [90, 90]


def test_a_folder_without_submissions_is_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "nothing"
    folder.mkdir()
    (folder / "notes.txt").write_text("x")
    completed = run_grader(tmp_path, "grade", str(folder), "--json")
    assert completed.returncode == 2
    assert _lines(completed.stdout)[0]["status"] == "rejected" and "no *.py or *.ipynb" in completed.stderr
