"""The student release: the instructor source with every solution region cleared, as nbgrader does."""

import re

import jupytext

BEGIN = re.compile(r"^(?P<indent>\s*)### BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")


def clear_solutions(source: str) -> str:
    """Replace each BEGIN/END SOLUTION region with `# YOUR CODE HERE` and `raise NotImplementedError()`."""
    lines = source.splitlines(keepends=True)
    released: list[str] = []
    inside = False
    for line in lines:
        begin = BEGIN.match(line)
        if begin and not inside:
            indent = begin.group("indent")
            released += [f"{indent}# YOUR CODE HERE\n", f"{indent}raise NotImplementedError()\n"]
            inside = True
        elif inside and END.match(line):
            inside = False
        elif not inside:
            released.append(line)
    if inside:
        raise ValueError("a ### BEGIN SOLUTION region is never closed")
    return "".join(released)


def release_notebook(source: str) -> str:
    """The release as an nbformat 4 notebook, cells and nbgrader metadata as in the percent file."""
    return str(jupytext.writes(jupytext.reads(clear_solutions(source), fmt="py:percent"), fmt="ipynb"))
