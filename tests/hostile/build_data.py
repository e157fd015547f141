"""Builds the hostile submissions of a bundle from its full-marks example; layers' are checked in and are the truth.

Run `.venv/bin/python -m tests.hostile.build_data` in the repository after changing an attack here, then review
the diff of tests/data/hostile: each file is a complete submission (the example's code cells, solutions
shortened) with one attack applied. Other bundles' submissions are built the same way from their targets
(targets.py), where the suite needs them (`build(targets)`), and are not checked in.

An attack may name what it needs of the bundle in capitals; they are filled in from the targets when it is built:
LOCKED_UNITS and PROBE_UNITS (lists of unit ids), LOCKED_CELLS (the locked test cells' code names, for
str.startswith), ANSWER_FILES (file names that would leak the answer key).
"""

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.hostile.targets import LAYERS, Edit, HostileTargets

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "data" / "hostile"
ATTACKS_DIR = OUT / "attacks"
WIDTH = 120

Cells = list[list[str]]  # [header line, body]
Variant = Callable[[Cells, HostileTargets], None]


def base_cells(targets: HostileTargets) -> tuple[str, Cells]:
    """The example's code cells, in order, with compact solutions."""
    text = targets.example.read_text(encoding="utf-8")
    parts = re.split(r"(?m)^(?=# %%)", text)
    cells: Cells = []
    for part in parts[1:]:
        header, _, body = part.partition("\n")
        if header.startswith("# %% [markdown]"):
            continue
        cells.append([header, body.rstrip("\n") + "\n"])
    for grade_id, body in targets.compact.items():
        replace(cells, grade_id, body)
    return parts[0], cells


def find(cells: Cells, grade_id: str) -> list[str]:
    for cell in cells:
        if f'"grade_id": "{grade_id}"' in cell[0]:
            return cell
    raise KeyError(grade_id)


def replace(cells: Cells, grade_id: str, body: str) -> None:
    find(cells, grade_id)[1] = body


def edit(cells: Cells, change: Edit) -> None:
    cell = find(cells, change.cell)
    assert change.old in cell[1], (change.cell, change.old)
    cell[1] = cell[1].replace(change.old, change.new, 1)


def prepend(cells: Cells, grade_id: str, code: str) -> None:
    cell = find(cells, grade_id)
    cell[1] = code.strip("\n") + "\n\n" + cell[1]


def _literal(items: Sequence[str], brackets: str, column: int, tail: str) -> str:
    """A list or tuple literal of strings that starts at `column` with `tail` after it, wrapped within WIDTH."""
    opener, closer = brackets[0], brackets[1]
    if not items:
        return opener + closer
    pieces = [json.dumps(item) + "," for item in items]
    pieces[-1] = pieces[-1][:-1] + ("," if opener == "(" and len(items) == 1 else "") + closer
    lines = [" " * column + opener + pieces[0]]
    for index, piece in enumerate(pieces[1:], start=1):
        extra = len(tail) if index == len(pieces) - 1 else 0
        if len(lines[-1]) + 1 + len(piece) + extra > WIDTH:
            lines.append(" " * (column + len(opener)) + piece)
        else:
            lines[-1] += " " + piece
    return "\n".join(lines)[column:]


def _fill(code: str, name: str, value: str | Sequence[str], brackets: str = "[]") -> str:
    """Replace the capitalised `name` by `value` as a literal, wrapped where it stands."""
    def literal(match: re.Match[str]) -> str:
        if isinstance(value, str):
            return json.dumps(value)
        column = match.start() - code.rfind("\n", 0, match.start()) - 1
        return _literal(value, brackets, column, code[match.end():].split("\n", 1)[0])
    return re.sub(rf"\b{name}\b", literal, code)


def attack(name: str, targets: HostileTargets) -> str:
    """The attack's code, without its docstring, from tests/data/hostile/attacks/, filled in for the bundle."""
    code = (ATTACKS_DIR / f"{name}.py").read_text(encoding="utf-8").split('"""', 2)[2].strip("\n") + "\n"
    code = _fill(code, "LOCKED_UNITS", targets.locked_units())
    code = _fill(code, "PROBE_UNITS", targets.probe_units())
    code = _fill(code, "LOCKED_CELLS", targets.cell_prefix(), "()")
    return _fill(code, "ANSWER_FILES", targets.answer_key_files(), "()")


def _solution_attack(name: str) -> Variant:
    return lambda cells, targets: prepend(cells, targets.solution_cell, attack(name, targets))


def _import_attack(name: str) -> Variant:
    return lambda cells, targets: prepend(cells, targets.import_cell, attack(name, targets))


def _both(*steps: Variant) -> Variant:
    def run(cells: Cells, targets: HostileTargets) -> None:
        for step in steps:
            step(cells, targets)
    return run


def wrong(cells: Cells, targets: HostileTargets) -> None:
    """Wrong values (layers: off by one), shapes and errors right: the honest twin of the numpy-patching attacks."""
    edit(cells, targets.wrong)


