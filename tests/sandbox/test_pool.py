"""The warm pool: one sandbox per runtime (package digest) and shape, a few per worker, least recently used
ended first; each job sees its own package only, and cannot change it."""

import errno
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.config import SandboxSettings, Settings
from grader.sandbox.bwrap_backend import BwrapRunner
from grader.sandbox.job import SandboxLimits
from grader.sandbox.package import PackageSpec
from grader.sandbox.runner import SandboxRunner, make_runner
from grader.sandbox.warm_backend import WarmRunner

from .conftest import printed, run_cell, variant_package

SEES = """
import importlib, json
seen = {}
for name in ("pool_a", "pool_b", "pool_c"):
    try:
        seen[name] = importlib.import_module(name).NAME
    except ImportError as exc:
        seen[name] = type(exc).__name__
print(json.dumps(seen))
"""

WRITES = """
import json, os, shutil
import tinytorch.core.tensor as tensor
attempts = {
    "overwrite module": lambda: open(tensor.__file__, "a").write("HACKED = True\\n"),
    "new file": lambda: open("/opt/package/sitecustomize.py", "w").write("print(1)"),
    "new module beside": lambda: open(os.path.dirname(tensor.__file__) + "/layers.py", "w").write("x = 1"),
    "runtime file": lambda: open("/opt/package/.runtime.json", "w").write("{}"),
    "chmod": lambda: os.chmod(tensor.__file__, 0o777),
    "rename": lambda: os.rename(tensor.__file__, "/opt/package/moved.py"),
    "remove": lambda: os.remove(tensor.__file__),
    "rmtree": lambda: shutil.rmtree("/opt/package/tinytorch"),
    "mkdir": lambda: os.mkdir("/opt/package/new"),
}
outcome = {}
for name, attempt in attempts.items():
    try:
        attempt()
        outcome[name] = "done"
    except OSError as exc:
        outcome[name] = exc.errno
print(json.dumps(outcome))
"""


@pytest.fixture
def small_pool() -> Iterator[WarmRunner]:
    """A warm runner of its own that keeps two runtimes warm."""
    runner = make_runner(Settings(sandbox=SandboxSettings(pool="warm", warm_runtimes=2)))
    assert isinstance(runner, WarmRunner) and runner.warm_runtimes == 2
    yield runner
    runner.close()


def _sees(runner: SandboxRunner, limits: SandboxLimits, package: PackageSpec) -> dict[str, str]:
    return printed(run_cell(runner, limits, SEES, package)[1])


def _staged(runner: SandboxRunner, package: PackageSpec) -> dict[str, str]:
    assert isinstance(runner, BwrapRunner)
    folder = runner.runtime.package(package)
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_each_job_sees_its_own_package_and_never_another(runner: SandboxRunner, limits: SandboxLimits) -> None:
    a, b = variant_package("pool_a"), variant_package("pool_b")
    for _ in range(2):
        assert _sees(runner, limits, a) == {"pool_a": "pool_a", "pool_b": "ModuleNotFoundError",
                                            "pool_c": "ModuleNotFoundError"}
        assert _sees(runner, limits, b) == {"pool_a": "ModuleNotFoundError", "pool_b": "pool_b",
                                            "pool_c": "ModuleNotFoundError"}


def test_a_mixed_queue_starts_one_sandbox_per_runtime_not_per_job(small_pool: WarmRunner,
                                                                  limits: SandboxLimits) -> None:
    a, b = variant_package("pool_a"), variant_package("pool_b")
    started = []
    for package in (a, b, a, b, a, b):
        result, _ = run_cell(small_pool, limits, "print(1)", package)
        started.append(result.sandbox_started)
    assert small_pool.starts == 2 and started == [True, True, False, False, False, False]
    assert len(small_pool.resident_groups()) == 2
    assert len({group[0] for group in small_pool.resident_groups()}) == 2


def test_the_least_recently_used_runtime_is_ended_first(small_pool: WarmRunner, limits: SandboxLimits) -> None:
    a, b, c = variant_package("pool_a"), variant_package("pool_b"), variant_package("pool_c")
    pids = {}
    for package in (a, b):
        run_cell(small_pool, limits, "print(1)", package)
        pids[package.digest] = small_pool.resident_pids()
    run_cell(small_pool, limits, "print(1)", a)  # a is now the most recently used: b goes when c comes
    assert small_pool.starts == 2
    assert _sees(small_pool, limits, c)["pool_c"] == "pool_c"
    assert small_pool.starts == 3
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids[b.digest]), "b's sandbox was not ended"
    assert all(Path(f"/proc/{pid}").exists() for pid in pids[a.digest]), "a's sandbox was ended"
    assert _sees(small_pool, limits, a)["pool_a"] == "pool_a" and small_pool.starts == 3
    result, _ = run_cell(small_pool, limits, "print(1)", b)  # after its eviction: exactly one new sandbox
    assert result.sandbox_started and small_pool.starts == 4
    assert len(small_pool.resident_groups()) == 2


def test_each_warm_sandbox_runs_as_a_uid_of_its_own(small_pool: WarmRunner, limits: SandboxLimits) -> None:
    """A process limit is per uid: two warm sandboxes of one worker must not share one budget."""
    for name in ("pool_a", "pool_b"):
        run_cell(small_pool, limits, "print(1)", variant_package(name))
    uids = {Path(f"/proc/{group[1]}").stat().st_uid for group in small_pool.resident_groups()}
    assert len(uids) == 2 and uids <= set(small_pool.host_uids()), uids


def test_a_job_cannot_change_its_staged_package(runner: SandboxRunner, limits: SandboxLimits) -> None:
    package = variant_package("pool_a")
    before = _staged(runner, package)
    outcome = printed(run_cell(runner, limits, WRITES, package)[1])
    assert len(outcome) == 9 and set(outcome.values()) <= {errno.EROFS, errno.EACCES, errno.EPERM}, outcome
    assert _staged(runner, package) == before
    assert _sees(runner, limits, package)["pool_a"] == "pool_a"
    _, report = run_cell(runner, limits, "import tinytorch.core.tensor as t\nprint(int(hasattr(t, 'HACKED')))",
                         package)
    assert printed(report) == 0
