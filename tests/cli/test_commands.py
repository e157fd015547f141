"""Commands answer bad settings, bad paths and no-op upgrades with a sentence and an exit code, through the real
entry point (`python -m grader`)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
RELEASE = REPO_ROOT / "tests" / "data" / "submissions" / "release.py"


def grader(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    environment.update({"GRADER_HOME": str(tmp_path / "home")}, **(env or {}))
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, env=environment,
                          timeout=300, cwd=tmp_path)


@pytest.mark.parametrize(("env", "needle"), [
    ({"GRADER_ENVIRONMENT": "production", "GRADER_PASSBACK_SECRET": "tooshort-x7"},
     "GRADER_PASSBACK_SECRET must be set to a random value of at least 16 characters"),
    ({"GRADER_SANDBOX_CPU_S": "lots"}, "GRADER_SANDBOX_CPU_S: Input should be a valid number"),
    ({"GRADER_RUN_LEASE_S": "soon"}, "GRADER_RUN_LEASE_S: Input should be a valid integer"),
    ({"GRADER_PASSBACK_ALLOWED_NETWORKS": '["10.0.0.300/8"]'}, "GRADER_PASSBACK_ALLOWED_NETWORKS:"),
])
def test_a_bad_setting_is_exit_2_naming_the_variable(tmp_path: Path, env: dict[str, str], needle: str) -> None:
    for args in (("grade", str(RELEASE), "--json"), ("db", "upgrade"), ("courses", "create", "c1")):
        done = grader(tmp_path, *args, env=env)
        assert done.returncode == 2, (args, done.stderr)
        assert needle in done.stderr and done.stderr.startswith("error: invalid settings:"), done.stderr
        assert "pydantic" not in done.stderr and "internal error" not in done.stderr and done.stdout == ""
        assert "tooshort-x7" not in done.stderr, "a secret is never echoed"


def test_release_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "layers_dev.py"
    out.write_text("my work\n")
    done = grader(tmp_path, "release")
    assert done.returncode == 2 and "exists; pass --force" in done.stderr
    assert out.read_text() == "my work\n"
    forced = grader(tmp_path, "release", "--force")
    assert forced.returncode == 0 and out.read_text() == RELEASE.read_text()


@pytest.mark.parametrize(("out", "needle"), [
    ("/no/such/dir/x.py", "the directory /no/such/dir does not exist"),
    ("notes.txt", "must end in .py or .ipynb"),
    (".", "must end in .py or .ipynb"),
])
def test_release_to_a_bad_path_is_a_clear_error(tmp_path: Path, out: str, needle: str) -> None:
    done = grader(tmp_path, "release", "--out", out)
    assert done.returncode == 2 and needle in " ".join(done.stderr.split()) and "internal error" not in done.stderr


def test_release_as_ipynb_is_a_notebook_that_grader_grade_reads(tmp_path: Path) -> None:
    out = tmp_path / "layers_dev.ipynb"
    assert grader(tmp_path, "release", "--out", str(out)).returncode == 0
    notebook = nbformat.reads(out.read_text(), as_version=4)
    nbformat.validate(notebook)
    assert any(cell.metadata.get("nbgrader", {}).get("grade_id") == "matmul-naive" for cell in notebook.cells)
    graded = grader(tmp_path, "grade", str(out), "--json")
    assert graded.returncode == 0, graded.stderr
    assert json.loads(graded.stdout)["status"] == "graded"


def test_db_upgrade_says_which_revisions_it_applied(tmp_path: Path) -> None:
    first = grader(tmp_path, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    applied = [line for line in first.stdout.splitlines() if line.startswith("applied ")]
    assert applied and applied[0].startswith("applied 0001: ")
    head = applied[-1].split()[1].rstrip(":")
    assert f"database is now at revision {head} (the newest)" in first.stdout
    again = grader(tmp_path, "db", "upgrade")
    assert again.returncode == 0 and "applied " not in again.stdout
    assert f"already at revision {head} (the newest); nothing applied" in again.stdout
