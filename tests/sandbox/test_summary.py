"""The Xavier probe's weights come back summarized (moments, extremes, sampled entries), not as 15,000 floats.

The summary is computed by harness code with numpy reductions bound before any student code ran, so a notebook
that patches numpy's functions cannot change what the judge sees; on both pools.
"""

from pathlib import Path

from grader.assignments.bundle import load_assignment
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner
from grader.services.evaluate import evaluate

HONEST = Path(__file__).resolve().parents[1] / "data" / "hostile" / "honest.py"
XAVIER = "hidden-dense-xavier-init"
INIT = "limit = np.sqrt(2.0 / (input_size + output_size))"
PATCH_NUMPY = """

# %%
import numpy as _np
_np.std = lambda *args, **kwargs: 0.0816
_np.mean = lambda *args, **kwargs: 0.0
_np.min = _np.amin = lambda *args, **kwargs: -0.3
_np.max = _np.amax = lambda *args, **kwargs: 0.3
_np.sum = lambda *args, **kwargs: 0.0
"""


def _xavier(runner: SandboxRunner, limits: SandboxLimits, source: str) -> tuple[str, str, float]:
    evaluation = evaluate(load_assignment("layers"), source.encode(), "layers_dev.py", runner, limits,
                          max_bytes=512 * 1024)
    item = next(line for line in evaluation.score.items if line.item.id == XAVIER)
    return item.verdict.status, item.verdict.message, evaluation.score.total


def test_an_honest_initialisation_passes_from_its_summary(runner: SandboxRunner, limits: SandboxLimits) -> None:
    status, message, total = _xavier(runner, limits, HONEST.read_text(encoding="utf-8"))
    assert (status, total) == ("passed", 90.0), message


def test_a_wrong_scale_fails_even_with_numpy_patched_to_report_the_right_one(runner: SandboxRunner,
                                                                             limits: SandboxLimits) -> None:
    source = HONEST.read_text(encoding="utf-8")
    assert INIT in source
    source = source.replace(INIT, "limit = 1.0", 1) + PATCH_NUMPY
    status, message, _ = _xavier(runner, limits, source)
    assert status == "failed" and "got std 0.9" in message, message


def test_constant_weights_fail(runner: SandboxRunner, limits: SandboxLimits) -> None:
    source = HONEST.read_text(encoding="utf-8").replace(INIT, "limit = 0.0", 1)
    status, message, _ = _xavier(runner, limits, source)
    assert status == "failed" and "got std 0.0000" in message, message
