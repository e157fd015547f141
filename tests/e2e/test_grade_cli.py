"""`grader grade` end to end: real files, the real sandbox, the embedded SQLite default, the JSON contract."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = REPO_ROOT / "tests" / "data" / "submissions"
EXPECTED = yaml.safe_load((SUBMISSIONS / "expected.yaml").read_text())
GRADER = [sys.executable, "-m", "grader"]
CONTRACT_KEYS = {"submission_id", "assignment", "status", "score", "max_score", "tests", "integrity", "sandbox",
                 "rubric_version"}
TEST_KEYS = {"id", "name", "points", "max_points", "status", "visibility", "message"}


def run_grader(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    environment.update({"GRADER_HOME": str(tmp_path / "home")}, **(env or {}))
    return subprocess.run([*GRADER, *args], capture_output=True, text=True, env=environment, timeout=120,
                          cwd=REPO_ROOT)


def grade_json(tmp_path: Path, path: Path, *extra: str,
               env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    completed = run_grader(tmp_path, "grade", str(path), "--json", *extra, env=env)
    lines = completed.stdout.strip().splitlines()
    assert len(lines) == 1, completed.stdout + completed.stderr
    return completed.returncode, json.loads(lines[0]), completed.stderr


def test_example_solution_gets_full_marks_and_the_contract(tmp_path: Path) -> None:
    code, document, _ = grade_json(tmp_path, REPO_ROOT / "grader/assignments/layers/examples/student_solution.py",
                                   "--student", "s1")
    assert code == 0
    assert set(document) == CONTRACT_KEYS
    assert document["status"] == "graded" and document["assignment"] == "layers"
    assert document["score"] == document["max_score"] == 90
    assert all(set(test) == TEST_KEYS and test["status"] == "passed" for test in document["tests"])
    assert document["integrity"] == {"locked_cells_modified": False, "flags": []}
    assert set(document["sandbox"]) == {"wall_s", "cpu_s", "max_rss_mib", "killed"}
    assert document["sandbox"]["killed"] is None and document["sandbox"]["wall_s"] > 0
    assert (tmp_path / "home" / "grader.db").exists()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_submission_loses_exactly_what_it_should(tmp_path: Path, name: str) -> None:
    expected = EXPECTED[name]
    code, document, _ = grade_json(tmp_path, SUBMISSIONS / name)
    assert code == 0 and document["status"] == "graded"
    statuses = {test["id"]: test["status"] for test in document["tests"]}
    assert statuses == {item: expected["statuses"].get(item, "passed") for item in statuses}
    assert document["score"] == expected["score"]
    messages = {test["id"]: test["message"] for test in document["tests"]}
    for item, needle in expected.get("message", {}).items():
        assert needle in messages[item]
    for test in document["tests"]:
        if test["visibility"] == "hidden":
            assert test["message"] == ""
        elif test["status"] != "passed":
            assert test["message"], f"{test['id']} failed without saying why"


@pytest.mark.parametrize("name,needle", [
    ("empty.py", "empty"), ("binary.ipynb", "not text"), ("flattened_seed.py", "not a layers notebook"),
])
def test_bad_input_is_rejected_with_exit_2(tmp_path: Path, name: str, needle: str) -> None:
    code, document, stderr = grade_json(tmp_path, SUBMISSIONS / name)
    assert code == 2
    assert document["status"] == "rejected" and needle in document["reason"]
    assert stderr.strip().count("\n") == 0 and needle in stderr and "Traceback" not in stderr
    plain = run_grader(tmp_path, "grade", str(SUBMISSIONS / name))
    assert plain.returncode == 2 and plain.stdout == "" and "Traceback" not in plain.stderr


@pytest.mark.parametrize("name,content,code,needle", [
    ("bad.ipynb", '{"not": "nb"}', "not_notebook", "no \"nbformat\" version"),
    ("bad.ipynb", "[1, 2]", "not_notebook", "top level is a JSON array"),
    ("layers_dev.txt", "def matmul(A, B):\n    return A @ B\n", "unsupported_type", "unsupported file type"),
])
def test_malformed_notebook_or_other_type_is_a_rejection(tmp_path: Path, name: str, content: str, code: str,
                                                          needle: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    exit_code, document, stderr = grade_json(tmp_path, path)
    assert exit_code == 2 and document["status"] == "rejected" and document["code"] == code
    assert needle in document["reason"] and stderr.startswith("rejected:") and "internal error" not in stderr


def test_missing_file_is_rejected(tmp_path: Path) -> None:
    code, document, stderr = grade_json(tmp_path, tmp_path / "nope.py")
    assert code == 2 and "cannot read" in document["reason"] and "Traceback" not in stderr


def test_internal_error_is_exit_1_without_traceback(tmp_path: Path) -> None:
    completed = run_grader(tmp_path, "grade", str(SUBMISSIONS / "release.py"), "--json",
                           env={"GRADER_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:9/none"})
    assert completed.returncode == 1
    assert completed.stderr.startswith("internal error:") and "Traceback" not in completed.stderr


def test_readable_table(tmp_path: Path) -> None:
    completed = run_grader(tmp_path, "grade", str(SUBMISSIONS / "bias_ignored.py"))
    assert completed.returncode == 0
    assert "Score: 75 / 90" in completed.stdout and "hidden test" in completed.stdout


def test_release_command_writes_the_student_release(tmp_path: Path) -> None:
    out = tmp_path / "layers_dev.py"
    completed = run_grader(tmp_path, "release", "--out", str(out))
    assert completed.returncode == 0
    assert out.read_text() == (SUBMISSIONS / "release.py").read_text()


def test_readable_table_shows_student_lines_and_messages_as_written(tmp_path: Path) -> None:
    """Rich must not read `[/oops]` (a crash after the run was stored) or `[r, k]` (a silently garbled line)."""
    solution = (REPO_ROOT / "grader/assignments/layers/examples/student_solution.py").read_text()
    hostile = solution.replace("total += A[r, k] * B[k, c]", "total += A[r, k] * B[c, k]").replace(
        "    out = np.zeros((rows, cols))\n",
        "    out = np.zeros((rows, cols))\n    if rows == 1:\n        raise ValueError('bad shape [/oops] here')\n", 1)
    assert hostile.count("[/oops]") == 1 and "B[c, k]" in hostile
    path = tmp_path / "mk.py"
    path.write_text(hostile)
    wide = {"COLUMNS": "400"}
    completed = run_grader(tmp_path, "grade", str(path), env=wide)
    assert completed.returncode == 0, completed.stderr
    assert "internal error" not in completed.stderr
    assert "bad shape [/oops] here" in completed.stdout and "total += A[r, k] * B[c, k]" in completed.stdout
    readme_line = run_grader(tmp_path, "grade", str(SUBMISSIONS / "wrong_matmul_index.py"), env=wide)
    assert readme_line.returncode == 0 and "C[i, j] += A[i, k] * B[j, k]" in readme_line.stdout


def test_a_long_run_says_what_is_running_on_stderr_only(tmp_path: Path) -> None:
    """A looping matmul costs its CPU limit on every item; the wait is reported on stderr, stdout stays one JSON."""
    solution = (REPO_ROOT / "grader/assignments/layers/examples/student_solution.py").read_text()
    looping = solution.replace("    out = np.zeros((rows, cols))\n", "    while True:\n        pass\n", 1)
    path = tmp_path / "loops.py"
    path.write_text(looping)
    code, document, stderr = grade_json(tmp_path, path, env={"GRADER_SANDBOX_PER_TEST_CPU_S": "1"})
    assert code == 0 and document["status"] == "graded"
    assert any(test["status"] == "timeout" for test in document["tests"])
    assert "grading loops.py in the sandbox: the notebook, then each locked test and hidden probe" in stderr
