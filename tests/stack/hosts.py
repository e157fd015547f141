"""Several hosts on one machine: network namespaces on a private LAN, with Redis and Postgres on a services host.

The services host holds a bridge (the LAN's switch) with 10.213.0.1/24; every other host is a namespace with one
veth whose far end is a port of that bridge. Only addresses made here, inside these namespaces, are used: nothing
is configured in the machine's own namespace, so runs in parallel never see each other. The test itself reaches
the services through their Unix sockets (a file system path is not namespaced); workers reach them over the LAN.
"""

import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg
import redis

from tests.stack.processes import REDIS_SERVER, RedisServer, stop_group, wait_until

SUBNET = "10.213.0"
SERVICES_ADDRESS = f"{SUBNET}.1"


def postgres_bin() -> Path:
    """Debian keeps initdb and postgres out of PATH, under the major version."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    assert found, "PostgreSQL server binaries are missing (.ci/setup services installs them)"
    return found[-1].parent


def ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"ip {' '.join(args)}: {done.stderr.strip()}"


class Lan:
    """The namespaces of one test; `close()` deletes every one (and with them their veths and bridge)."""

    def __init__(self) -> None:
        self.tag = f"gt{uuid.uuid4().hex[:6]}"
        self.services = f"{self.tag}-svc"
        self.hosts: dict[str, str] = {}
        self.namespaces: list[str] = []

    def _namespace(self, name: str) -> str:
        ip("netns", "add", name)
        self.namespaces.append(name)
        ip("-n", name, "link", "set", "lo", "up")
        return name

    def start(self) -> None:
        self._namespace(self.services)
        ip("-n", self.services, "link", "add", "br0", "type", "bridge")
        ip("-n", self.services, "addr", "add", f"{SERVICES_ADDRESS}/24", "dev", "br0")
        ip("-n", self.services, "link", "set", "br0", "up")

    def add_host(self, name: str) -> list[str]:
        """A new namespace plugged into the switch; returns the prefix that runs a command on it."""
        namespace = self._namespace(f"{self.tag}-{name}")
        address = f"{SUBNET}.{10 + len(self.hosts)}"
        ip("-n", self.services, "link", "add", self.port(name), "type", "veth", "peer", "name", "eth0",
           "netns", namespace)
        ip("-n", self.services, "link", "set", self.port(name), "master", "br0", "up")
        ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
        ip("-n", namespace, "link", "set", "eth0", "up")
        self.hosts[name] = namespace
        return self.on(name)

    @staticmethod
    def port(name: str) -> str:
        return f"p-{name}"[:15]

    def on(self, name: str) -> list[str]:
        namespace = self.services if name == "services" else self.hosts[name]
        return ["ip", "netns", "exec", namespace]

    def cut(self, name: str) -> None:
        """Pull the host's cable at the switch: its packets vanish, nobody is told."""
        ip("-n", self.services, "link", "set", self.port(name), "down")

    def mend(self, name: str) -> None:
        ip("-n", self.services, "link", "set", self.port(name), "up")

    def close(self) -> None:
        for namespace in reversed(self.namespaces):
            with contextlib.suppress(AssertionError):
                ip("netns", "del", namespace)
        self.namespaces.clear()


class ServicesRedis(RedisServer):
    """Redis on the services host: the LAN address for workers, a Unix socket for the test. Protected mode is off
    because the LAN is the test's own and workers come from other addresses, as a real worker host does."""

    def __init__(self, lan: Lan, log_dir: Path) -> None:
        super().__init__(log_dir)
        self.lan = lan
        self.socket = log_dir / "redis.sock"
        self.lan_url = f"redis://{SERVICES_ADDRESS}:6379/0"

    @property
    def url(self) -> str:
        return f"redis+socket://{self.socket}"

    def _ping(self) -> bool:
        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket), socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*self.lan.on("services"), REDIS_SERVER, "--port", "6379", "--bind", SERVICES_ADDRESS,
                 "--unixsocket", str(self.socket), "--unixsocketperm", "700", "--protected-mode", "no",
                 "--save", "", "--appendonly", "no"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self._ping, timeout_s=30, what="redis-server on the services host did not answer")


class ServicesPostgres:
    """A Postgres cluster of our own (initdb into a temp folder, run as the `postgres` user) on the services host,
    trusting only the LAN."""

    def __init__(self, lan: Lan, log_dir: Path) -> None:
        self.lan = lan
        self.log_path = log_dir / "postgres.log"
        self.dir = Path(tempfile.mkdtemp(prefix="grader-hosts-pg-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def local_url(self) -> str:
        return f"postgresql+psycopg://postgres@/postgres?host={self.dir}"

    @property
    def lan_url(self) -> str:
        return f"postgresql+psycopg://postgres@{SERVICES_ADDRESS}:5432/postgres"

    def _as_postgres(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args]

    def start(self) -> None:
        shutil.chown(self.dir, user="postgres", group="postgres")
        data = self.dir / "data"
        done = subprocess.run(self._as_postgres(str(postgres_bin() / "initdb"), "-D", str(data), "-U", "postgres",
                                                "--auth=trust", "--no-sync"),
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, f"initdb failed: {done.stderr[-2000:]}"
        with (data / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {SUBNET}.0/24 trust\n")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*self.lan.on("services"), *self._as_postgres(
                    str(postgres_bin() / "postgres"), "-D", str(data), "-c", f"listen_addresses={SERVICES_ADDRESS}",
                    "-c", f"unix_socket_directories={self.dir}", "-c", "fsync=off", "-c", "max_connections=200")],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self._ready, timeout_s=60, what="postgres on the services host did not accept connections")

    def _ready(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.log_path.read_text()[-2000:]
        try:
            with psycopg.connect(host=str(self.dir), user="postgres", dbname="postgres", connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process, grace_s=15)
            self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)


def namespaces_available() -> None:
    """The test needs root (CAP_NET_ADMIN) and iproute2; without them it fails, saying so."""
    assert os.geteuid() == 0, "tests/stack/test_hosts.py makes network namespaces: run it as root"
    assert shutil.which("ip"), "iproute2 is missing (.ci/setup services installs it)"
