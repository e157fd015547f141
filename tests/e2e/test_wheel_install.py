"""A wheel installed outside the repository migrates its own database and grades, as a new user would do it.

The wheel is built from a copy of the source tree (the checkout stays clean), installed with its pinned
dependencies into a fresh venv in a temp folder, and run from there with no path back into the repository:
`grader db upgrade` on the embedded default, then `grader grade` of the example solution that ships inside it.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from grader.migrate import alembic_config

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "grader/assignments/layers/examples/student_solution.py"
NOT_SHIPPED = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "test-output",
                                     "node_modules", "tests")
pytestmark = pytest.mark.timeout(900)


def run(args: list[str], *, cwd: Path, env: dict[str, str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s)
    output = done.stdout[-2000:] + done.stderr[-3000:]
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{output}"
    return done


def outside_env(home: Path) -> dict[str, str]:
    """No GRADER_ setting and no Python path from this session: only what the install itself carries."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GRADER_", "PYTHON", "VIRTUAL_ENV"))}
    return {**env, "GRADER_HOME": str(home)}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the built wheel (and its pinned dependencies) installed; returns its bin folder."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(REPO_ROOT, source, ignore=NOT_SHIPPED)
    env = outside_env(work / "unused-home")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(work / "dist"), "."],
        cwd=source, env=env, timeout_s=300)
    wheels = list((work / "dist").glob("tinytorch_grader-*.whl"))
    assert len(wheels) == 1, wheels
    shutil.rmtree(source)
    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=work, env=env, timeout_s=120)
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheels[0])], cwd=work, env=env,
        timeout_s=800)
    return venv / "bin"


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    done = run([str(installed / "python"), "-c", "import grader, migrations; print(grader.__file__); "
                "print(migrations.__file__)"], cwd=tmp_path, env=outside_env(tmp_path / "home"), timeout_s=60)
    for location in done.stdout.split():
        assert Path(location).is_relative_to(installed.parent), f"{location} is not inside the fresh venv"


def test_a_wheel_install_migrates_and_grades_the_example_to_full_marks(installed: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = outside_env(home)
    run([str(installed / "grader"), "db", "upgrade"], cwd=tmp_path, env=env, timeout_s=120)
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    with sqlite3.connect(home / "grader.db") as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]

    site = run([str(installed / "python"), "-c", "import grader, pathlib; print(pathlib.Path(grader.__file__).parent)"],
               cwd=tmp_path, env=env, timeout_s=60).stdout.strip()
    example = Path(site).parent / EXAMPLE
    assert example.is_file(), "the example solution is not in the wheel"
    graded = run([str(installed / "grader"), "grade", str(example), "--json", "--student", "newcomer"],
                 cwd=tmp_path, env=env, timeout_s=300)
    document = json.loads(graded.stdout)
    assert document["status"] == "graded"
    assert document["score"] == document["max_score"] == 90
    assert all(test["status"] == "passed" for test in document["tests"])
