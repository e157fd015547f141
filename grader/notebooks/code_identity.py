"""When two versions of a locked cell are the same code: Python tokens, not bytes, decide.

Real files carry whitespace the instructor's source does not: TinyTorch's own distribution keeps blank lines
holding four spaces and comments at column 0 inside test functions, editors trim or add trailing whitespace,
write CRLF or drop the final newline, and a round trip through .ipynb reflows blank lines. None of that changes
what runs, so none of it may call a student a tamperer. Comments, non-logical newlines and trailing whitespace
are left out; INDENT/DEDENT (the block structure, not the width of the indentation) and every literal,
docstrings included, still count. A cell that does not tokenize is compared as text lines instead, which keeps
any real edit visible.
"""

import io
import tokenize
from functools import lru_cache
from typing import NamedTuple

# an ERRORTOKEN left here is whitespace only (any other makes the cell untokenizable)
_SKIPPED = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.ENDMARKER, tokenize.ERRORTOKEN})


class CodeKey(NamedTuple):
    """Equal keys mean equal code; `tokenized` says which comparison produced it."""

    tokenized: bool
    content: tuple[tuple[int, str], ...] | str


def _unified_newlines(source: str) -> str:
    return source.replace("\r\n", "\n").replace("\r", "\n")


def _token_text(token: tokenize.TokenInfo) -> str:
    """The part of a token that is code: an indent's width and a line end's spelling are not."""
    if token.type in (tokenize.INDENT, tokenize.DEDENT, tokenize.NEWLINE):
        return ""
    if token.type == tokenize.STRING and "\n" in token.string:
        return "\n".join(line.rstrip(" \t\f") for line in token.string.split("\n"))
    return token.string


def _tokens(source: str) -> tuple[tuple[int, str], ...] | None:
    """The code tokens of a cell, or None when Python cannot tokenize it."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    if any(token.type == tokenize.ERRORTOKEN and token.string.strip() for token in tokens):
        return None
    return tuple((token.type, _token_text(token)) for token in tokens if token.type not in _SKIPPED)


def _text_lines(source: str) -> str:
    """The conservative fallback: every non-blank line, right-stripped, in order."""
    return "\n".join(line.rstrip() for line in source.splitlines() if line.strip())


def code_key(source: str) -> CodeKey:
    """What a cell's code is, for comparing a student's copy of a locked cell with the instructor's."""
    unified = _unified_newlines(source)
    tokens = _tokens(unified)
    if tokens is None:
        return CodeKey(tokenized=False, content=_text_lines(unified))
    return CodeKey(tokenized=True, content=tokens)


@lru_cache(maxsize=128)
def source_key(source: str) -> CodeKey:
    """`code_key` of an instructor's cell, kept: the same few strings come back for every submission a process
    grades (students' cells are never kept, so a flood of large cells holds no memory)."""
    return code_key(source)


def same_code(student: str, source: str) -> bool:
    """True when the student's cell is the instructor's code, whatever its comments and whitespace."""
    return code_key(student) == source_key(source)
