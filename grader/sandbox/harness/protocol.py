"""Length-prefixed JSON frames: between the harness processes inside the sandbox, and with a warm sandbox's host.

This file runs INSIDE the sandbox: it imports only the standard library and never the grader.
"""

import json
import os
import re
import struct
from typing import Any

HEADER = struct.Struct(">I")
MAX_FRAME = 8 * 1024 * 1024


def send(fd: int, message: dict[str, Any]) -> None:
    """Write one whole frame; a short write is retried until the frame is out."""
    send_bytes(fd, json.dumps(message, allow_nan=False, separators=(",", ":")).encode())


def send_bytes(fd: int, body: bytes) -> None:
    """Frame an already encoded body (a report, a job) and write all of it, without copying it into one buffer."""
    header = HEADER.pack(len(body))
    written = os.writev(fd, [header, body])
    if written < len(header):
        write_all(fd, header[written:])
        written = len(header)
    write_all(fd, memoryview(body)[written - len(header):])


def write_all(fd: int, data: bytes | memoryview) -> None:
    """Write every byte: a signal can cut a pipe write short."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_exact(fd: int, size: int) -> bytes | None:
    """Exactly `size` bytes from a blocking descriptor, or None at end of stream."""
    chunks = bytearray()
    while len(chunks) < size:
        chunk = os.read(fd, size - len(chunks))
        if not chunk:
            return None
        chunks.extend(chunk)
    return bytes(chunks)


def read_frame(fd: int, limit: int = MAX_FRAME) -> bytes | None:
    """The body of the next frame on a blocking descriptor; None at a clean end; ValueError when over `limit`."""
    header = _read_exact(fd, HEADER.size)
    if header is None:
        return None
    (length,) = HEADER.unpack(header)
    if length > limit:
        raise ValueError(f"frame of {length} bytes is over the {limit} byte limit")
    body = _read_exact(fd, length)
    if body is None:
        raise ValueError("stream ended inside a frame")
    return body


_RESULT = re.compile(rb'\{"kind":"unit_result","unit":("(?:[^"\\]|\\.)*")', re.DOTALL)
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_OPENING = {ord("]"): ord("["), ord("}"): ord("{")}


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _one_object(body: bytes) -> bool:
    """Whether `body` is one JSON object whose braces enclose all of it, strings and brackets balanced, with no
    NaN or Infinity: embedded as a value in a larger document it can end nothing but itself. (Whether it is
    valid JSON inside is the reader's business: the host parses the whole report strictly.)"""
    if not body.isascii():
        return False
    skeleton = _STRING.sub(b'""', body).strip()
    if skeleton.count(b'"') % 2 or b"NaN" in skeleton or b"Infinity" in skeleton:
        return False
    if not (skeleton.startswith(b"{") and skeleton.endswith(b"}")):
        return False
    stack: list[int] = []
    brackets = skeleton.translate(None, _NOT_BRACKETS)
    for position, bracket in enumerate(brackets):
        if bracket in _OPENING:
            if not stack or stack.pop() != _OPENING[bracket] or (not stack and position < len(brackets) - 1):
                return False
        else:
            stack.append(bracket)
    return not stack


def parse_frame(body: bytes) -> dict[str, Any]:
    """A frame's message. A unit's result in the workspace's own compact form is only checked to be one object
    (it is kept raw and never read here); anything else is parsed as strict JSON. ValueError if neither."""
    match = _RESULT.match(body)
    if match is not None and _one_object(body):
        return {"kind": "unit_result", "unit": json.loads(match.group(1))}
    message = json.loads(body.decode("utf-8"), parse_constant=_no_constants)
    if not isinstance(message, dict):
        raise ValueError("a frame is a JSON object")
    return message


class FrameReader:
    """Reassembles frames from a non-blocking stream; a malformed frame poisons the channel.

    Each frame comes back parsed and as its raw body, which can be embedded verbatim in a larger JSON document
    (see parse_frame): a large result is never decoded and re-encoded inside the sandbox.
    """

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.corrupt = False
        self.consumed = 0

    def feed(self, chunk: bytes) -> list[tuple[dict[str, Any], bytes]]:
        """Add bytes, return every complete frame; garbage marks the channel corrupt and drops what follows."""
        if self.corrupt:
            return []
        self.buffer.extend(chunk)
        frames: list[tuple[dict[str, Any], bytes]] = []
        while not self.corrupt and len(self.buffer) >= HEADER.size:
            (length,) = HEADER.unpack_from(self.buffer)
            if length > MAX_FRAME:
                self.corrupt = True
                break
            if len(self.buffer) < HEADER.size + length:
                break
            body = bytes(self.buffer[HEADER.size : HEADER.size + length])
            del self.buffer[: HEADER.size + length]
            self.consumed += HEADER.size + length
            try:
                frames.append((parse_frame(body), body))
            except ValueError:
                self.corrupt = True
                break
        if self.corrupt:
            self.buffer.clear()
        return frames
