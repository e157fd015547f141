"""The layers-linear bundle end to end, through the real sandbox: the instructor's solution gets full marks, the
release gets nothing, and the files students really send (headers stripped, PyTorch's weight layout, CRLF, a
notebook, a wrong dropout scale, a patched numpy) lose exactly the items they should.

Every file is written here from the bundle's own source; no upstream file is used.
"""

import dataclasses
import re
from dataclasses import dataclass

import jupytext
import pytest

from grader.assignments.bundle import AssignmentBundle, load_assignment
from grader.assignments.release import clear_solutions
from grader.notebooks.reader import check_assignment, read_submission
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner
from grader.services.evaluate import evaluate

MAX_BYTES = 512 * 1024
LOCKED = ["test-linear", "test-linear-edge-cases", "test-linear-grad-prep", "test-dropout", "module-integration"]


@dataclass(frozen=True)
class Graded:
    total: float
    statuses: dict[str, str]
    messages: dict[str, str]
    flags: list[str]

    def lost(self) -> set[str]:
        return {item for item, status in self.statuses.items() if status != "passed"}


@pytest.fixture(scope="module")
def bundle() -> AssignmentBundle:
    return load_assignment("layers-linear")


def _grade(bundle: AssignmentBundle, content: str | bytes, filename: str, runner: SandboxRunner,
           limits: SandboxLimits) -> Graded:
    """What accepting and grading the file gives: the upload check first, then one sandbox run."""
    data = content.encode() if isinstance(content, str) else content
    check_assignment(read_submission(data, filename, max_bytes=MAX_BYTES), bundle.source_cells, bundle.name,
                     bundle.required_names)
    evaluation = evaluate(bundle, data, filename, runner, limits, max_bytes=MAX_BYTES)
    items = evaluation.score.items
    return Graded(total=evaluation.score.total, statuses={s.item.id: s.verdict.status for s in items},
                  messages={s.item.id: s.verdict.message for s in items}, flags=evaluation.flags)


def _variant(source: str, *replacements: tuple[str, str]) -> str:
    for old, new in replacements:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return source


PYTORCH_LAYOUT = (
    ("np.random.randn(in_features, out_features) * spread", "np.random.randn(out_features, in_features) * spread"),
    ("product = x.matmul(self.weight)", "product = x @ self.weight.T"),
)
SCALED_BY_KEEP = (("x * Tensor(keep / (1.0 - self.p))", "x * Tensor(keep * (1.0 - self.p))"),)
SCALED_AT_EVAL = (
    ("if not training or self.p == 0.0:\n            return x",
     "if not training:\n            return x * (1.0 - self.p)\n        if self.p == 0.0:\n            return x"),
    ("x * Tensor(keep / (1.0 - self.p))", "x * Tensor(keep * 1.0)"),
)


def test_instructor_solution_gets_full_marks(bundle: AssignmentBundle, runner: SandboxRunner,
                                             limits: SandboxLimits) -> None:
    graded = _grade(bundle, bundle.source_text, "layers.py", runner, limits)
    assert graded.lost() == set(), graded.messages
    assert graded.total == bundle.rubric.max_score == 100 and graded.flags == []


def test_instructor_solution_gets_full_marks_under_other_seeds(bundle: AssignmentBundle, runner: SandboxRunner,
                                                             limits: SandboxLimits) -> None:
    """Other locked-test seeds and fresh probe inputs each run: the statistical checks never flag the solution."""
    for run in range(10):
        rubric = dataclasses.replace(bundle.rubric, locked_test_seeds=tuple(range(100 + 5 * run, 105 + 5 * run)))
        graded = _grade(dataclasses.replace(bundle, rubric=rubric), bundle.source_text, "layers.py", runner, limits)
        assert graded.lost() == set(), (run, graded.messages)


def test_release_gets_nothing(bundle: AssignmentBundle, runner: SandboxRunner, limits: SandboxLimits) -> None:
    graded = _grade(bundle, clear_solutions(bundle.source_text), "layers.py", runner, limits)
    assert graded.total == 0 and graded.lost() == set(graded.statuses)
    assert "NotImplementedError" in graded.messages["test-linear"]


