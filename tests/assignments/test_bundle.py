"""The assignment bundle: rubric points agree with the source, the version follows the content, the release is clean."""

import ast

import pytest

from grader.assignments.bundle import _rubric_items, available_assignments, load_assignment
from grader.assignments.release import clear_solutions
from grader.errors import NotFound

BUNDLE = load_assignment("layers")


def test_layers_is_available_and_totals_90() -> None:
    assert "layers" in available_assignments()
    assert BUNDLE.rubric.max_score == 90
    locked = {item.id: item.points for item in BUNDLE.rubric.items if item.kind == "locked"}
    assert locked == {"test-matmul-immediate": 10, "test-dense-layer": 15, "test-layer-activation-comprehensive": 15}


def test_every_hidden_item_and_shadow_has_a_probe() -> None:
    probes = BUNDLE.probes
    for item in BUNDLE.rubric.items:
        if item.kind == "hidden":
            assert item.id in probes and item.visibility == "hidden"
        else:
            assert item.shadow in probes and item.visibility == "visible"


def test_rubric_points_must_match_the_source() -> None:
    spec = {"items": [{"id": "test-matmul-immediate", "name": "x", "kind": "locked", "points": 99}]}
    with pytest.raises(ValueError, match="99"):
        _rubric_items(spec, BUNDLE.source_cells)


def test_locked_item_must_be_a_locked_graded_cell() -> None:
    spec = {"items": [{"id": "matmul-naive", "name": "x", "kind": "locked", "points": 10}]}
    with pytest.raises(ValueError, match="not a locked graded cell"):
        _rubric_items(spec, BUNDLE.source_cells)


def test_unknown_assignment_is_not_found() -> None:
    with pytest.raises(NotFound, match="unknown assignment"):
        load_assignment("convolutions")


def test_version_is_a_stable_content_hash() -> None:
    assert len(BUNDLE.rubric.version) == 16
    load_assignment.cache_clear()
    try:
        assert load_assignment("layers").rubric.version == BUNDLE.rubric.version
    finally:
        load_assignment.cache_clear()


def test_release_clears_every_solution_and_keeps_everything_else() -> None:
    release = clear_solutions(BUNDLE.source_text)
    assert "### BEGIN SOLUTION" not in release and "### END SOLUTION" not in release
    assert release.count("raise NotImplementedError()") == 3
    assert release.count("# YOUR CODE HERE") == 3
    for cell in BUNDLE.source_cells:
        if cell.locked:
            assert cell.source in release
    for chunk in release.split("# %%")[1:]:
        body = chunk.split("\n", 1)[1]
        if not chunk.startswith(" [markdown]"):
            ast.parse(body)


def test_release_of_an_unclosed_region_is_refused() -> None:
    with pytest.raises(ValueError, match="never closed"):
        clear_solutions("def f():\n    ### BEGIN SOLUTION\n    return 1\n")
