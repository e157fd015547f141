"""YAML that remembers where each value was written, so a bundle error can name the line an author must fix."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from grader.errors import BundleInvalid

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class MarkedDocument:
    """The parsed data, and the 1-based line of every mapping key and sequence entry by its path."""

    data: Any
    file: str
    lines: dict[Path, int]

    def line(self, path: Path) -> int | None:
        """The line of `path`, or of its nearest ancestor that was written (a missing key: its mapping's line)."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def error(self, path: Path, problem: str) -> BundleInvalid:
        return BundleInvalid(problem, file=self.file, line=self.line(path))


def _walk(node: yaml.Node, path: Path, file: str) -> Iterator[tuple[Path, int]]:
    yield path, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[object] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                raise BundleInvalid(f"the key {key!r} is given twice", file=file, line=key_node.start_mark.line + 1)
            seen.add(key)
            yield (*path, key), key_node.start_mark.line + 1
            for inner, line in _walk(value_node, (*path, key), file):
                if inner != (*path, key):
                    yield inner, line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _walk(item, (*path, index), file)


def load_marked(text: str, file: str) -> MarkedDocument:
    """Safe-load one YAML document; a syntax error is a BundleInvalid naming the file and line."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise BundleInvalid(f"not valid YAML: {exc.problem or exc.context}", file=file,
                            line=None if mark is None else mark.line + 1) from exc
    except yaml.YAMLError as exc:
        raise BundleInvalid(f"not valid YAML: {exc}", file=file, line=None) from exc
    finally:
        loader.dispose()
    lines = {} if node is None else dict(_walk(node, (), file))
    return MarkedDocument(data=data, file=file, lines=lines)
