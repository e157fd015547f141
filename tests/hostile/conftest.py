"""Fixtures of the hostile suite: the attack table, grading a data file, twins' scores, stray-process checks.

Every test here runs on both sandbox pools: cold (a fresh sandbox per job) and warm (one sandbox serving job
after job from a pre-imported zygote), with the same expectations, and for every bundle with hostile targets
(targets.py): layers' submissions are checked in (tests/data/hostile), another bundle's are built from its targets
for the session, and each bundle has its own table of expectations.
"""

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, cast

import pytest
import yaml

from grader.assignments.bundle import load_assignment
from grader.config import SandboxSettings, Settings
from grader.sandbox.bwrap_backend import BwrapRunner
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner, make_runner
from grader.sandbox.warm_backend import live_runners
from grader.services.evaluate import Evaluation, evaluate

from .build_data import write
from .targets import TARGETS, HostileTargets

HOSTILE_DIR = Path(__file__).resolve().parents[1] / "data" / "hostile"
MAX_BYTES = 512 * 1024
Grade = Callable[..., Evaluation]
Pool = Literal["cold", "warm"]
HOSTILE_BUNDLES = sorted(TARGETS)


def table_path(bundle: str) -> Path:
    """Layers' expectations sit beside its checked-in submissions; another bundle's in a folder of its own."""
    return HOSTILE_DIR / "expected.yaml" if bundle == "layers" else HOSTILE_DIR / bundle / "expected.yaml"


def load_table(bundle: str = "layers") -> dict[str, Any]:
    return yaml.safe_load(table_path(bundle).read_text(encoding="utf-8"))


def expected_statuses(table: dict[str, Any], entry: dict[str, Any], bundle: str = "layers") -> dict[str, str]:
    """Every rubric item's expected status: the profile, then the entry's overrides."""
    spec = {**table["profiles"].get(entry.get("profile", ""), {}), **entry.get("statuses", {})}
    items = [item.id for item in load_assignment(bundle).rubric.items]
    return {item: spec.get(item, spec["default"]) for item in items}


def _resident(cmdlines: dict[int, str]) -> set[int]:
    """The warm sandboxes' own processes (every warm runner of this process shares its uid): bubblewrap, PID 1,
    and PID 1's one other child, the zygote. A workspace and its forks look like the zygote (they are forks of
    it), so a second child of PID 1 makes neither resident: after a job, any other process is one of the job's."""
    resident: set[int] = set()
    for warm in live_runners():
        pids = warm.resident_pids()
        resident |= set(pids[:2])
        if len(pids) == 3 and "/opt/harness/" in cmdlines.get(pids[2], ""):
            resident.add(pids[2])
    return resident


def sandbox_processes(runner: SandboxRunner) -> list[str]:
    """Live processes of this worker's sandbox uid (or, without root, any harness process), as text; a warm
    sandbox's resident processes are not strays."""
    uid = getattr(runner, "host_uid", None)
    found: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        real_uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
        if (uid is not None and real_uid == uid) or (uid is None and "/opt/harness/main.py" in cmdline):
            found[int(entry.name)] = (real_uid, cmdline)
    resident = _resident({pid: cmdline for pid, (_, cmdline) in found.items()})
    return [f"{pid} uid={uid} {cmdline[:120]}" for pid, (uid, cmdline) in found.items() if pid not in resident]


@pytest.fixture(scope="session", params=["cold", "warm"])
def pool(request: pytest.FixtureRequest) -> Pool:
    """The sandbox pool every hostile test runs on, once each."""
    return cast(Pool, request.param)


@pytest.fixture(scope="session")
def runner(pool: Pool) -> Iterator[SandboxRunner]:
    """The real bubblewrap runner of this pool; a warm one is shut down when its half of the suite is done."""
    runner = make_runner(Settings(sandbox=SandboxSettings(pool=pool)))
    assert runner.pool == pool
    yield runner
    getattr(runner, "close", lambda: None)()


@pytest.fixture(scope="session", params=HOSTILE_BUNDLES)
def targets(request: pytest.FixtureRequest) -> Iterator[HostileTargets]:
    """The bundle every hostile test runs against, once each. Its warm sandboxes end with its half of the suite, so
    the stray-process checks of the next bundle see only that bundle's resident processes."""
    yield TARGETS[request.param]
    for warm in live_runners():
        warm.close()


@pytest.fixture(scope="session")
def table(targets: HostileTargets) -> dict[str, Any]:
    return load_table(targets.bundle)