def saturating(cells: Cells, targets: HostileTargets) -> None:
    """Layers: weights 50x too large, float32 tanh saturates, so the comprehensive locked test fails on every seed."""
    edit(cells, targets.saturating)


def _always_equal(cells: Cells, targets: HostileTargets) -> None:
    edit(cells, targets.returned)
    prepend(cells, targets.solution_cell, attack("always_equal", targets))


def _locked_test(cells: Cells, targets: HostileTargets) -> tuple[list[str], str]:
    """The locked cell and the name of the test function it defines."""
    cell = find(cells, targets.locked_cell)
    match = re.search(r"(?m)^def (\w+)\(", cell[1])
    assert match, targets.locked_cell
    return cell, match.group(1)


def _locked_body_pass(cells: Cells, targets: HostileTargets) -> None:
    cell, test = _locked_test(cells, targets)
    cell[1] = f"def {test}():\n    pass\n"


def _locked_deleted(cells: Cells, targets: HostileTargets) -> None:
    cells.remove(find(cells, targets.locked_cell))


def _locked_metadata_stripped(cells: Cells, targets: HostileTargets) -> None:
    find(cells, targets.locked_cell)[0] = "# %%"


def _locked_stripped_and_edited(cells: Cells, targets: HostileTargets) -> None:
    cell, test = _locked_test(cells, targets)
    cell[0] = "# %%"
    cell[1] = f"def {test}():\n    pass\n"


def _locked_duplicated(cells: Cells, targets: HostileTargets) -> None:
    cell, test = _locked_test(cells, targets)
    cells.insert(cells.index(cell) + 1, [cell[0], f"def {test}():\n    pass\n"])


def _locked_unlocked(cells: Cells, targets: HostileTargets) -> None:
    cell, test = _locked_test(cells, targets)
    cell[0] = re.sub(r'"points": \d+', '"points": 100', cell[0].replace('"locked": true', '"locked": false'))
    cell[1] = f"def {test}():\n    assert True\n"


VARIANTS: dict[str, Variant] = {
    "honest": lambda cells, targets: None,
    "honest_wrong_matmul": wrong,
    "honest_saturating_dense": saturating,
    "loop_in_solution": lambda cells, targets: edit(cells, targets.loop),
    "loop_at_import": _import_attack("loop_at_import"),
    "alloc_64gib": lambda cells, targets: edit(cells, targets.alloc),
    "fork_bomb": _import_attack("fork_bomb"),
    "setsid_daemon": _import_attack("setsid_daemon"),
    "network": _import_attack("network"),
    "snoop": _import_attack("snoop"),
    "write_outside": _import_attack("write_outside"),
    "output_flood": _import_attack("output_flood"),
    "exit_at_import": _both(wrong, _import_attack("exit_at_import")),
    "systemexit_at_import": _both(wrong, _import_attack("systemexit_at_import")),
    "nul_bytes": _both(wrong, _import_attack("nul_bytes")),
    "kill_harness": _import_attack("kill_harness"),
    "stop_harness": _import_attack("stop_harness"),
    "patch_numpy": _both(wrong, _solution_attack("patch_numpy")),
    "replace_assertionerror": _both(wrong, _solution_attack("replace_assertionerror")),
    "settrace_skip_asserts": _both(wrong, _solution_attack("settrace_skip_asserts")),
    "compile_strip_asserts": _both(saturating, _solution_attack("compile_strip_asserts")),
    "hide_exceptions": _both(wrong, _solution_attack("hide_exceptions")),
    "always_equal": _both(wrong, _always_equal),
    "fake_report": _both(wrong, _import_attack("fake_report")),
    "forged_frames": _both(wrong, _solution_attack("forged_frames")),
    "locked_body_pass": _both(wrong, _locked_body_pass),
    "locked_deleted": _both(wrong, _locked_deleted),
    "locked_metadata_stripped": _both(wrong, _locked_metadata_stripped),
    "locked_stripped_and_edited": _both(wrong, _locked_stripped_and_edited),
    "locked_duplicated": _both(wrong, _locked_duplicated),
    "locked_unlocked": _both(wrong, _locked_unlocked),
    "slow_correct": _import_attack("slow_correct"),
}


def render(header: str, cells: Cells) -> str:
    return header + "\n".join(cell[0] + "\n" + cell[1] for cell in cells)


def build(targets: HostileTargets) -> dict[str, str]:
    """Every hostile submission of the bundle, by file stem."""
    built = {}
    for name, apply in VARIANTS.items():
        header, cells = base_cells(targets)
        apply(cells, targets)
        built[name] = render(header, cells)
    return built


def write(targets: HostileTargets, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in build(targets).items():
        (folder / f"{name}.py").write_text(text, encoding="utf-8")


def main() -> None:
    write(LAYERS, OUT)


if __name__ == "__main__":
    main()
