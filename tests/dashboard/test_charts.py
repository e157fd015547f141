"""Chart geometry and SVG, and the code panel's solution marking: pure functions, no database."""

import json

import jupytext

from grader.assignments.bundle import load_assignment
from grader.dashboard.charts import histogram, sparkline
from grader.dashboard.code import code_listing
from grader.dashboard.render import ENVIRONMENT
from grader.services.scores import HistogramBin
from tests.conftest import EXAMPLE_SOLUTION
from tests.dashboard.conftest import elements

BINS = [HistogramBin(lower=i * 9, upper=(i + 1) * 9, count=count) for i, count in enumerate([3, 0, 1, 0, 0, 0, 0,
                                                                                             0, 2, 4])]
MAX_BYTES = 512 * 1024


def test_histogram_bars_scale_to_the_tallest_and_say_every_count() -> None:
    chart = histogram(BINS, students=10)
    assert [bar.count for bar in chart.bars] == [3, 0, 1, 0, 0, 0, 0, 0, 2, 4] and chart.peak == 4
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.count == 4 and tallest.y + tallest.height == chart.baseline
    assert chart.bars[1].height == 0 and chart.bars[0].height == tallest.height * 3 / 4
    assert (chart.bars[0].lower, chart.bars[0].upper) == ("0", "9")
    assert "0 to 9: 3" in chart.label and "81 to 90: 4" in chart.label and "10 students" in chart.label


def test_histogram_svg_is_accessible_markup() -> None:
    svg = ENVIRONMENT.get_template("charts.html").module.histogram(histogram(BINS, students=10))  # type: ignore[attr-defined]
    assert elements(svg, "svg", id="histogram", role="img", aria_labelledby="histogram-title")
    assert '<title id="histogram-title">Histogram of the current scores of 10 students.' in svg
    bars = elements(svg, "rect", **{"class": "bar"})
    assert [(b["data-lower"], b["data-upper"], b["data-count"]) for b in bars][:2] == [("0", "9", "3"),
                                                                                         ("9", "18", "0")]
    assert " style=" not in svg


def test_empty_histogram_draws_flat_bars() -> None:
    chart = histogram([HistogramBin(lower=0, upper=9, count=0)], students=0)
    assert chart.peak == 0 and chart.bars[0].height == 0


def test_sparkline_points_in_order_on_the_max_scale() -> None:
    chart = sparkline([("r1", 10.0), ("r2", 90.0), ("r3", 45.0)], max_score=90)
    assert [p.score for p in chart.points] == ["10", "90", "45"]
    xs = [p.x for p in chart.points]
    assert xs == sorted(xs) and chart.points[1].y < chart.points[2].y < chart.points[0].y
    assert chart.label.endswith("out of 90: 10, 90, 45.")
    single = sparkline([("r1", 90.0)], max_score=90)
    assert single.points[0].x == single.width / 2
    assert sparkline([], max_score=90).label.endswith("none yet.")
    svg = ENVIRONMENT.get_template("charts.html").module.score_history(chart)  # type: ignore[attr-defined]
    assert [c["data-score"] for c in elements(svg, "circle")] == ["10", "90", "45"]


def _marked(listing: object) -> dict[str, list[int]]:
    return {block.solution: [line.number for line in block.lines]  # type: ignore[attr-defined]
            for block in listing.blocks if block.solution}  # type: ignore[attr-defined]


def test_solution_cells_are_marked_by_grade_id() -> None:
    content = EXAMPLE_SOLUTION.read_bytes()
    listing = code_listing(content, "layers_dev.py", load_assignment("layers"), max_bytes=MAX_BYTES)
    lines = content.decode().split("\n")
    marked = _marked(listing)
    assert list(marked) == listing.marked == ["matmul-naive", "dense-layer"]
    for numbers in marked.values():
        assert numbers == list(range(numbers[0], numbers[-1] + 1))
        assert lines[numbers[0] - 2].startswith("# %%"), "the block starts right after the cell header"
    assert any("def matmul" in lines[n - 1] for n in marked["matmul-naive"])
    assert [line.number for block in listing.blocks for line in block.lines] == list(range(1, len(lines) + 1))


def test_markers_removed_still_marks_the_cells() -> None:
    text = EXAMPLE_SOLUTION.read_text().replace("### BEGIN SOLUTION\n", "").replace("### END SOLUTION\n", "")
    listing = code_listing(text.encode(), "layers_dev.py", load_assignment("layers"), max_bytes=MAX_BYTES)
    assert listing.marked == ["matmul-naive", "dense-layer"]


def test_a_notebook_is_shown_as_percent_text_with_cells_marked() -> None:
    notebook = jupytext.reads(EXAMPLE_SOLUTION.read_text(), fmt="py:percent")
    content = jupytext.writes(notebook, fmt="ipynb")
    listing = code_listing(content.encode(), "layers_dev.ipynb", load_assignment("layers"), max_bytes=MAX_BYTES)
    assert listing.marked == ["matmul-naive", "dense-layer"]
    assert not any(line.text.startswith('{"cells"') for block in listing.blocks for line in block.lines)


def test_a_students_jupytext_cell_options_do_not_steer_the_listing() -> None:
    """jupytext reads a cell's own options (cell_marker, lines_to_next_cell) when it writes; a student's odd values
    crashed the listing (found by tests/notebooks/test_reader_fuzz.py). Only nbgrader metadata is kept."""
    notebook = json.loads(jupytext.writes(jupytext.reads(EXAMPLE_SOLUTION.read_text(), fmt="py:percent"),
                                          fmt="ipynb"))
    for cell in notebook["cells"]:
        cell["metadata"].update(cell_marker=1, lines_to_next_cell="many", region_name=[])
    listing = code_listing(json.dumps(notebook).encode(), "layers_dev.ipynb", load_assignment("layers"),
                           max_bytes=MAX_BYTES)
    assert listing.marked == ["matmul-naive", "dense-layer"]


def test_an_unreadable_file_is_shown_raw_with_a_note() -> None:
    listing = code_listing(b"\xff\xfe not utf8 <b>", "layers_dev.py", load_assignment("layers"),
                           max_bytes=MAX_BYTES)
    assert listing.marked == [] and "could not be read" in listing.note
    assert listing.blocks[0].lines[0].text.endswith("not utf8 <b>")
