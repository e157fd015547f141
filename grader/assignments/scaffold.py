"""`grader assignments new`: a bundle scaffolded from the instructor source alone (and the package it imports).

One rubric item per locked graded cell with its nbgrader points, no hidden items; the result is loaded back
before it is reported, so what is written is a bundle that loads.
"""

import ast
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from grader.assignments.archive import MANIFEST
from grader.assignments.loaded import AssignmentBundle
from grader.assignments.loader import load_folder
from grader.assignments.package_files import DEFAULT_FOLDER, module_names
from grader.assignments.source import read_source
from grader.errors import BundleInvalid, Conflict
from grader.notebooks.cells import SourceCell

DEFAULT_SEEDS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Scaffold:
    """What `assignments new` found in the source and wrote."""

    folder: Path
    bundle: AssignmentBundle
    solution_cells: tuple[str, ...]
    defined_names: tuple[str, ...]
    tensor_class: str | None
    package_files: tuple[str, ...]


def _defined(cells: list[SourceCell]) -> list[str]:
    """Top-level functions and classes the solution cells define, in order."""
    names: list[str] = []
    for cell in cells:
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        names += [node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)]
    return list(dict.fromkeys(names))


def _classes(body: bytes) -> set[str]:
    try:
        return {node.name for node in ast.parse(body).body if isinstance(node, ast.ClassDef)}
    except SyntaxError:
        return set()


def _tensor_class(source: str, package: dict[str, bytes]) -> str | None:
    """The package class the source imports under a name ending in Tensor, if exactly one."""
    classes = {module: _classes(package[path]) for path, module in _modules(package).items()}
    found = set()
    for line in source.splitlines():
        match = re.match(r"\s*from\s+([\w.]+)\s+import\s+(.+)$", line)
        if match and match.group(1) in classes:
            for name in re.findall(r"\w+", match.group(2).split("#")[0]):
                if name.endswith("Tensor") and name in classes[match.group(1)]:
                    found.add(f"{match.group(1)}:{name}")
    return found.pop() if len(found) == 1 else None


def _modules(package: dict[str, bytes]) -> dict[str, str]:
    return {path: module for path in package for module in module_names([path])}


def _package_files(folder: Path | None) -> dict[str, bytes]:
    if folder is None:
        return {}
    if not folder.is_dir():
        raise BundleInvalid("the package must be a folder (its top holds the importable packages)", file=str(folder))
    files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if "__pycache__" in relative.parts or path.suffix == ".pyc":
            continue
        if path.is_symlink():
            raise BundleInvalid("a package holds plain files only; this is a symlink", file=str(path))
        if path.is_file():
            files[relative.as_posix()] = path.read_bytes()
    return files


def _identity(source: Path, text: str) -> tuple[str, str]:
    stem = source.stem.lower().removesuffix("_dev")
    assignment_id = re.sub(r"[^a-z0-9]+", "-", stem).strip("-") or "assignment"
    heading = re.search(r"^#\s+#+\s*(.+)$", text, re.M)
    return assignment_id, heading.group(1).strip() if heading else assignment_id


def _manifest(source: Path, text: str, cells: tuple[SourceCell, ...], names: list[str],
              tensor_class: str | None) -> dict[str, object]:
    assignment_id, title = _identity(source, text)
    items = [{"id": cell.grade_id, "name": f"{cell.grade_id}: the locked test in your notebook", "kind": "locked",
              "points": int(cell.points) if cell.points.is_integer() else cell.points}
             for cell in cells if cell.locked and cell.graded and cell.grade_id]
    if not items:
        raise BundleInvalid("the source has no locked graded cell (nbgrader grade and locked) to score",
                            file=str(source))
    manifest: dict[str, object] = {"id": assignment_id, "title": title, "submission": f"{source.stem}.py",
                                   "source": source.name, "required_names": names}
    if tensor_class:
        manifest["tensor_class"] = tensor_class
    return {**manifest, "locked_test_seeds": list(DEFAULT_SEEDS), "items": items}


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise Conflict(f"{out} exists and is not an empty folder; choose a new --out")


def _yaml(manifest: dict[str, object]) -> str:
    """Fields one a line (short lists inline), then the items as block mappings."""
    head = {key: value for key, value in manifest.items() if key != "items"}
    items = yaml.safe_dump(manifest["items"], sort_keys=False, allow_unicode=True, width=120)
    return (yaml.safe_dump(head, sort_keys=False, allow_unicode=True, width=120, default_flow_style=None)
            + "items:\n" + "".join(f"  {line}\n" for line in items.splitlines()))


def _write(staging: Path, source: Path, files: dict[str, bytes], manifest: dict[str, object]) -> None:
    shutil.copyfile(source, staging / source.name)
    for relative, body in files.items():
        (staging / DEFAULT_FOLDER / relative).parent.mkdir(parents=True, exist_ok=True)
        (staging / DEFAULT_FOLDER / relative).write_bytes(body)
    header = (f"# Scaffolded by `grader assignments new` from {source.name}: locked items carry the source's nbgrader"
              " points.\n# Add hidden items with a hidden_tests.py that defines PROBES (see the README).\n")
    (staging / MANIFEST).write_text(header + _yaml(manifest), encoding="utf-8")


def scaffold_bundle(source: Path, *, out: Path, package: Path | None = None) -> Scaffold:
    """Write a bundle for `source` into `out` (new or empty): the source, the package copied, assignment.yaml.

    It is written beside `out` and loaded there first, so a bundle that does not load leaves nothing behind.
    """
    text, cells = read_source(source, file=str(source))
    files = _package_files(package)
    names = _defined([cell for cell in cells if cell.solution and cell.cell_type == "code"])
    tensor_class = _tensor_class(text, files)
    manifest = _manifest(source, text, cells, names, tensor_class)
    _check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _write(staging, source, files, manifest)
        load_folder(staging, file=str(out))
        if out.exists():
            out.rmdir()
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Scaffold(folder=out, bundle=load_folder(out), solution_cells=tuple(
        cell.grade_id or f"cell {cell.index}" for cell in cells if cell.solution), defined_names=tuple(names),
        tensor_class=tensor_class, package_files=tuple(files))
