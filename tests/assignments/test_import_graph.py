"""Data flows one way through the grading core: no package of it imports one that (directly or not) imports it back,
so assignments -> verdicts -> scoring -> assignments, the cycle the rubric used to close, cannot come back."""

import ast
from pathlib import Path

GRADER = Path(__file__).resolve().parents[2] / "grader"
CORE = ("assignments", "notebooks", "sandbox", "scoring", "verdicts", "services")


def _package_imports() -> dict[str, set[str]]:
    """grader subpackage -> the grader subpackages its modules import anywhere (function bodies included)."""
    edges: dict[str, set[str]] = {package: set() for package in CORE}
    for package in CORE:
        for path in (GRADER / package).rglob("*.py"):
            if "harness" in path.parts or not (path.parent / "__init__.py").is_file():
                continue  # the harness runs inside the sandbox; a bundle's files are data, loaded by path
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
                for name in names:
                    parts = name.split(".")
                    if parts[0] == "grader" and len(parts) > 1 and parts[1] in CORE and parts[1] != package:
                        edges[package].add(parts[1])
    return edges


def _reaches(edges: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, pending = set(), list(edges[start])
    while pending:
        package = pending.pop()
        if package == goal:
            return True
        if package not in seen:
            seen.add(package)
            pending += edges[package]
    return False


def test_the_grading_core_has_no_package_import_cycle() -> None:
    edges = _package_imports()
    cycles = [(package, other) for package in CORE for other in edges[package] if _reaches(edges, other, package)]
    assert cycles == [], f"package import cycles: {cycles}"


def test_assignments_sit_below_verdicts_and_services() -> None:
    edges = _package_imports()
    assert edges["assignments"] <= {"notebooks", "sandbox", "scoring"}, edges["assignments"]
    assert "assignments" not in edges["scoring"]
