"""Rebuilds tests/data/hostile/*.py from the bundled example solution; the checked-in files are the truth.

Run `.venv/bin/python tests/hostile/build_data.py` after changing an attack here, then review the diff: each
file is a complete submission (the example's code cells, solutions shortened) with one attack applied.
"""

import re
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "grader" / "assignments" / "layers" / "examples" / "student_solution.py"
OUT = REPO / "tests" / "data" / "hostile"

MATMUL = '''#| export
def matmul(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Naive matrix multiplication with three loops."""
    rows, inner = A.shape
    inner_b, cols = B.shape
    if inner != inner_b:
        raise ValueError(f"Incompatible matrix dimensions: A is {rows}x{inner}, B is {inner_b}x{cols}")
    out = np.zeros((rows, cols))
    for r in range(rows):
        for c in range(cols):
            total = 0.0
            for k in range(inner):
                total += A[r, k] * B[k, c]
            out[r, c] = total
    return out
'''

DENSE = '''#| export
class Dense:
    """Dense layer y = xW + b with Xavier initialisation."""

    def __init__(self, input_size: int, output_size: int, use_bias: bool = True):
        self.input_size = input_size
        self.output_size = output_size
        self.use_bias = use_bias
        limit = np.sqrt(2.0 / (input_size + output_size))
        self.weights = Tensor(np.random.normal(0.0, limit, size=(input_size, output_size)))
        self.bias = Tensor(np.zeros(output_size)) if use_bias else None

    def forward(self, x):
        result = matmul(x.data, self.weights.data)
        if self.bias is not None:
            result = result + self.bias.data
        return type(x)(result)

    def __call__(self, x):
        return self.forward(x)
'''

Cells = list[list[str]]  # [header line, body]


def base_cells() -> tuple[str, Cells]:
    """The example's code cells, in order, with compact solutions."""
    text = EXAMPLE.read_text(encoding="utf-8")
    parts = re.split(r"(?m)^(?=# %%)", text)
    cells: Cells = []
    for part in parts[1:]:
        header, _, body = part.partition("\n")
        if header.startswith("# %% [markdown]"):
            continue
        cells.append([header, body.rstrip("\n") + "\n"])
    replace(cells, "matmul-naive", MATMUL)
    replace(cells, "dense-layer", DENSE)
    return parts[0], cells


def find(cells: Cells, grade_id: str) -> list[str]:
    for cell in cells:
        if f'"grade_id": "{grade_id}"' in cell[0]:
            return cell
    raise KeyError(grade_id)


def replace(cells: Cells, grade_id: str, body: str) -> None:
    find(cells, grade_id)[1] = body


def edit(cells: Cells, grade_id: str, old: str, new: str) -> None:
    cell = find(cells, grade_id)
    assert old in cell[1], (grade_id, old)
    cell[1] = cell[1].replace(old, new, 1)


def prepend(cells: Cells, grade_id: str, code: str) -> None:
    cell = find(cells, grade_id)
    cell[1] = code.strip("\n") + "\n\n" + cell[1]


def append(cells: Cells, grade_id: str, code: str) -> None:
    cell = find(cells, grade_id)
    cell[1] = cell[1].rstrip("\n") + "\n\n" + code.strip("\n") + "\n"


def wrong_matmul(cells: Cells) -> None:
    """Wrong values (off by one), shapes and errors right: the honest twin of the numpy-patching attacks."""
    edit(cells, "matmul-naive", "            out[r, c] = total\n", "            out[r, c] = total + 1.0\n")


def saturating_dense(cells: Cells) -> None:
    """Weights 50x too large: float32 tanh saturates, so the comprehensive locked test fails on every seed."""
    edit(cells, "dense-layer", "size=(input_size, output_size)))", "size=(input_size, output_size)) * 50)")


ATTACKS_DIR = OUT / "attacks"


def attack(name: str) -> str:
    """The attack's code, without its docstring, from tests/data/hostile/attacks/."""
    return (ATTACKS_DIR / f"{name}.py").read_text(encoding="utf-8").split('"""', 2)[2].strip("\n") + "\n"


def _solution_attack(name: str) -> Callable[[Cells], None]:
    return lambda cells: prepend(cells, "matmul-naive", attack(name))


def _import_attack(name: str) -> Callable[[Cells], None]:
    return lambda cells: prepend(cells, "layers-welcome", attack(name))


def _both(*steps: Callable[[Cells], None]) -> Callable[[Cells], None]:
    def run(cells: Cells) -> None:
        for step in steps:
            step(cells)
    return run


