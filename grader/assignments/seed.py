"""Reproduce the transit damage of the seed layers_dev.py, so a rebuild can be checked byte for byte."""

from __future__ import annotations

import codecs

__all__ = ["collapse_whitespace", "demojibake", "flatten_source", "mojibake"]


def _byte_to_char(byte: int) -> str:
    """Decode one byte the way the damaging tool did, so every UTF-8 byte maps to exactly one character.

    The seed was produced by reading UTF-8 bytes as Thai Windows text. Python's cp874 leaves some bytes
    undefined (0x81-0x84, 0x86-0x8F, 0x98-0x9F, 0xDB-0xDE, 0xFC-0xFF), yet the seed shows 'Ÿ' (0x9F),
    'œ' (0x9C), 'Ž' (0x8E) and '†' (0x86) for them: those are the cp1252 characters, so cp1252 fills the
    gaps. Five bytes (0x81, 0x8D, 0x8F, 0x90, 0x9D) are undefined in both; they pass through as the
    Latin-1 C1 control of the same value, as Windows does. The seed does not contain any of those five,
    so that last choice is an assumption, kept only to make the mapping total and reversible.
    """
    raw = bytes([byte])
    for encoding in ("cp874", "cp1252"):
        try:
            return codecs.decode(raw, encoding)
        except UnicodeDecodeError:
            continue
    return chr(byte)


_BYTE_TO_CHAR: tuple[str, ...] = tuple(_byte_to_char(byte) for byte in range(256))
_CHAR_TO_BYTE: dict[str, int] = {char: byte for byte, char in enumerate(_BYTE_TO_CHAR)}


def mojibake(text: str) -> str:
    """Garble text the way the transit did: its UTF-8 bytes read as cp874, cp1252 filling cp874's gaps.

    ASCII is unchanged, so only emoji and other non-ASCII characters turn into Thai-looking runs
    ('🔥' -> '๐Ÿ”ฅ', '✅' -> 'โœ…', '×' -> 'ร—').
    """
    return "".join(_BYTE_TO_CHAR[byte] for byte in text.encode("utf-8"))


def demojibake(text: str) -> str:
    """Undo `mojibake`, so garbled strings found in the seed can be read back as the characters they were.

    Raises ValueError when `text` holds a character that `mojibake` never produces, or when the recovered
    bytes are not UTF-8: either means the text was not garbled this way, and guessing would hide that.
    """
    data = bytearray()
    for char in text:
        byte = _CHAR_TO_BYTE.get(char)
        if byte is None:
            raise ValueError(f"{char!r} (U+{ord(char):04X}) is not produced by the cp874/cp1252 mojibake")
        data.append(byte)
    return data.decode("utf-8")


def collapse_whitespace(text: str) -> str:
    """Turn every whitespace run into one space and drop leading/trailing whitespace.

    This is `" ".join(text.split())`: line breaks, indentation and the double space before inline
    comments all vanish, and the result neither starts nor ends with a space or a newline (the seed file
    has no trailing newline). Whitespace is Python's `str.split()` notion of it.
    """
    return " ".join(text.split())


def flatten_source(text: str) -> str:
    """Apply the whole transit damage to a rebuilt source, so that `flatten_source(rebuilt) == seed`.

    Whitespace is collapsed first and the mojibake applied second: the seed keeps a no-break space
    (U+00A0, the cp874 reading of byte 0xA0) inside the garbled '🧠', which a collapse done after the
    mojibake would have removed.
    """
    return mojibake(collapse_whitespace(text))
