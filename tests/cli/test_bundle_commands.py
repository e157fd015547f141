"""`grader assignments new`, `grade --bundle` and `release --bundle` on an instructor source the test writes (with
the package it imports), through the real entry point: scaffold, release, then grade the solution and the release
in the sandbox against the scaffolded bundle, as a folder and as an archive."""

import json
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from grader.assignments.bundle import load_bundle
from tests.assignments.authoring import SOURCE, write_package, write_source


def grader(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    environment.update({"GRADER_HOME": str(cwd / "home"), "COLUMNS": "200"})
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, env=environment,
                          timeout=300, cwd=cwd)


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """An instructor's course folder: the source and the package it imports."""
    write_source(tmp_path / "course")
    write_package(tmp_path / "course" / "package")
    return tmp_path


@pytest.fixture
def scaffolded(course: Path) -> Path:
    done = grader(course, "assignments", "new", "course/scale_dev.py", "--out", "scaling",
                  "--package", "course/package")
    assert done.returncode == 0, done.stderr
    return course / "scaling"


def test_new_scaffolds_one_locked_item_per_locked_graded_cell_and_says_what_it_found(course: Path) -> None:
    done = grader(course, "assignments", "new", "course/scale_dev.py", "--out", "scaling",
                  "--package", "course/package")
    assert done.returncode == 0, done.stderr
    for found in ("scale-impl", "test-scale", "shift-impl", "test-shift", "locked test", "solution",
                  "2 locked items, 10 points", "the solution defines: scale, shift",
                  "tensor class: minitorch.tensor:Tensor", "package: 2 files", "wrote scaling"):
        assert found in done.stdout, (found, done.stdout)
    bundle = load_bundle(course / "scaling")
    assert [(item.id, item.kind, item.points) for item in bundle.rubric.items] == [
        ("test-scale", "locked", 4), ("test-shift", "locked", 6)]
    assert bundle.probes == {} and bundle.required_names == ("scale", "shift")
    assert bundle.submission_filename == "scale_dev.py" and bundle.package.tensor_class == "minitorch.tensor:Tensor"
    assert (course / "scaling" / "package" / "minitorch" / "tensor.py").is_file()
    assert (course / "scaling" / "scale_dev.py").read_text() == SOURCE


def test_new_without_a_package_infers_no_tensor_class(course: Path) -> None:
    done = grader(course, "assignments", "new", "course/scale_dev.py", "--out", "bare")
    assert done.returncode == 0, done.stderr
    assert "tensor class: (none inferred)" in done.stdout and "package: (none)" in done.stdout
    assert load_bundle(course / "bare").package.files == ()


def test_new_refuses_a_folder_that_is_not_empty(scaffolded: Path, course: Path) -> None:
    before = (scaffolded / "assignment.yaml").read_text()
    done = grader(course, "assignments", "new", "course/scale_dev.py", "--out", "scaling")
    assert done.returncode == 2 and "exists and is not an empty folder" in done.stderr
    assert (scaffolded / "assignment.yaml").read_text() == before


def test_new_on_a_source_without_locked_tests_writes_nothing(course: Path) -> None:
    write_source(course / "course", "plain_dev.py", "# %%\nx = 1\n")
    done = grader(course, "assignments", "new", "course/plain_dev.py", "--out", "plain")
    assert done.returncode == 2 and "no locked graded cell" in done.stderr, done.stderr
    assert not (course / "plain").exists()


def test_new_with_a_package_that_shadows_the_module_writes_nothing(course: Path) -> None:
    (course / "course" / "package" / "scale_dev.py").write_text("def scale(x, k):\n    return x\n")
    done = grader(course, "assignments", "new", "course/scale_dev.py", "--out", "scaling",
                  "--package", "course/package")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: scaling/package/scale_dev.py: the package's scale_dev.py shadows")
    assert not (course / "scaling").exists() and [p.name for p in course.iterdir() if p.name.startswith(".")] == []


def test_new_prints_what_the_source_wrote_literally(course: Path) -> None:
    source = SOURCE.replace("# # Scaling tensors", "# # Scaling [bold]tensors[/bold] \x1b[31m")
    write_source(course / "course", "odd_dev.py", source)
    done = grader(course, "assignments", "new", "course/odd_dev.py", "--out", "odd", "--package", "course/package")
    assert done.returncode == 0, done.stderr
    assert "Scaling [bold]tensors[/bold] \\x1b[31m" in " ".join(done.stdout.split()) and "\x1b" not in done.stdout


