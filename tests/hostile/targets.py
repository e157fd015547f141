"""Where the hostile suite aims its attacks in one bundle: the cells an attack goes into and the edits that make
its honest twins. Each shipped bundle has one entry in TARGETS; build_data.py builds its submissions from them.

An attack is bundle-independent code (tests/data/hostile/attacks/); what it needs of a bundle is named here:
- `example`: a student file that gets full marks;
- `import_cell`: a code cell that runs at import, before any solution (import-time attacks go first in it);
- `solution_cell`: a solution cell whose code the locked tests and probes call (solution attacks go first in it);
- `locked_cell`: a graded locked test cell that calls `solution_cell` (the locked_* attacks tamper with it);
- `wrong`: an edit that makes `solution_cell` return wrong values with right shapes and errors;
- `saturating`: an edit that breaks a second solution so that only some items fail (the compile twin);
- `loop` / `alloc`: edits putting `while True: pass` / a 64 GiB allocation on a path only some items take;
- `returned`: the edit that makes `solution_cell` return its result wrapped in `AlwaysEqual(...)`;
- `compact`: shorter solution bodies, by cell, so the files stay readable (optional).
The names the forged-frames, settrace and snoop attacks need (units, locked cells, answer-key files) default to
what the bundle's rubric and files say.
"""

from dataclasses import dataclass, field
from pathlib import Path

from grader.assignments.bundle import load_assignment

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Edit:
    """Replace the first `old` in the body of cell `cell` by `new` (a build fails when `old` is not there)."""

    cell: str
    old: str
    new: str


@dataclass(frozen=True)
class HostileTargets:
    """One bundle's aiming points; see the module docstring for each field."""

    bundle: str
    example: Path
    import_cell: str
    solution_cell: str
    locked_cell: str
    wrong: Edit
    saturating: Edit
    loop: Edit
    alloc: Edit
    returned: Edit
    compact: dict[str, str] = field(default_factory=dict)
    answer_files: tuple[str, ...] = ()
    locked_cell_prefix: str | tuple[str, ...] = ()
    forged_probes: tuple[str, ...] = ()

    def locked_units(self) -> list[str]:
        """The locked tests' unit ids, in rubric order."""
        return [item.id for item in load_assignment(self.bundle).rubric.items if item.kind == "locked"]

    def probe_units(self) -> list[str]:
        """The probe units the forged frames claim: by default every one, the shadows of the locked tests, then the
        hidden items, in rubric order."""
        items = load_assignment(self.bundle).rubric.items
        every = [item.shadow for item in items if item.shadow] + [item.id for item in items if item.kind == "hidden"]
        return list(self.forged_probes) or every

    def cell_prefix(self) -> str | tuple[str, ...]:
        """What the code objects of the locked test cells are named after (`<cell GRADE_ID>`)."""
        return self.locked_cell_prefix or tuple(f"<cell {unit}>" for unit in self.locked_units())

    def answer_key_files(self) -> tuple[str, ...]:
        """File names whose presence inside the sandbox would leak the answer key or the grader."""
        bundle = load_assignment(self.bundle)
        return self.answer_files or ("hidden_tests.py", "assignment.yaml", f"{bundle.module_name}.py", "grader.db",
                                     "tinytorch_ref", "grader")


LAYERS_MATMUL = '''#| export
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

LAYERS_DENSE = '''#| export
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

# Layers' checked-in files predate the generic defaults: its answer-file list, locked-cell prefix and forged probe
# units (all but hidden-matmul-shape-errors) are kept as they were, so the files, and the recorded table graded
# from them, do not change.
LAYERS = HostileTargets(
    bundle="layers",
    example=REPO / "grader" / "assignments" / "layers" / "examples" / "student_solution.py",
    import_cell="layers-welcome",
    solution_cell="matmul-naive",
    locked_cell="test-matmul-immediate",
    wrong=Edit("matmul-naive", "            out[r, c] = total\n", "            out[r, c] = total + 1.0\n"),
    saturating=Edit("dense-layer", "size=(input_size, output_size)))", "size=(input_size, output_size)) * 50)"),
    loop=Edit("matmul-naive", "        raise ValueError(",
              "        while True:\n            pass\n        raise ValueError("),
    alloc=Edit("matmul-naive", "    out = np.zeros((rows, cols))\n",
               "    hoard = np.zeros((64 * 1024 ** 3 // 8,))  # 64 GiB\n    out = np.zeros((rows, cols))\n"),
    returned=Edit("matmul-naive", "    return out\n", "    return AlwaysEqual(out)\n"),
    compact={"matmul-naive": LAYERS_MATMUL, "dense-layer": LAYERS_DENSE},
    answer_files=("hidden_tests.py", "rubric.yaml", "layers_dev.py", "grader.db", "tinytorch_ref", "grader"),
    locked_cell_prefix="<cell test-",
    forged_probes=("shadow-matmul-immediate", "shadow-dense-layer", "shadow-layer-activation", "hidden-matmul-random",
                   "hidden-matmul-vectors", "hidden-matmul-integer", "hidden-dense-forward", "hidden-dense-no-bias",
                   "hidden-dense-batches", "hidden-dense-xavier-init"),
)

# layers-linear: imports first would lose the imports to an attack that stops its cell, so import-time attacks go
# into a helper cell nothing graded uses; the locked cell is the one the wrong twin fails.
LAYERS_LINEAR = HostileTargets(
    bundle="layers-linear",
    example=REPO / "grader" / "assignments" / "layers-linear" / "layers.py",
    import_cell="analyze-layer-memory",
    solution_cell="linear-layer",
    locked_cell="test-linear-edge-cases",
    wrong=Edit("linear-layer", "        product = x.matmul(self.weight)\n",
               "        product = x.matmul(self.weight) + 1.0\n"),
    saturating=Edit("dropout-layer", "        return x * Tensor(keep / (1.0 - self.p))\n",
                    "        return x * Tensor(keep * 1.0)\n"),
    loop=Edit("dropout-layer", "            raise ValueError(",
              "            while True:\n                pass\n            raise ValueError("),
    alloc=Edit("linear-layer", "        product = x.matmul(self.weight)\n",
               "        hoard = np.zeros((64 * 1024 ** 3 // 8,))  # 64 GiB\n        product = x.matmul(self.weight)\n"),
    returned=Edit("linear-layer", "        return product if self.bias is None else product + self.bias\n",
                  "        return AlwaysEqual(product if self.bias is None else product + self.bias)\n"),
)

TARGETS: dict[str, HostileTargets] = {targets.bundle: targets for targets in (LAYERS, LAYERS_LINEAR)}