@pytest.mark.parametrize("form", ["stripped headers", "CRLF", "notebook"])
def test_honest_forms_of_the_solution_get_full_marks(form: str, bundle: AssignmentBundle, runner: SandboxRunner,
                                                     limits: SandboxLimits) -> None:
    source = bundle.source_text
    if form == "stripped headers":
        content, filename = re.sub(r"^# %% nbgrader=\{.*\}$", "# %%", source, flags=re.MULTILINE), "layers.py"
    elif form == "CRLF":
        content, filename = source.replace("\n", "\r\n"), "layers.py"
    else:
        content, filename = jupytext.writes(jupytext.reads(source, fmt="py:percent"), fmt="ipynb"), "layers.ipynb"
    graded = _grade(bundle, content, filename, runner, limits)
    assert graded.lost() == set(), graded.messages
    assert graded.total == 100
    expected = [f"locked_cell_metadata_stripped:{grade_id}" for grade_id in LOCKED] if form == "stripped headers" \
        else []
    assert graded.flags == expected


def test_pytorch_weight_layout_fails_the_layout_items_with_a_clear_message(
        bundle: AssignmentBundle, runner: SandboxRunner, limits: SandboxLimits) -> None:
    graded = _grade(bundle, _variant(bundle.source_text, *PYTORCH_LAYOUT), "layers.py", runner, limits)
    assert graded.lost() == {"test-linear", "test-linear-edge-cases", "hidden-linear-forward",
                             "hidden-linear-weight-layout"}, graded.messages
    assert graded.statuses["hidden-linear-weight-layout"] == "failed"
    assert "PyTorch's (out_features, in_features) layout" in graded.messages["hidden-linear-weight-layout"]
    assert "(in_features, out_features)" in graded.messages["hidden-linear-forward"]
    assert "(256, 64)" in graded.messages["test-linear"]
    assert graded.total == 100 - 15 - 5 - 10 - 5


@pytest.mark.parametrize("mistake,lost", [
    (SCALED_BY_KEEP, {"test-dropout", "hidden-dropout-scale"}),
    (SCALED_AT_EVAL, {"test-dropout", "module-integration", "hidden-dropout-eval", "hidden-dropout-scale"}),
], ids=["survivors scaled by 1-p", "scaled in evaluation instead of training"])
def test_wrong_dropout_scaling_loses_exactly_its_items(mistake: tuple[tuple[str, str], ...], lost: set[str],
                                                       bundle: AssignmentBundle, runner: SandboxRunner,
                                                       limits: SandboxLimits) -> None:
    graded = _grade(bundle, _variant(bundle.source_text, *mistake), "layers.py", runner, limits)
    assert graded.lost() == lost, graded.messages
    points = {item.id: item.points for item in bundle.rubric.items}
    assert graded.total == 100 - sum(points[item] for item in lost)
    assert "1/(1-p)" in graded.messages["hidden-dropout-scale"] or "x / (1 - p)" in graded.messages[
        "hidden-dropout-scale"]


def test_patched_numpy_cannot_pass_a_locked_test(bundle: AssignmentBundle, runner: SandboxRunner,
                                                 limits: SandboxLimits) -> None:
    """np.allclose made always true fools the locked dropout test inside the sandbox; its shadow, judged
    outside, does not, so the file scores what the honest mistake scores and is flagged."""
    patched = _variant(bundle.source_text, *SCALED_BY_KEEP,
                       ("import numpy as np\n", "import numpy as np\nnp.allclose = lambda *args, **kwargs: True\n"))
    graded = _grade(bundle, patched, "layers.py", runner, limits)
    assert graded.lost() == {"test-dropout", "hidden-dropout-scale"}, graded.messages
    assert graded.messages["test-dropout"].startswith("checked outside your notebook")
    assert graded.flags == ["locked_test_untrusted:test-dropout"]
    assert graded.total == 85


def test_an_emptied_locked_test_is_restored_and_flagged(bundle: AssignmentBundle, runner: SandboxRunner,
                                                        limits: SandboxLimits) -> None:
    """The locked dropout test's body replaced by `return` on top of the same mistake: the instructor's test runs
    instead, so nothing is gained, and the edit is flagged."""
    emptied = _variant(bundle.source_text, *SCALED_BY_KEEP, (
        '    """Evaluation, the two extreme rates, the training scale and rate, and bad probabilities."""\n',
        '    """Evaluation, the two extreme rates, the training scale and rate, and bad probabilities."""\n'
        "    return\n"))
    graded = _grade(bundle, emptied, "layers.py", runner, limits)
    assert graded.lost() == {"test-dropout", "hidden-dropout-scale"}, graded.messages
    assert graded.flags == ["locked_cell_edited:test-dropout"] and graded.total == 85