@pytest.fixture(scope="session")
def hostile_dir(targets: HostileTargets, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the bundle's hostile submissions are: layers' checked in, another's built for this session."""
    if targets.bundle == "layers":
        return HOSTILE_DIR
    folder = tmp_path_factory.mktemp(f"hostile-{targets.bundle}")
    write(targets, folder)
    return folder


@pytest.fixture(scope="session")
def grade_file(runner: SandboxRunner, limits: SandboxLimits, targets: HostileTargets, hostile_dir: Path) -> Grade:
    """Grade the bundle's hostile submission <name> with the real bubblewrap runner, with some limits shrunk."""
    bundle = load_assignment(targets.bundle)

    def grade(name: str, **overrides: Any) -> Evaluation:
        content = (hostile_dir / f"{name}.py").read_bytes()
        run_limits = dataclasses.replace(limits, **overrides)
        return evaluate(bundle, content, f"{bundle.module_name}.py", runner, run_limits, max_bytes=MAX_BYTES)

    return grade


@pytest.fixture(scope="session")
def twin_score(grade_file: Grade, table: dict[str, Any], targets: HostileTargets) -> Callable[[str], float]:
    """The honest twin's score, graded once per session and checked against its own expectation."""
    scores: dict[str, float] = {}

    def score(name: str) -> float:
        if name not in scores:
            evaluation = grade_file(name)
            expected = table["twins"][name]
            statuses = {s.item.id: s.verdict.status for s in evaluation.score.items}
            assert statuses == expected_statuses(table, expected, targets.bundle), name
            assert evaluation.score.total == expected["score"], name
            scores[name] = evaluation.score.total
        return scores[name]

    return score


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per attack in layers' expected.yaml, named after its data file: every bundle's table has them all."""
    if "attack" in metafunc.fixturenames:
        metafunc.parametrize("attack", sorted(load_table()["attacks"]))


RUN_WRITES = ("/escape.txt", "/newdir", "/var/tmp/escape.txt", "/tmp/escape.txt", "/tmp/tinytorch-hostile-heartbeat",
              "/var/tmp/tinytorch-hostile-heartbeat", str(HOSTILE_DIR.parents[2] / "escape.txt"))


def runtime_digest(runner: SandboxRunner) -> dict[str, tuple[int, int]]:
    """Size and mtime of every staged runtime file the sandbox sees read-only, bytecode included: it is staged
    once and run unchecked against its source, so it is as much the runtime as the source is."""
    assert isinstance(runner, BwrapRunner), "the hostile suite runs on the real bubblewrap sandbox"
    runtime = runner.runtime
    digest = {}
    for folder in (runtime.harness_dir, runtime.package_dir, runtime.site_dir, runtime.font_cache_dir):
        for path in Path(folder).rglob("*"):
            if path.is_file():
                stat = path.stat()
                digest[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return digest


def runtime_tampering(runner: SandboxRunner, before: dict[str, tuple[int, int]]) -> list[str]:
    """Staged files changed or gone since `before`, and files added anywhere but in a package folder staged whole
    since (another test's new package digest, staged by the grader itself, not written by a run)."""
    after = runtime_digest(runner)
    packages = runner.runtime.package_dir
    staged_before = {Path(path).relative_to(packages).parts[0] for path in before
                     if Path(path).is_relative_to(packages)}
    found = [path for path, stat in before.items() if after.get(path) != stat]
    for path in after.keys() - before.keys():
        added = Path(path)
        if not (added.is_relative_to(packages) and added.relative_to(packages).parts[0] not in staged_before):
            found.append(path)
    return sorted(found)


def leftovers(runner: SandboxRunner) -> list[str]:
    """Anything a run left on the host: live processes of its uid, files it tried to write, half-staged runtimes."""
    assert isinstance(runner, BwrapRunner), "the hostile suite runs on the real bubblewrap sandbox"
    runtime_dir = runner.runtime.harness_dir.parent
    found = sandbox_processes(runner)
    found += [path for path in RUN_WRITES if Path(path).exists()]
    found += [str(path) for path in runtime_dir.glob(".staging-*")]
    found += [str(path) for path in Path("/tmp").glob("grader-run-*")]
    return found


@pytest.fixture(scope="session", autouse=True)
def suite_leaves_nothing(runner: SandboxRunner) -> Iterator[None]:
    """After the whole hostile suite on a pool: no stray process or file, and the runtime unchanged; the warm
    sandboxes are shut down first (the next job of any runner starts a new one), so not even they are left."""
    before = runtime_digest(runner)
    yield
    for warm in live_runners():
        warm.close()
    assert leftovers(runner) == []
    assert sandbox_processes(runner) == []
    assert runtime_tampering(runner, before) == []
