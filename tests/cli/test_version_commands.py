"""`grader assignments publish | list | show | versions | use` through the real entry point, on the embedded
default, with the real check in the sandbox, on the small scaling bundle the tests write."""

import json
import subprocess
from pathlib import Path

import pytest

from grader.assignments.pack import content_hash
from tests.assignments.authoring import MANIFEST, SOURCE, write_bundle
from tests.cli.test_bundle_commands import grader


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, (done.stdout, done.stderr)
    return " ".join(done.stdout.split())


@pytest.fixture
def course(tmp_path: Path) -> Path:
    _ok(grader(tmp_path, "courses", "create", "c1"))
    return tmp_path


def _publish(cwd: Path, folder: str, *extra: str) -> dict[str, object]:
    done = grader(cwd, "assignments", "publish", folder, "--course", "c1", "--json", *extra)
    assert done.returncode == 0, (done.stdout, done.stderr)
    return dict(json.loads(done.stdout))


def test_publish_then_list_show_versions_and_use(course: Path) -> None:
    write_bundle(course / "v1")
    write_bundle(course / "v2", manifest=MANIFEST.replace('"Scaling tensors"', '"Scaling, second take"'))
    v1 = _publish(course, "v1", "--published-by", "prof")
    assert (v1["status"], v1["forced"], v1["assignment"], v1["published_by"]) == ("published", False, "scaling",
                                                                                    "prof")
    assert v1["content_hash"] == content_hash(course / "v1") and v1["check"]["passed"] is True  # type: ignore[index]
    v2 = _publish(course, "v2")
    listed = _ok(grader(course, "assignments", "list", "--course", "c1"))
    assert "scaling" in listed and str(v2["id"]) in listed and "layers" in listed and "shipped" in listed
    shown = _ok(grader(course, "assignments", "show", "scaling", "--course", "c1"))
    assert "Scaling, second take" in shown and f"current: {v2['id']}" in shown and "test-shift" in shown
    _ok(grader(course, "assignments", "use", "scaling", str(v1["id"])[:8], "--course", "c1"))
    table = grader(course, "assignments", "versions", "scaling", "--course", "c1").stdout
    rows = [line for line in table.splitlines() if str(v1["id"]) in line or str(v2["id"]) in line]
    assert len(rows) == 2 and str(v2["id"]) in rows[0] and "*" in rows[1] and "*" not in rows[0], table
    assert "Scaling tensors" in _ok(grader(course, "assignments", "show", "scaling", "--course", "c1"))
    back = grader(course, "assignments", "use", "scaling", "shipped", "--course", "c1")
    assert back.returncode == 2 and "no shipped bundle is named 'scaling'" in back.stderr


def test_a_failing_check_publishes_nothing_unless_forced(course: Path) -> None:
    wrong = SOURCE.replace("== [3.0, 1.0]", "== [3.0, 9.0]")
    write_bundle(course / "bad", source=wrong)
    refused = grader(course, "assignments", "publish", "bad", "--course", "c1")
    assert refused.returncode == 2, (refused.stdout, refused.stderr)
    assert "check FAILED" in refused.stdout and "nothing was published" in refused.stderr
    assert "--force" in refused.stderr
    nothing = grader(course, "assignments", "versions", "scaling", "--course", "c1")
    assert nothing.returncode == 2 and "course 'c1' has no assignment 'scaling'" in nothing.stderr
    forced = _publish(course, "bad", "--force")
    assert (forced["status"], forced["forced"]) == ("published", True) and forced["check"]["passed"] is False  # type: ignore[index]
    assert "yes" in _ok(grader(course, "assignments", "versions", "scaling", "--course", "c1"))


def test_bundle_and_database_strings_are_printed_literally(course: Path) -> None:
    odd = MANIFEST.replace('"Scaling tensors"', '"Scaling [bold]tensors[/bold] \\x1b[31m"')
    write_bundle(course / "odd", manifest=odd)
    _publish(course, "odd", "--published-by", "[red]eve[/red]")
    for command in (("list", "--course", "c1"), ("show", "scaling", "--course", "c1"),
                    ("versions", "scaling", "--course", "c1")):
        done = grader(course, "assignments", *command)
        assert done.returncode == 0 and "\x1b" not in done.stdout, done.stdout
    shown = _ok(grader(course, "assignments", "show", "scaling", "--course", "c1"))
    assert "Scaling [bold]tensors[/bold] \\x1b[31m" in shown
    assert "[red]eve[/red]" in _ok(grader(course, "assignments", "versions", "scaling", "--course", "c1"))


def test_a_bundle_that_does_not_load_is_refused_with_its_file_and_line(course: Path) -> None:
    write_bundle(course / "broken", manifest=MANIFEST.replace("points: 6", "points: six"))
    done = grader(course, "assignments", "publish", "broken", "--course", "c1")
    assert done.returncode == 2 and "broken/assignment.yaml, line" in done.stderr, done.stderr
    unknown = grader(course, "assignments", "list", "--course", "nope")
    assert unknown.returncode == 2 and "no course 'nope'" in unknown.stderr
