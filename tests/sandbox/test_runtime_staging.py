"""Staging the sandbox runtime: atomic (pool processes forked together each get the one complete copy), and a
package staged once per content digest, exactly as described, or not at all.

Found by the compose stack: two pool processes of a fresh worker container shared a staging folder name (an id()
they both inherited), one deleted what the other was copying, and the half-copied site folder made every run of
that container fail to start its sandbox.
"""

import dataclasses
import json
import os
import sys
from pathlib import Path

import pytest

from grader.errors import SandboxFailure
from grader.sandbox.package import RUNTIME_FILE, PackageSpec
from grader.sandbox.runtime import build_runtime

from .conftest import variant_package

PROCESSES = 4
SPEC = PackageSpec(files=(("course/__init__.py", b'"""A course package."""\n'), ("course/core/values.py", b"X = 1\n")),
                   preimports=("course.core.values",), tensor_class="course.core.values:X")


TAG = sys.implementation.cache_tag  # the sandbox runs this Python's major.minor
PYC_HEADER = 16  # magic, flags and the hash of the source it was compiled from


def tree(folder: Path) -> dict[str, bytes]:
    """Every file's bytes; of bytecode, only the header: each staging compiles its own, and marshal's output is not
    byte-for-byte reproducible, but the header names the exact source."""
    return {str(path.relative_to(folder)): path.read_bytes()[:PYC_HEADER] if path.suffix == ".pyc" else
            path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_processes_forked_together_all_get_the_same_complete_runtime(tmp_path: Path) -> None:
    runtime_dir = tmp_path / "runtime"
    children = []
    for _ in range(PROCESSES):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                build_runtime(runtime_dir).package(variant_package("staged_together"))
                code = 0
            finally:
                os._exit(code)
        children.append(pid)
    statuses = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
    assert statuses == [0] * PROCESSES, f"a process failed to stage the runtime: {statuses}"
    staged = build_runtime(runtime_dir)
    for folder in (runtime_dir, staged.package_dir):
        assert not [p.name for p in folder.iterdir() if p.name.startswith(".staging-")], "a staging copy was left"
    reference = build_runtime(tmp_path / "alone")
    reference.package(variant_package("staged_together"))
    for name in ("site_dir", "package_dir", "harness_dir"):
        assert tree(getattr(staged, name)) == tree(getattr(reference, name)), f"{name} differs from a lone staging"


def test_a_package_is_staged_once_per_content_digest_as_described(tmp_path: Path) -> None:
    runtime = build_runtime(tmp_path / "runtime")
    folder = runtime.package(SPEC)
    assert folder == runtime.package_dir / SPEC.digest
    staged = tree(folder)
    assert {name: body for name, body in staged.items() if not name.endswith(".pyc")} == {
        "course/__init__.py": b'"""A course package."""\n', "course/core/values.py": b"X = 1\n",
        RUNTIME_FILE: SPEC.runtime_description()}
    assert sorted(name for name in staged if name.endswith(".pyc")) == [
        f"course/__pycache__/__init__.{TAG}.pyc", f"course/core/__pycache__/values.{TAG}.pyc"]
    assert json.loads((folder / RUNTIME_FILE).read_bytes()) == {"preimports": ["course.core.values"],
                                                               "tensor_class": "course.core.values:X"}
    assert {oct(path.stat().st_mode & 0o777) for path in folder.rglob("*")} == {"0o644", "0o755"}
    mtime = (folder / "course/core/values.py").stat().st_mtime_ns
    same = dataclasses.replace(SPEC, files=tuple(reversed(SPEC.files)))
    assert runtime.package(same) == folder and (folder / "course/core/values.py").stat().st_mtime_ns == mtime
    changed = [dataclasses.replace(SPEC, files=((SPEC.files[0]), ("course/core/values.py", b"X = 2\n"))),
               dataclasses.replace(SPEC, preimports=()), dataclasses.replace(SPEC, tensor_class="course:Y")]
    folders = {runtime.package(spec) for spec in changed}
    assert len(folders) == 3 and folder not in folders
    assert sorted(path.name for path in runtime.package_dir.iterdir()) == sorted(
        spec.digest for spec in [SPEC, *changed])


@pytest.mark.parametrize("path", ["/etc/passwd", "../escape.py", "course/../../escape.py", "", "./x.py", RUNTIME_FILE])
def test_a_package_path_that_could_leave_its_folder_is_refused_and_nothing_is_staged(tmp_path: Path,
                                                                                      path: str) -> None:
    runtime = build_runtime(tmp_path / "runtime")
    spec = dataclasses.replace(SPEC, files=(*SPEC.files, (path, b"x = 1\n")))
    with pytest.raises(SandboxFailure, match="not a plain relative path"):
        runtime.package(spec)
    assert list(runtime.package_dir.iterdir()) == []
    assert not (tmp_path / "escape.py").exists() and not (tmp_path / "runtime" / "escape.py").exists()
