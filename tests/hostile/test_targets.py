"""The hostile submissions are built from each bundle's targets: layers' build is exactly the checked-in files, every
shipped bundle has targets, and the generic defaults aim every attack at a bundle's own cells and units."""

import dataclasses

from grader.assignments.registry import shipped_assignments

from .build_data import OUT, VARIANTS, build
from .targets import LAYERS, TARGETS


def test_the_layers_build_is_the_checked_in_submissions() -> None:
    """Nobody edits a built file by hand, and changing build_data.py or an attack means rebuilding and reviewing."""
    built = build(LAYERS)
    checked_in = {path.stem: path.read_text(encoding="utf-8") for path in OUT.glob("*.py")}
    assert built == checked_in


def test_every_shipped_bundle_has_hostile_targets() -> None:
    """The hostile suite's promises hold for every bundle, so it runs against each one the grader ships."""
    assert sorted(TARGETS) == shipped_assignments()


def test_the_generic_defaults_aim_at_the_bundle_itself() -> None:
    """Without layers' kept spellings, the payloads name the bundle's own units, cells and files, and every built
    submission is still Python."""
    generic = dataclasses.replace(LAYERS, answer_files=(), locked_cell_prefix=(), forged_probes=())
    built = build(generic)
    assert sorted(built) == sorted(VARIANTS)
    for name, text in built.items():
        compile(text, f"{name}.py", "exec")
    assert '"hidden-matmul-shape-errors"' in built["forged_frames"] and '"test-dense-layer"' in built["forged_frames"]
    assert 'startswith(("<cell test-matmul-immediate>",' in built["settrace_skip_asserts"]
    assert '"<cell test-layer-activation-comprehensive>")) else None' in built["settrace_skip_asserts"]
    assert '"assignment.yaml", "layers_dev.py"' in built["snoop"]
    assert "LOCKED_UNITS" not in "".join(built.values()) and "ANSWER_FILES" not in "".join(built.values())
