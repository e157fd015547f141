"""The mid-term fix, written by the tests from the shipped layers-linear bundle: v1 is that bundle as shipped;
v2 drops the empty-batch check of `test-linear-edge-cases` (locked test and shadow; the assignment never asked for
empty batches, and students who loop over rows fail it) and moves 5 points from `hidden-linear-forward` to that
test, so the maximum stays 100 and a student whose items did not change keeps the same grade.

Students: the instructor's solution, a row-by-row forward (fails the empty batch), PyTorch's weight layout, and
the release; each written from the bundle's own source.
"""

import shutil
from pathlib import Path

from grader.assignments.registry import ASSIGNMENTS_DIR
from grader.assignments.release import clear_solutions

SHIPPED = ASSIGNMENTS_DIR / "layers-linear"
FIXED_ITEM = "test-linear-edge-cases"
REWEIGHED_ITEM = "hidden-linear-forward"
EMPTY_BATCH_TEST = ('    empty = layer(Tensor(np.zeros((0, 3))))\n'
                    '    assert empty.shape == (0, 2), f"an empty batch should give shape (0, 2), got {empty.shape}"\n')
EMPTY_BATCH_SHADOW = ('    at["empty"] = s(method(layer, "__call__", tensor(np.zeros((0, 3), dtype=np.float32))))\n',
                      '        empty = r.shape(at["empty"])\n'
                      '        check(empty == (0, 2), f"an empty batch should give shape (0, 2), got {empty}")\n')
ROW_BY_ROW = ("product = x.matmul(self.weight)",
              "product = Tensor(np.array([row @ self.weight.data for row in x.data]))")
PYTORCH_LAYOUT = (
    ("np.random.randn(in_features, out_features) * spread", "np.random.randn(out_features, in_features) * spread"),
    ("product = x.matmul(self.weight)", "product = x @ self.weight.T"),
)


def replaced(text: str, *replacements: tuple[str, str]) -> str:
    """Each `old` must occur exactly once, so a change of the shipped bundle breaks the test loudly."""
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def _edit(path: Path, *replacements: tuple[str, str]) -> None:
    path.write_text(replaced(path.read_text(encoding="utf-8"), *replacements), encoding="utf-8")


def write_v1(folder: Path) -> Path:
    shutil.copytree(SHIPPED, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def write_v2(folder: Path) -> Path:
    """v1 with the fixed test, its shadow, and the moved points (yaml and the locked cell's header agree)."""
    write_v1(folder)
    _edit(folder / "layers.py", (EMPTY_BATCH_TEST + "\n", ""),
          ('"grade_id": "test-linear-edge-cases", "locked": true, "points": 5}',
           '"grade_id": "test-linear-edge-cases", "locked": true, "points": 10}'))
    _edit(folder / "reference" / "shadows.py", (EMPTY_BATCH_SHADOW[0], ""), (EMPTY_BATCH_SHADOW[1], ""))
    _edit(folder / "assignment.yaml",
          ("  - id: test-linear-edge-cases\n    name: \"Linear: edge cases (known weights, one sample, empty batch, "
           "no bias)\"\n    kind: locked\n    points: 5\n",
           "  - id: test-linear-edge-cases\n    name: \"Linear: edge cases (known weights, one sample, no bias)\"\n"
           "    kind: locked\n    points: 10\n"),
          ("  - id: hidden-linear-forward\n    name: \"Linear forward with given weights and bias on fresh inputs\"\n"
           "    kind: hidden\n    points: 10\n",
           "  - id: hidden-linear-forward\n    name: \"Linear forward with given weights and bias on fresh inputs\"\n"
           "    kind: hidden\n    points: 5\n"))
    return folder


def students(source: str) -> dict[str, str]:
    """The class, as files written from one version's instructor source."""
    return {"full": source, "row-by-row": replaced(source, ROW_BY_ROW),
            "pytorch-layout": replaced(source, *PYTORCH_LAYOUT), "release": clear_solutions(source)}


def tampered(source: str) -> str:
    """The v1 file with the empty-batch check of the locked test removed by the student: an edit of v1's cell,
    not v2's cell either (v2 also kept its docstring)."""
    return replaced(source, (EMPTY_BATCH_TEST, "    pass\n"))
