"""Real processes for end-to-end API tests: `grader serve`, `grader worker`, the passback relay, and a local LMS."""

import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import redis

from grader.db import make_engine
from grader.migrate import upgrade
from tests.conftest import create_postgres_database, drop_postgres_database
from tests.stack.processes import GraderProcesses, free_port, wait_until


@dataclass(frozen=True)
class Callback:
    """One request the LMS received, with whether its signature verified and what the LMS answered."""

    path: str
    body: dict[str, object]
    signature_ok: bool
    answered: int


class FakeLmsServer:
    """A local LMS that verifies every callback's signature; `fail_first[path]` answers 500 that many times."""

    def __init__(self, secret: str, fail_first: dict[str, int] | None = None) -> None:
        self.secret = secret.encode()
        self.fail_first = dict(fail_first or {})
        self.received: list[Callback] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def _verify(self, timestamp: str, body: bytes, signature: str) -> bool:
        expected = hmac.new(self.secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300
        return fresh and hmac.compare_digest(signature, f"sha256={expected}")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        lms = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ok = lms._verify(self.headers.get("X-Grader-Timestamp", ""), body,
                                 self.headers.get("X-Grader-Signature", ""))
                with lms.lock:
                    failing = lms.fail_first.get(self.path, 0) > 0
                    if failing:
                        lms.fail_first[self.path] -= 1
                    status = 500 if failing else (200 if ok else 401)
                    lms.received.append(Callback(self.path, json.loads(body or b"{}"), ok, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                return

        return Handler

    def accepted(self, path: str) -> list[Callback]:
        with self.lock:
            return [c for c in self.received if c.path == path and c.answered == 200]

    def attempts(self, path: str) -> list[Callback]:
        with self.lock:
            return [c for c in self.received if c.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass(kw_only=True)
class ApiStack(GraderProcesses):
    """The processes of one deployment: the API, a worker and the passback relay."""

    database_url: str
    api_port: int = field(default_factory=free_port)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start_all(self, *, concurrency: int = 2, relay_interval_s: float = 0.2) -> None:
        self.start("worker", "worker", "--concurrency", str(concurrency), "--hostname", "api-e2e@%h")
        self.start("relay", "passback", "relay", "--interval", str(relay_interval_s))
        self.start("api", "serve", "--host", "127.0.0.1", "--port", str(self.api_port))
        wait_until(self._api_ready, timeout_s=60, what=f"the API did not answer on {self.api_url}/readyz")

    def _api_ready(self) -> bool:
        self.check_alive()
        try:
            return httpx.get(f"{self.api_url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False


@contextmanager
def api_stack(admin_url: str, log_dir: Path, *, broker_url: str, secret: str,
              extra_env: dict[str, str] | None = None) -> Iterator[ApiStack]:
    """A migrated fresh database and an emptied Redis database of our own; every process stopped at the end."""
    url = create_postgres_database(admin_url)
    engine = make_engine(url)
    stack: ApiStack | None = None
    try:
        upgrade(engine)
        redis.Redis.from_url(broker_url).flushdb()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
        env.update(GRADER_DATABASE_URL=url, GRADER_BROKER_URL=broker_url, GRADER_HOME=str(log_dir / "home"),
                   GRADER_PASSBACK_SECRET=secret, GRADER_PASSBACK_ALLOWED_NETWORKS='["127.0.0.0/8"]',
                   **(extra_env or {}))
        stack = ApiStack(database_url=url, log_dir=log_dir, env=env)
        yield stack
    finally:
        if stack is not None:
            stack.stop_all()
        engine.dispose()
        drop_postgres_database(admin_url, url)