def test_release_of_a_bundle_clears_both_kinds_of_solution(scaffolded: Path, course: Path) -> None:
    done = grader(course, "release", "--bundle", "scaling", "--out", "release.py")
    assert done.returncode == 0, done.stderr
    release = (course / "release.py").read_text()
    assert "return Tensor(x.data * k)" not in release and "return Tensor(x.data + d)" not in release
    assert release.count("raise NotImplementedError()") == 2 and "def test_shift():" in release
    default = grader(course, "release", "--bundle", "scaling")
    assert default.returncode == 0 and (course / "scale_dev.py").read_text() == release
    both = grader(course, "release", "--bundle", "scaling", "--assignment", "layers", "--out", "x.py")
    assert both.returncode == 2 and "not both" in both.stderr


def _graded(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert done.stdout.count("\n") == 1, (done.stdout, done.stderr)
    return dict(json.loads(done.stdout))


def test_grade_against_a_bundle_folder_and_its_archive(scaffolded: Path, course: Path) -> None:
    assert grader(course, "release", "--bundle", "scaling", "--out", "release.py").returncode == 0
    solution = _graded(grader(course, "grade", "course/scale_dev.py", "--bundle", "scaling", "--json"))
    assert (solution["status"], solution["assignment"], solution["score"], solution["max_score"]) == (
        "graded", "scale", 10, 10)
    assert solution["rubric_version"] == load_bundle(scaffolded).rubric.version
    with tarfile.open(course / "scaling.tar.gz", "w:gz") as archive:
        archive.add(scaffolded, arcname="scaling")
    released = _graded(grader(course, "grade", "release.py", "--bundle", "scaling.tar.gz", "--json"))
    assert (released["status"], released["score"]) == ("graded", 0)
    assert released["rubric_version"] == solution["rubric_version"]
    table = grader(course, "grade", "course/scale_dev.py", "--bundle", "scaling")
    assert table.returncode == 0 and "Score: 10 / 10" in table.stdout and "test-shift" in table.stdout
    (course / "download").mkdir()
    for name in ("alice.py", "bob.py"):
        (course / "download" / name).write_text((course / ("course/scale_dev.py" if name == "alice.py"
                                                           else "release.py")).read_text())
    rows = grader(course, "grade", "download", "--bundle", "scaling", "--json")
    assert rows.returncode == 0, rows.stderr
    assert [(row["student"], row["score"]) for row in map(json.loads, rows.stdout.splitlines())] == [
        ("alice", 10), ("bob", 0)]


def test_grade_with_a_bundle_that_does_not_load_is_rejected_naming_the_line(scaffolded: Path, course: Path) -> None:
    manifest = (scaffolded / "assignment.yaml").read_text()
    (scaffolded / "assignment.yaml").write_text(manifest.replace("points: 6", "points: 5"))
    line = next(n for n, text in enumerate(manifest.splitlines(), start=1) if "points: 6" in text)
    done = grader(course, "grade", "course/scale_dev.py", "--bundle", "scaling", "--json")
    assert done.returncode == 2
    document = json.loads(done.stdout)
    assert (document["status"], document["code"]) == ("rejected", "bundle_invalid")
    assert f"scaling/assignment.yaml, line {line}: item test-shift gives 5 points" in done.stderr


def test_grade_with_a_bundle_takes_neither_an_assignment_nor_the_queue(scaffolded: Path, course: Path) -> None:
    for extra in (["--assignment", "layers"], ["--queue"]):
        done = grader(course, "grade", "course/scale_dev.py", "--bundle", "scaling", *extra)
        assert done.returncode == 2 and "--bundle grades here against that bundle" in done.stderr


def test_a_submission_of_another_assignment_is_rejected_by_the_bundle(scaffolded: Path, course: Path) -> None:
    other = course / "other.py"
    other.write_text(textwrap.dedent("""\
        # %%
        def unrelated():
            return 1
        """))
    done = grader(course, "grade", "other.py", "--bundle", "scaling", "--json")
    assert done.returncode == 2 and json.loads(done.stdout)["code"] == "wrong_assignment"
