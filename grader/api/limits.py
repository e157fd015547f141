"""A request-body cap that answers 413 in the API's JSON error shape before a large upload is spooled, and any
early answer (413, 401, 429) in a way the client receives."""

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DISCARD_MAX_BYTES = 64 * 1024 * 1024
DISCARD_MAX_S = 30.0


async def discard_body(receive: Receive, *, max_bytes: int = DISCARD_MAX_BYTES, max_s: float = DISCARD_MAX_S) -> None:
    """Read and drop what is left of the request body, up to a bound in bytes and in time.

    A client that sends its whole body before reading (urllib, most LMS back ends, curl without waiting for
    100-continue) never sees an answer written while its body is still unread: closing a socket with unread
    data makes the kernel send a reset, and the client's stack throws the answer away with it. Past the bound
    the answer goes out anyway; a client sending more than that gets the reset.
    """
    left = max_bytes
    try:
        async with asyncio.timeout(max_s):
            while left > 0:
                message = await receive()
                if message["type"] != "http.request":
                    return
                left -= len(message.get("body", b""))
                if not message.get("more_body", False):
                    return
    except TimeoutError:
        return


@dataclass
class _BodyRead:
    """How much of one request's body the app has read, and whether it has seen the end of it."""

    waits_for_continue: bool
    read: int = 0
    ended: bool = False

    def must_discard(self) -> bool:
        """A body still on its way, unless the client waits for `100-continue` and was never asked for it."""
        return not self.ended and (self.read > 0 or not self.waits_for_continue)


class BodySizeLimit:
    """Refuse a declared Content-Length over the cap before reading it; count a chunked body and stop it at the
    cap. Whatever the answer, the rest of an unread body is discarded (within a bound) before it goes out."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, detail: str,
                 paths: Mapping[str, tuple[int, str]] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.detail = detail
        self.paths = dict(paths or {})

    def cap(self, path: str) -> tuple[int, str]:
        """The cap and its sentence for one path: a few uploads (bundle archives) have their own."""
        return self.paths.get(path.rstrip("/"), (self.max_bytes, self.detail))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        max_bytes, detail = self.cap(scope.get("path", ""))
        body = _BodyRead(waits_for_continue=headers.get(b"expect", b"").lower() == b"100-continue")

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] != "http.request":
                body.ended = True
                return message
            body.read += len(message.get("body", b""))
            body.ended = not message.get("more_body", False)
            if body.read > max_bytes:
                raise HTTPException(413, detail)
            return message

        async def send_after_the_body(message: Message) -> None:
            if message["type"] == "http.response.start" and body.must_discard():
                body.ended = True
                await discard_body(receive)
            await send(message)

        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(send_after_the_body, detail)
            return
        await self.app(scope, counting_receive, send_after_the_body)

    async def _refuse(self, send: Send, detail: str) -> None:
        body = json.dumps({"error": "too_large", "detail": detail, "fields": []}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
