"""The rubric version: a hash of what decides one bundle's scores, so every result says what produced it.

That is the bundle's own files (assignment.yaml, the source, hidden_tests.py, reference/), its staged package
(by digest), the harness as one stamp, and, for hidden tests that import it, the reference library tinytorch_ref.
Examples, READMEs and anything else in the folder do not decide a score and are not hashed.
"""

import ast
import hashlib
from functools import cache
from pathlib import Path

from grader.assignments.package_files import reference_dir
from grader.sandbox.package import PackageSpec

HARNESS_DIR = Path(__file__).resolve().parent.parent / "sandbox" / "harness"
REFERENCE_LIBRARY = "tinytorch_ref"


def _files_digest(files: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, body in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(body).digest())
    return digest.hexdigest()


@cache
def harness_stamp() -> str:
    """One hash of the harness that runs every bundle's submissions."""
    return _files_digest([(path.name, path.read_bytes()) for path in sorted(HARNESS_DIR.glob("*.py"))])


@cache
def reference_library_stamp() -> str:
    return _files_digest([(path.name, path.read_bytes()) for path in sorted(reference_dir().glob("*.py"))])


def imports_reference_library(sources: list[bytes]) -> bool:
    """Whether trusted judge code imports tinytorch_ref (then its scores depend on that library too)."""
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):  # its import fails next, with the bundle's error naming the line
            continue
        for node in ast.walk(tree):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [
                node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            if any(name.split(".")[0] == REFERENCE_LIBRARY for name in names):
                return True
    return False


def judge_files(folder: Path) -> list[tuple[str, bytes]]:
    """hidden_tests.py and everything under reference/, as (bundle-relative path, bytes)."""
    hidden = folder / "hidden_tests.py"
    files = [(hidden.name, hidden.read_bytes())] if hidden.is_file() else []
    reference = folder / "reference"
    if reference.is_dir():
        files += [(path.relative_to(folder).as_posix(), path.read_bytes()) for path in sorted(reference.rglob("*"))
                  if path.is_file() and "__pycache__" not in path.parts]
    return files


def bundle_version(own_files: list[tuple[str, bytes]], judge: list[tuple[str, bytes]], package: PackageSpec) -> str:
    """16 hex digits over the bundle's files, its judge code, its package digest, the harness stamp and (if the
    judge code imports it) tinytorch_ref."""
    parts = [_files_digest(own_files + judge), package.digest, harness_stamp()]
    if imports_reference_library([body for name, body in judge if name.endswith(".py")]):
        parts.append(reference_library_stamp())
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
