"""Processes a stack test owns: its own Redis, `grader worker`/`grader beat`, and a TCP proxy it can cut."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import redis

GRADER = [sys.executable, "-m", "grader"]
REDIS_SERVER = "redis-server"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], *, timeout_s: float, what: str, poll_s: float = 0.2) -> None:
    """Poll `condition()` until true; a stack that does not come up is a failure, never a skip."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll_s)
    raise AssertionError(f"{what} within {timeout_s:.0f} s")


def stop_group(process: subprocess.Popen[bytes], *, grace_s: float = 15.0) -> None:
    """SIGTERM the process group (warm shutdown), then SIGKILL whatever is left."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=grace_s)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@dataclass(kw_only=True)
class GraderProcesses:
    """`grader` subprocesses of one test, each in its own process group logging to <name>.log; `env` is what
    every one of them sees."""

    log_dir: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def run(self, *args: str) -> str:
        """A one-shot `grader` command; its stdout, or the failure with its output."""
        done = subprocess.run([*GRADER, *args], env=self.env, capture_output=True, text=True, timeout=60,
                              cwd=self.log_dir)
        assert done.returncode == 0, f"grader {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}"
        return done.stdout

    def start(self, name: str, *args: str, on: Sequence[str] = (),
              env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        """`on` prefixes the command (e.g. `ip netns exec <host>`); `env` adds to the shared environment."""
        with (self.log_dir / f"{name}.log").open("ab") as log:
            process = subprocess.Popen([*on, *GRADER, *args], env={**self.env, **(env or {})}, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True, cwd=self.log_dir)
        self.processes[name] = process
        return process

    def stop(self, name: str) -> None:
        """A warm shutdown of one process group (SIGTERM, then SIGKILL); it is no longer expected to be alive."""
        stop_group(self.processes.pop(name))

    def check_alive(self) -> None:
        """A process that exited on its own fails the test at once, with the end of its log."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise AssertionError(f"{name} exited with {process.returncode}:\n{tail}")

    def stop_all(self) -> None:
        """SIGTERM every group first, so they shut down together, then wait for each (SIGKILL what is left)."""
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            stop_group(process)


class RedisServer:
    """A throwaway Redis with no persistence: stopping it and starting it again loses every message."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.log_path = log_dir / f"redis-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _ping(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self._ping, timeout_s=15, what=f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process, grace_s=5)
            self.process = None


class TcpProxy:
    """Forwards a local port to Postgres; `refuse()` cuts every connection and refuses new ones until `accept()`."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()

    def accept(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._serve, args=(listener,), daemon=True).start()

    def refuse(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.close()
        with self.lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self.connections.clear()

    def _serve(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        for side in (source, sink):
            with contextlib.suppress(OSError):
                side.shutdown(socket.SHUT_RDWR)
