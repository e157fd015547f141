"""The rebuilt layers_dev.py must be the damaged seed, byte for byte, and a working jupytext notebook."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest
from nbformat import NotebookNode

from grader.assignments.seed import collapse_whitespace, demojibake, flatten_source, mojibake

SEED_NAME = "000_4f0e71b9ee46d256.txt"

MOJIBAKE_EXAMPLES = {
    "🔥": "๐Ÿ”ฅ",
    "✅": "โœ…",
    "×": "ร—",
    "Σ": "ฮฃ",
    "→": "โ†’",
    "📦": "๐Ÿ“ฆ",
    "🧪": "๐Ÿงช",
    "🔬": "๐Ÿ”ฌ",
    "🎯": "๐ŸŽฏ",
    "🔗": "๐Ÿ”—",
    "🧠": "๐Ÿง\u00a0",
}

GRADED_CELLS = {
    "test-matmul-immediate": 10,
    "test-dense-layer": 15,
    "test-layer-activation-comprehensive": 15,
}

SOLUTION_CELLS = ("matmul-naive", "dense-layer")


def _repo_root() -> Path:
    """Walk up from this file, so the tests do not depend on the directory pytest was started from."""
    here = Path(__file__).resolve()
    for directory in here.parents:
        if (directory / "pyproject.toml").is_file() or (directory / ".git").exists():
            return directory
    raise AssertionError(f"no pyproject.toml or .git above {here}")


REPO_ROOT = _repo_root()
REBUILD_PATH = REPO_ROOT / "grader" / "assignments" / "layers" / "layers_dev.py"
SEED_PATH = REPO_ROOT.parent / "shared" / "seed" / SEED_NAME


@pytest.fixture(scope="module")
def rebuilt() -> str:
    return REBUILD_PATH.read_text(encoding="utf-8")


def _read_seed() -> str:
    """Fail (not skip, not error): a missing seed means the rebuild can no longer be proven faithful."""
    if not SEED_PATH.is_file():
        pytest.fail(f"seed file missing: expected it at {SEED_PATH}", pytrace=False)
    return SEED_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def notebook(rebuilt: str) -> NotebookNode:
    parsed: NotebookNode = jupytext.reads(rebuilt, fmt="py:percent")
    return parsed


def _nbgrader_cells(notebook: NotebookNode) -> dict[str, dict[str, object]]:
    cells: dict[str, dict[str, object]] = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader")
        if meta is not None:
            cells[meta["grade_id"]] = {"cell_type": cell.cell_type, **meta}
    return cells


def test_rebuild_flattens_to_the_seed_exactly(rebuilt: str) -> None:
    seed = _read_seed()
    flattened = flatten_source(rebuilt)
    if flattened != seed:
        at = next(
            (i for i, (a, b) in enumerate(zip(flattened, seed, strict=False)) if a != b),
            min(len(flattened), len(seed)),
        )
        pytest.fail(
            f"rebuild differs from the seed at char {at}:\n"
            f"  rebuild: {flattened[max(0, at - 60) : at + 60]!r}\n"
            f"  seed:    {seed[max(0, at - 60) : at + 60]!r}"
        )


def test_seed_is_one_line_without_edge_whitespace() -> None:
    seed = _read_seed()
    assert "\n" not in seed
    assert "  " not in seed
    assert seed == seed.strip()


def test_rebuild_is_real_unicode_with_real_lines(rebuilt: str) -> None:
    assert rebuilt.endswith('"""\n')
    assert "\t" not in rebuilt
    assert "๐" not in rebuilt
    for char in ("🔥", "✅", "×", "Σ", "→", "📦", "🧪", "🔬", "🎯", "🔗", "🧠"):
        assert char in rebuilt


def test_every_code_cell_compiles(notebook: NotebookNode) -> None:
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(code_cells) == 10
    for index, cell in enumerate(code_cells):
        compile(cell.source, f"layers_dev.py code cell {index}", "exec")


def test_jupytext_reads_header_and_cells(notebook: NotebookNode) -> None:
    representation = notebook.metadata["jupytext"]["text_representation"]
    assert representation["format_name"] == "percent"
    assert representation["jupytext_version"] == "1.17.1"
    assert len(notebook.cells) == 21
    assert notebook.cells[0].cell_type == "markdown"
    assert notebook.cells[0].source.startswith("# Layers - Building Blocks of Neural Networks\n")


@pytest.mark.parametrize(("grade_id", "points"), sorted(GRADED_CELLS.items()))
def test_graded_cells_are_locked_with_points(notebook: NotebookNode, grade_id: str, points: int) -> None:
    meta = _nbgrader_cells(notebook)[grade_id]
    assert meta["cell_type"] == "code"
    assert meta["grade"] is True
    assert meta["locked"] is True
    assert meta["solution"] is False
    assert meta["points"] == points


@pytest.mark.parametrize("grade_id", SOLUTION_CELLS)
def test_solution_cells_are_open(notebook: NotebookNode, grade_id: str) -> None:
    meta = _nbgrader_cells(notebook)[grade_id]
    assert meta["cell_type"] == "code"
    assert meta["solution"] is True
    assert meta["locked"] is False
    assert meta["grade"] is False


@pytest.mark.parametrize(("text", "garbled"), sorted(MOJIBAKE_EXAMPLES.items()))
def test_mojibake_round_trips(text: str, garbled: str) -> None:
    assert mojibake(text) == garbled
    assert demojibake(garbled) == text


def test_mojibake_is_reversible_for_every_utf8_byte() -> None:
    """The whole BMP plus one character per 4-byte lead byte exercises every byte UTF-8 can emit."""
    bmp = "".join(chr(cp) for cp in range(0x10000) if not 0xD800 <= cp <= 0xDFFF)
    astral = "".join(chr(cp) for cp in (0x10000, 0x1F9E0, 0x40000, 0x80000, 0xC0000, 0x10FFFF))
    text = bmp + astral
    assert demojibake(mojibake(text)) == text


def test_demojibake_rejects_foreign_characters() -> None:
    with pytest.raises(ValueError):
        demojibake("é")


def test_collapse_happens_before_mojibake() -> None:
    assert flatten_source("  a\n\n    b  # c\t\n") == "a b # c"
    assert flatten_source("🧠 x") == "๐Ÿง\u00a0 x"
    assert collapse_whitespace("\n x \n") == "x"
