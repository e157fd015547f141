"""`check` in the real sandbox: on small bundles the tests write (a locked test failing a known share of seeds, a
solution that loses points, a locked test the release passes, a test that ends its process), and on the shipped
layers (its flaky comprehensive test is named, by default) and layers-linear (clean).

Every seed is fixed: `seed=` fixes the probe and fresh sweep seeds, and runs <= FIXED_SEEDS sweeps only the fixed
seeds 0..runs-1, whose outcomes the tests compute here on the host exactly as the harness seeds them.
"""

import json
import os
import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.assignments.check_report import CheckItem, CheckReport
from grader.assignments.loader import load_bundle
from grader.assignments.registry import find_assignment
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner
from grader.services.check import DEFAULT_RUNS, FIXED_SEEDS, check_bundle
from tests.assignments.authoring import PACKAGE, _locked_test

RUNS = 200
TAILS = 0.3


def _solution_cell(grade_id: str) -> str:
    return json.dumps({"grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3, "solution": True})


SOURCE = textwrap.dedent('''\
    # %% nbgrader={"grade": false, "grade_id": "coin-imports", "locked": false, "schema_version": 3, "solution": false}
    import os
    import random
    from minitorch.tensor import Tensor

    # %% nbgrader={SCALE}
    def scale(x, k):
        """x times k, as a new Tensor."""
        ### BEGIN SOLUTION
        return Tensor(x.data * SOLUTION_FACTOR)
        ### END SOLUTION

    # %% nbgrader={TEST_SCALE}
    def test_scale():
        assert scale(Tensor([1.0, 2.0]), 3).data.tolist() == [3.0, 6.0], "scale(x, 3) is not 3x"

    # %% nbgrader={TEST_COIN}
    def test_coin():
        assert scale(Tensor([1.0]), 2).data.tolist() == [2.0]
        assert random.random() > TAILS, "the coin came up tails"

    # %% nbgrader={TEST_TRIVIAL}
    def test_trivial():
        assert Tensor([1.0]).shape == (1,)
    ''')

MANIFEST = textwrap.dedent('''\
    id: coins
    title: "Coins: [bold]flaky[/bold] on purpose"
    submission: coin_dev.py
    source: coin_dev.py
    required_names: [scale]
    tensor_class: minitorch.tensor:Tensor
    locked_test_seeds: [1, 2]
    items:
      - {id: test-scale, name: "scale", kind: locked, points: 4}
      - {id: test-coin, name: "a coin", kind: locked, points: 3}
      - {id: test-trivial, name: "a tensor has a shape", kind: locked, points: 2}
    ''')


def write_coins(folder: Path, *, factor: str = "k", extra_test: str = "", extra_id: str = "test-exit") -> Path:
    source = (SOURCE.replace("{SCALE}", _solution_cell("scale-impl"))
              .replace("{TEST_SCALE}", _locked_test("test-scale", 4))
              .replace("{TEST_COIN}", _locked_test("test-coin", 3))
              .replace("{TEST_TRIVIAL}", _locked_test("test-trivial", 2))
              .replace("SOLUTION_FACTOR", factor).replace("TAILS", str(TAILS)))
    manifest = MANIFEST
    if extra_test:
        source += f"\n# %% nbgrader={_locked_test(extra_id, 1)}\n{extra_test}"
        first = f"items:\n  - {{id: {extra_id}, name: \"misbehaves\", kind: locked, points: 1}}\n"
        manifest = manifest.replace("items:\n", first)  # first: the sweeps after it still run
    folder.mkdir(parents=True)
    (folder / "coin_dev.py").write_text(source)
    (folder / "assignment.yaml").write_text(manifest)
    for relative, text in PACKAGE.items():
        (folder / "package" / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / "package" / relative).write_text(text)
    return folder


def _tails(seeds: range) -> list[int]:
    """The seeds under which test_coin fails: the harness seeds `random` with each, then the test draws once."""
    failing = []
    for seed in seeds:
        random.seed(seed)
        if not random.random() > TAILS:
            failing.append(seed)
    return failing


def _by_id(report: CheckReport) -> dict[str, CheckItem]:
    return {item.id: item for item in report.items}


def test_a_locked_test_failing_some_seeds_is_flaky_with_its_rate_and_first_failing_seed(
        tmp_path: Path, runner: SandboxRunner, limits: SandboxLimits) -> None:
    report = check_bundle(load_bundle(write_coins(tmp_path / "coins")), runner=runner, runs=RUNS, full_runs=2,
                          seed=11, limits=limits)
    tails = _tails(range(RUNS))
    assert 0.2 * RUNS < len(tails) < 0.4 * RUNS  # the share the test claims is the share it has
    items = _by_id(report)
    coin = items["test-coin"].sweep
    assert coin is not None and coin.error == ""
    assert (coin.runs, coin.passed, coin.failing_seed) == (RUNS, RUNS - len(tails), tails[0])
    assert "AssertionError: the coin came up tails" in coin.failing_message
    assert report.flaky == ["test-coin"]
    assert report.passed and report.solution_scores == [9, 9] and report.max_score == 9
    assert items["test-scale"].sweep is not None and items["test-scale"].sweep.passed == RUNS
    assert report.tests_nothing == ["test-trivial"]
    assert report.release_score == 2 and not items["test-coin"].release_passes
    assert CheckReport.model_validate(json.loads(json.dumps(report.to_json()))) == report


def test_a_solution_that_loses_points_fails_the_check(tmp_path: Path, runner: SandboxRunner,
                                                      limits: SandboxLimits) -> None:
    report = check_bundle(load_bundle(write_coins(tmp_path / "coins", factor="(k + 1)")), runner=runner,
                          runs=20, full_runs=1, seed=3, limits=limits)
    items = _by_id(report)
    assert not report.passed and report.solution_scores == [2]
    scale = items["test-scale"]
    assert scale.solution_passes == 0 and "scale(x, 3) is not 3x" in scale.solution_message
    assert scale.sweep is not None and (scale.sweep.passed, scale.sweep.failing_seed) == (0, 0)
    assert report.to_json()["passed"] is False


def test_a_sweep_whose_test_ends_the_process_is_named_and_the_others_still_count(
        tmp_path: Path, runner: SandboxRunner, limits: SandboxLimits) -> None:
    ends = "def test_exit():\n    if random.random() < 0.5:\n        os._exit(3)\n"
    report = check_bundle(load_bundle(write_coins(tmp_path / "coins", extra_test=ends)), runner=runner,
                          runs=RUNS, full_runs=1, seed=5, limits=limits)
    items = _by_id(report)
    exited = items["test-exit"].sweep
    assert exited is not None and "exited (code 3)" in exited.error
    assert "test-exit" in report.flaky
    coin = items["test-coin"].sweep
    assert coin is not None and coin.passed == RUNS - len(_tails(range(RUNS)))


def test_a_sweep_that_loops_under_some_seed_is_stopped_at_its_scaled_budget(
        tmp_path: Path, runner: SandboxRunner, limits: SandboxLimits) -> None:
    """The graded runs (seeds 1, 2) pass it at once, so each of its seeds may cost 10 ms: the loop under the first
    seed that draws below 0.1 is ended at one unit's CPU plus 200 x 10 ms (a tick of /proc's count more, at most;
    twice that in wall time on a busy machine), not at 200 units' worth (1000 s)."""
    loops = "def test_loop():\n    if random.random() < 0.1:\n        while True:\n            pass\n"
    report = check_bundle(load_bundle(write_coins(tmp_path / "coins", extra_test=loops, extra_id="test-loop")),
                          runner=runner, runs=RUNS, full_runs=1, seed=5, limits=limits)
    items = _by_id(report)
    assert report.passed
    looped = items["test-loop"].sweep
    assert looped is not None and looped.passed == 0
    stopped = re.search(r"(used more than|took longer than) (\d+) s", looped.error)  # whichever clock came first
    assert stopped is not None, looped.error
    assert int(stopped.group(2)) <= 2 * (limits.per_test_cpu_s + RUNS * 0.05) + 5, looped.error
    assert report.flaky == ["test-loop", "test-coin"]


def test_layers_names_its_flaky_comprehensive_test_by_default(runner: SandboxRunner, limits: SandboxLimits) -> None:
    report = check_bundle(find_assignment("layers"), runner=runner, seed=2026, limits=limits)
    assert report.runs == DEFAULT_RUNS and report.fixed_seeds == FIXED_SEEDS
    assert report.passed and report.flaky == ["test-layer-activation-comprehensive"]
    sweep = _by_id(report)["test-layer-activation-comprehensive"].sweep
    assert sweep is not None and 4 <= sweep.runs - sweep.passed < 40  # 4 of the fixed seeds fail, seed 125 first
    assert sweep.failing_seed == 125 and "Tanh output should be > -1" in sweep.failing_message
    assert report.tests_nothing == []


@pytest.mark.parametrize("assignment", ["layers-linear"])
def test_layers_linear_is_clean(assignment: str, runner: SandboxRunner, limits: SandboxLimits) -> None:
    report = check_bundle(find_assignment(assignment), runner=runner, runs=FIXED_SEEDS, full_runs=2, seed=1,
                          limits=limits)
    assert report.passed and report.flaky == [] and report.tests_nothing == []
    assert all(item.solution_passes == 2 for item in report.items)


def _grader(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    environment.update({"GRADER_HOME": str(cwd / "home"), "COLUMNS": "200"})
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, env=environment,
                          timeout=300, cwd=cwd)


def test_the_command_exits_1_for_a_solution_that_loses_points_and_prints_the_report(tmp_path: Path) -> None:
    folder = write_coins(tmp_path / "coins", factor="(k + 1)")
    done = _grader(tmp_path, "assignments", "check", str(folder), "--runs", "20", "--full-runs", "1", "--seed", "3",
                   "--json")
    assert done.returncode == 1, done.stderr
    report = CheckReport.model_validate(json.loads(done.stdout))
    assert not report.passed and report.seed == 3 and report.runs == 20
    table = _grader(tmp_path, "assignments", "check", str(folder), "--runs", "20", "--full-runs", "1")
    assert table.returncode == 1, table.stderr
    assert "check coins: Coins: [bold]flaky[/bold] on purpose" in table.stdout  # the title, literally
    assert "FAILED: the solution does not earn full marks" in table.stdout
    assert "solution loses test-scale: AssertionError: scale(x, 3) is not 3x" in table.stdout