def _loop_in_solution(cells: Cells) -> None:
    loop = "        while True:\n            pass\n"
    edit(cells, "matmul-naive", "        raise ValueError(", loop + "        raise ValueError(")


def _alloc_in_solution(cells: Cells) -> None:
    edit(cells, "matmul-naive", "    out = np.zeros((rows, cols))\n",
         "    hoard = np.zeros((64 * 1024 ** 3 // 8,))  # 64 GiB\n    out = np.zeros((rows, cols))\n")


def _always_equal(cells: Cells) -> None:
    edit(cells, "matmul-naive", "    return out\n", "    return AlwaysEqual(out)\n")
    prepend(cells, "matmul-naive", attack("always_equal"))


def _locked_body_pass(cells: Cells) -> None:
    replace(cells, "test-matmul-immediate", "def test_unit_matrix_multiplication():\n    pass\n")


def _locked_deleted(cells: Cells) -> None:
    cells.remove(find(cells, "test-matmul-immediate"))


def _locked_metadata_stripped(cells: Cells) -> None:
    find(cells, "test-matmul-immediate")[0] = "# %%"


def _locked_stripped_and_edited(cells: Cells) -> None:
    cell = find(cells, "test-matmul-immediate")
    cell[0] = "# %%"
    cell[1] = "def test_unit_matrix_multiplication():\n    pass\n"


def _locked_duplicated(cells: Cells) -> None:
    cell = find(cells, "test-matmul-immediate")
    cells.insert(cells.index(cell) + 1, [cell[0], "def test_unit_matrix_multiplication():\n    pass\n"])


def _locked_unlocked(cells: Cells) -> None:
    cell = find(cells, "test-matmul-immediate")
    cell[0] = cell[0].replace('"locked": true', '"locked": false').replace('"points": 10', '"points": 100')
    cell[1] = "def test_unit_matrix_multiplication():\n    assert True\n"


VARIANTS: dict[str, Callable[[Cells], None]] = {
    "honest": lambda cells: None,
    "honest_wrong_matmul": wrong_matmul,
    "honest_saturating_dense": saturating_dense,
    "loop_in_solution": _loop_in_solution,
    "loop_at_import": _import_attack("loop_at_import"),
    "alloc_64gib": _alloc_in_solution,
    "fork_bomb": _import_attack("fork_bomb"),
    "setsid_daemon": _import_attack("setsid_daemon"),
    "network": _import_attack("network"),
    "snoop": _import_attack("snoop"),
    "write_outside": _import_attack("write_outside"),
    "output_flood": _import_attack("output_flood"),
    "exit_at_import": _both(wrong_matmul, _import_attack("exit_at_import")),
    "systemexit_at_import": _both(wrong_matmul, _import_attack("systemexit_at_import")),
    "nul_bytes": _both(wrong_matmul, _import_attack("nul_bytes")),
    "kill_harness": _import_attack("kill_harness"),
    "stop_harness": _import_attack("stop_harness"),
    "patch_numpy": _both(wrong_matmul, _solution_attack("patch_numpy")),
    "replace_assertionerror": _both(wrong_matmul, _solution_attack("replace_assertionerror")),
    "settrace_skip_asserts": _both(wrong_matmul, _solution_attack("settrace_skip_asserts")),
    "compile_strip_asserts": _both(saturating_dense, _solution_attack("compile_strip_asserts")),
    "hide_exceptions": _both(wrong_matmul, _solution_attack("hide_exceptions")),
    "always_equal": _both(wrong_matmul, _always_equal),
    "fake_report": _both(wrong_matmul, _import_attack("fake_report")),
    "forged_frames": _both(wrong_matmul, _solution_attack("forged_frames")),
    "locked_body_pass": _both(wrong_matmul, _locked_body_pass),
    "locked_deleted": _both(wrong_matmul, _locked_deleted),
    "locked_metadata_stripped": _both(wrong_matmul, _locked_metadata_stripped),
    "locked_stripped_and_edited": _both(wrong_matmul, _locked_stripped_and_edited),
    "locked_duplicated": _both(wrong_matmul, _locked_duplicated),
    "locked_unlocked": _both(wrong_matmul, _locked_unlocked),
    "slow_correct": _import_attack("slow_correct"),
}


def render(header: str, cells: Cells) -> str:
    return header + "\n".join(cell[0] + "\n" + cell[1] for cell in cells)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, apply in VARIANTS.items():
        header, cells = base_cells()
        apply(cells)
        (OUT / f"{name}.py").write_text(render(header, cells), encoding="utf-8")


if __name__ == "__main__":
    main()
