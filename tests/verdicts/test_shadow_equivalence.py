"""A shadow judged outside agrees with its honest locked test, Dense variant by Dense variant.

If a shadow were weaker than its test, disabling the test's asserts would gain points; if it were stricter, an
unusual but passing solution would lose them. Each variant runs once in the real sandbox, with no trick, and
the locked test's own outcome there is compared with the shadow's verdict on the numbers it returned.
"""

import dataclasses
from pathlib import Path

import pytest

from grader.assignments.bundle import load_assignment
from grader.sandbox.job import SandboxJob, SandboxLimits
from grader.sandbox.runner import SandboxRunner
from grader.services.evaluate import build_job
from grader.verdicts.judge import Judge, parse_report
from grader.verdicts.plan import ProbePlan

HONEST = Path(__file__).resolve().parents[1] / "data" / "hostile" / "honest.py"
WEIGHTS = "size=(input_size, output_size)))"
VARIANTS = {
    "correct": ("", "", True, True),
    "saturating": (WEIGHTS, "size=(input_size, output_size)) * 50)", True, False),
    "zero weights": (WEIGHTS, "size=(input_size, output_size)) * 0)", False, True),
    "ndarray output": ("        return type(x)(result)", "        return result", True, False),
    "bias ignored flag": ("if use_bias else None", "", False, True),
    "float64 weights": (WEIGHTS, "size=(input_size, output_size)), dtype=np.float64)", True, True),
}
PAIRS = {"test-dense-layer": "shadow-dense-layer", "test-layer-activation-comprehensive": "shadow-layer-activation"}


def _every_shadow(job: SandboxJob) -> SandboxJob:
    """The job with every shadow run, also after its locked test failed (grading skips those: see below)."""
    return dataclasses.replace(job, probes=[dataclasses.replace(p, only_if_passed=None) for p in job.probes])


@pytest.mark.parametrize("variant", VARIANTS)
def test_shadow_verdict_equals_the_honest_locked_test(variant: str, runner: SandboxRunner,
                                                     limits: SandboxLimits) -> None:
    old, new, dense_passes, activation_passes = VARIANTS[variant]
    source = HONEST.read_text(encoding="utf-8")
    assert old in source
    bundle = load_assignment("layers")
    plan = ProbePlan.draw(bundle, 3)
    job, _, _ = build_job(bundle, source.replace(old, new, 1).encode(), "layers_dev.py", plan, limits,
                          max_bytes=512 * 1024)
    result = runner.run(_every_shadow(job))
    assert result.report is not None, result.diagnostics
    report = parse_report(result.report)
    expected = {"test-dense-layer": dense_passes, "test-layer-activation-comprehensive": activation_passes}
    for test, shadow in PAIRS.items():
        test_result, shadow_result = report.units[test].unit_result, report.units[shadow].unit_result
        assert test_result is not None and shadow_result is not None
        assert (test_result.outcome.status == "passed") == expected[test], (test, test_result.outcome)
        assert (plan.check(shadow, shadow_result.outcome) is None) == expected[test], (
            shadow, plan.check(shadow, shadow_result.outcome))


def test_a_shadow_is_not_run_after_its_locked_test_failed_and_the_test_still_fails(
        runner: SandboxRunner, limits: SandboxLimits) -> None:
    old, new, _, _ = VARIANTS["zero weights"]
    bundle = load_assignment("layers")
    plan = ProbePlan.draw(bundle, 3)
    source = HONEST.read_text(encoding="utf-8").replace(old, new, 1).encode()
    job, _, _ = build_job(bundle, source, "layers_dev.py", plan, limits, max_bytes=512 * 1024)
    assert {p.probe_id: p.only_if_passed for p in job.probes if p.only_if_passed} == {
        shadow: test for test, shadow in [*PAIRS.items(), ("test-matmul-immediate", "shadow-matmul-immediate")]}
    result = runner.run(job)
    assert result.report is not None, result.diagnostics
    report = parse_report(result.report)
    assert "shadow-dense-layer" not in report.units and "shadow-layer-activation" in report.units
    verdicts = Judge(bundle, plan, limits).judge(result).verdicts
    assert verdicts["test-dense-layer"].status == "failed"
    assert verdicts["test-layer-activation-comprehensive"].status == "passed"
