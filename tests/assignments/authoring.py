"""A small course module that the bundle tests write themselves: an instructor source with two solutions and two
locked tests, the package it imports, and a bundle around them (optionally with hidden tests and a reference)."""

import json
import textwrap
from pathlib import Path


def _locked_test(grade_id: str, points: int) -> str:
    """A locked graded cell's nbgrader metadata, as a percent header writes it."""
    return json.dumps({"grade": True, "grade_id": grade_id, "locked": True, "points": points, "schema_version": 3,
                       "solution": False})


PACKAGE = {
    "minitorch/__init__.py": '"""A tiny course package, written by the tests."""\n',
    "minitorch/tensor.py": textwrap.dedent('''\
        """The tensor of the tiny course package."""

        import numpy as np


        class Tensor:
            """An array with a shape; enough for scaling and shifting."""

            def __init__(self, data):
                self.data = np.asarray(data, dtype=float)

            @property
            def shape(self):
                return self.data.shape
        '''),
}

SOURCE = textwrap.dedent('''\
    # %% [markdown]
    # # Scaling tensors
    #
    # Scale a tensor by a number, then shift it.

    # %% nbgrader={"grade": false, "grade_id": "scale-imports", "locked": false, "schema_version": 3, "solution": false}
    import numpy as np
    from minitorch.tensor import Tensor

    # %% nbgrader={"grade": false, "grade_id": "scale-impl", "locked": false, "schema_version": 3, "solution": true}
    def scale(x, k):
        """x times k, as a new Tensor."""
        ### BEGIN SOLUTION
        return Tensor(x.data * k)
        ### END SOLUTION

    # %% nbgrader={TEST_SCALE}
    def test_scale():
        assert scale(Tensor([1.0, 2.0]), 3).data.tolist() == [3.0, 6.0]

    test_scale()

    # %% nbgrader={"grade": false, "grade_id": "shift-impl", "locked": false, "schema_version": 3, "solution": true}
    def shift(x, d):
        """x plus d, as a new Tensor."""
        return Tensor(x.data + d)

    # %% nbgrader={TEST_SHIFT}
    def test_shift():
        assert shift(Tensor([1.0, -1.0]), 2).data.tolist() == [3.0, 1.0]
    ''').replace("{TEST_SCALE}", _locked_test("test-scale", 4)).replace("{TEST_SHIFT}", _locked_test("test-shift", 6))

MANIFEST = textwrap.dedent('''\
    id: scaling
    title: "Scaling tensors"
    submission: scale_dev.py
    source: scale_dev.py
    required_names: [scale, shift]
    tensor_class: minitorch.tensor:Tensor
    locked_test_seeds: [1, 2]
    items:
      - id: test-scale
        name: "scale: the unit test in your notebook"
        kind: locked
        points: 4
      - id: test-shift
        name: "shift: the unit test in your notebook"
        kind: locked
        points: 6
    ''')

HIDDEN_ITEM = ("  - id: hidden-scale-random\n"
               '    name: "scale matches the reference on random tensors"\n'
               "    kind: hidden\n"
               "    points: 5\n")

HIDDEN_TESTS = textwrap.dedent('''\
    """Hidden probes of the scaling bundle: plain definitions with generate and check."""

    from dataclasses import dataclass

    from .reference.scaling import scale_reference


    @dataclass(frozen=True)
    class Probe:
        generate: object
        check: object


    def _generate(rng, seeds):
        return [scale_reference(rng.normal(size=3), 2.0)]


    def _check(calls, results):
        return None


    PROBES = {"hidden-scale-random": Probe(generate=_generate, check=_check)}
    ''')

REFERENCE = 'def scale_reference(values, k):\n    return [value * k for value in values]\n'


def write_package(folder: Path) -> Path:
    for relative, text in PACKAGE.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    return folder


def write_source(folder: Path, name: str = "scale_dev.py", text: str = SOURCE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def write_bundle(folder: Path, *, manifest: str = MANIFEST, hidden: bool = False, source: str = SOURCE) -> Path:
    """A complete bundle folder: assignment.yaml, the source, package/ and, with `hidden`, hidden tests."""
    write_source(folder, text=source)
    write_package(folder / "package")
    if hidden:
        manifest += HIDDEN_ITEM
        (folder / "hidden_tests.py").write_text(HIDDEN_TESTS)
        (folder / "reference").mkdir()
        (folder / "reference" / "scaling.py").write_text(REFERENCE)
    (folder / "assignment.yaml").write_text(manifest)
    return folder


def manifest_line(manifest: str, needle: str) -> int:
    """The 1-based line of the first line of `manifest` containing `needle`."""
    return next(number for number, line in enumerate(manifest.splitlines(), start=1) if needle in line)
