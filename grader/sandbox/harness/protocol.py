"""Length-prefixed JSON frames between the harness processes inside the sandbox.

This file runs INSIDE the sandbox: it imports only the standard library and never the grader.
"""

import json
import os
import struct
from typing import Any

HEADER = struct.Struct(">I")
MAX_FRAME = 8 * 1024 * 1024


def send(fd: int, message: dict[str, Any]) -> None:
    """Write one whole frame; a short write is retried until the frame is out."""
    body = json.dumps(message, allow_nan=False, separators=(",", ":")).encode()
    frame = HEADER.pack(len(body)) + body
    view = memoryview(frame)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class FrameReader:
    """Reassembles frames from a non-blocking stream; a malformed frame poisons the channel."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.corrupt = False

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        """Add bytes, return every complete frame; garbage marks the channel corrupt."""
        self.buffer.extend(chunk)
        frames: list[dict[str, Any]] = []
        while not self.corrupt and len(self.buffer) >= HEADER.size:
            (length,) = HEADER.unpack_from(self.buffer)
            if length > MAX_FRAME:
                self.corrupt = True
                break
            if len(self.buffer) < HEADER.size + length:
                break
            body = bytes(self.buffer[HEADER.size : HEADER.size + length])
            del self.buffer[: HEADER.size + length]
            try:
                message = json.loads(body)
            except ValueError:
                self.corrupt = True
                break
            if not isinstance(message, dict):
                self.corrupt = True
                break
            frames.append(message)
        return frames
