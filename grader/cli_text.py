"""Terminal-safe text without Rich: error lines and the progress line use it, so they cost no Rich import."""

import re

# C0 controls but newline and tab, DEL, C1 controls, and the bidirectional overrides that reorder what is shown.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object) -> str:
    """The text with every control character that could drive a terminal written as a visible escape."""
    return CONTROL.sub(_escape, str(value))
