"""Pool processes forked together stage the sandbox runtime at once: each gets the one complete copy.

Found by the compose stack: two pool processes of a fresh worker container shared a staging folder name (an id()
they both inherited), one deleted what the other was copying, and the half-copied site folder made every run of
that container fail to start its sandbox.
"""

import os
from pathlib import Path

from grader.sandbox.runtime import build_runtime

PROCESSES = 4


def tree(folder: Path) -> dict[str, int]:
    return {str(path.relative_to(folder)): path.stat().st_size for path in folder.rglob("*") if path.is_file()}


def test_processes_forked_together_all_get_the_same_complete_runtime(tmp_path: Path) -> None:
    runtime_dir = tmp_path / "runtime"
    children = []
    for _ in range(PROCESSES):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                build_runtime(runtime_dir)
                code = 0
            finally:
                os._exit(code)
        children.append(pid)
    statuses = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
    assert statuses == [0] * PROCESSES, f"a process failed to stage the runtime: {statuses}"
    staged = build_runtime(runtime_dir)
    assert not [p.name for p in runtime_dir.iterdir() if p.name.startswith(".staging-")], "a staging copy was left"
    reference = build_runtime(tmp_path / "alone")
    for name in ("site_dir", "package_dir", "harness_dir"):
        assert tree(getattr(staged, name)) == tree(getattr(reference, name)), f"{name} differs from a lone staging"
