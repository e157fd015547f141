"""Bundle archives as an instructor uploads them (and as a hostile one might), and check reports as a worker
stores them: the data of the assignment-version API tests."""

import io
import shutil
import tarfile
import zipfile
from pathlib import Path

from grader.assignments.check_report import CheckItem, CheckReport, Sweep
from grader.assignments.loaded import AssignmentBundle
from grader.assignments.registry import find_assignment

SHIPPED = Path(__file__).resolve().parents[2] / "grader" / "assignments"
LINEAR = "layers-linear"
FLAKY_SEED = 1234


def bundle_copy(tmp_path: Path, *, name: str = LINEAR, title: str | None = None) -> Path:
    """A copy of a shipped bundle folder, optionally retitled (so its content hash differs)."""
    folder = tmp_path / name
    shutil.copytree(SHIPPED / name, folder, ignore=shutil.ignore_patterns("__pycache__"))
    if title is not None:
        manifest = folder / "assignment.yaml"
        text = manifest.read_text(encoding="utf-8")
        old = next(line for line in text.splitlines() if line.startswith("title:"))
        manifest.write_text(text.replace(old, f'title: "{title}"', 1), encoding="utf-8")
    return folder


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def tar_gz(folder: Path) -> bytes:
    """The folder as a .tar.gz with the folder as its one root entry."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in _files(folder):
            archive.add(path, arcname=f"{folder.name}/{path.relative_to(folder).as_posix()}")
    return buffer.getvalue()


def zip_of(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _files(folder):
            archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
    return buffer.getvalue()


def tar_with(folder: Path, extra: tarfile.TarInfo, data: bytes = b"") -> bytes:
    """A good bundle's archive plus one hostile entry (a path climbing out, a symlink)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in _files(folder):
            archive.add(path, arcname=f"{folder.name}/{path.relative_to(folder).as_posix()}")
        archive.addfile(extra, io.BytesIO(data) if data else None)
    return buffer.getvalue()


def escaping_entry() -> tuple[tarfile.TarInfo, bytes]:
    data = b"owned\n"
    info = tarfile.TarInfo("layers-linear/../../escaped.txt")
    info.size = len(data)
    return info, data


def symlink_entry() -> tarfile.TarInfo:
    info = tarfile.TarInfo("layers-linear/passwd")
    info.type = tarfile.SYMTYPE
    info.linkname = "/etc/passwd"
    return info


def report_for(bundle: AssignmentBundle, *, passed: bool = True, flaky: str | None = None,
               tests_nothing: str | None = None, runs: int = 3000) -> CheckReport:
    """A worker's check report for `bundle` with chosen findings: what settling and the pages read.

    The real check (tests/assignments/test_check*.py, and the task test here) produces these from the sandbox;
    the API and dashboard tests only need their stored shape.
    """
    items = []
    for item in bundle.rubric.items:
        solution_passes = 3 if passed or item.id != bundle.rubric.items[0].id else 2
        sweep = None
        if item.kind == "locked":
            failures = 5 if item.id == flaky else 0
            sweep = Sweep(runs=runs, passed=runs - failures, failing_seed=FLAKY_SEED if failures else None,
                          failing_message="AssertionError: tanh saturates" if failures else "")
        items.append(CheckItem(id=item.id, name=item.name, kind=item.kind, points=item.points,
                               solution_passes=solution_passes, solution_runs=3,
                               release_passes=item.id == tests_nothing, sweep=sweep))
    top = bundle.rubric.max_score
    scores = [top, top, top] if passed else [top, top - bundle.rubric.items[0].points, top]
    return CheckReport(assignment=bundle.name, title=bundle.title, rubric_version=bundle.rubric.version, runs=runs,
                       full_runs=3, seed=42, fixed_seeds=1500, max_score=top, solution_scores=scores,
                       release_score=0.0, items=items, cost_s=12.5)


def shipped(name: str = LINEAR) -> AssignmentBundle:
    return find_assignment(name)
