"""The LMS end of grade passback, on the host: records every callback and checks its signature over the raw body."""

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Callback:
    body: dict[str, Any]
    signature_valid: bool


@dataclass
class Receiver:
    """Callbacks received so far, by submission id."""

    secret: bytes
    url: str = ""
    received: list[Callback] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, headers: Any, raw: bytes) -> None:
        timestamp = headers.get("X-Grader-Timestamp", "")
        expected = hmac.new(self.secret, timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(headers.get("X-Grader-Signature", ""), f"sha256={expected}")
        with self.lock:
            self.received.append(Callback(body=json.loads(raw), signature_valid=valid))

    def by_submission(self) -> dict[str, list[Callback]]:
        with self.lock:
            found: dict[str, list[Callback]] = {}
            for callback in self.received:
                found.setdefault(str(callback.body.get("submission_id")), []).append(callback)
            return found


@contextmanager
def callback_receiver(address: str, secret: str) -> Iterator[Receiver]:
    """An HTTP server on `address` (the host's address on the stack's network), stopped on exit."""
    receiver = Receiver(secret=secret.encode())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.record(self.headers, raw)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((address, 0), Handler)
    receiver.url = f"http://{address}:{server.server_address[1]}/grader/callback"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
