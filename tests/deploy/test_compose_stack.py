"""docker-compose.yml started for real: the image built from the Dockerfile, every service up and healthy, a batch
of 50 submissions through the API container with signed callbacks to the host, a worker container killed
mid-batch, the sandbox's network and memory inside the worker container, and the data kept across down/up.

The truth is read from the stack's Postgres (from the host, at its address on the stack network), never from
logs. The tests share one stack and run in file order; the last one takes it down.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml

from tests.conftest import EXAMPLE_SOLUTION
from tests.deploy.compose import WORKERS, Stack
from tests.deploy.daemon import STACK_GATEWAY
from tests.deploy.lms import Receiver, callback_receiver
from tests.stack.stack import RUBRIC_ITEMS

SUBMISSIONS = Path(__file__).parent.parent / "data" / "submissions"
BATCH = 50
COURSE = "deploy-course"
KILL_AFTER_GRADED = 12
KILL_TRIES = 5
WAIT_S = 900
IMPORT_LINE = "from typing import Union, List, Tuple, Optional\n"
pytestmark = pytest.mark.timeout(3600)


def expected_scores() -> dict[Path, float | None]:
    """Samples with their expected score (expected.yaml); the example solution scores max_score (None here)."""
    listed = yaml.safe_load((SUBMISSIONS / "expected.yaml").read_text())
    scores: dict[Path, float | None] = {SUBMISSIONS / name: float(entry["score"])
                                        for name, entry in listed.items() if "score" in entry}
    scores[EXAMPLE_SOLUTION] = None
    assert len(scores) >= 5
    return scores


def with_code_after_imports(code: str) -> bytes:
    """The example solution with `code` run at import, in the notebook's own imports cell."""
    source = EXAMPLE_SOLUTION.read_text()
    assert IMPORT_LINE in source
    return source.replace(IMPORT_LINE, IMPORT_LINE + code, 1).encode()


def query(stack: Stack, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(stack.database_url(), connect_timeout=10) as connection:
        return connection.execute(sql, params).fetchall()


def run_counts(stack: Stack) -> dict[str, int]:
    return dict(query(stack, "SELECT status, count(*) FROM grading_runs GROUP BY status"))  # type: ignore[arg-type]


def wait_for(condition: Any, *, what: str, timeout_s: float = WAIT_S, poll_s: float = 1.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def cli(stack: Stack, *argv: str) -> str:
    """The grader CLI inside the api container, as an operator runs it."""
    return stack.exec("api", "grader", *argv)


def submit(client: httpx.Client, token: str, content: bytes, *, external_id: str, callback_url: str) -> str:
    response = client.post("/api/v1/submissions", headers={"Authorization": f"Bearer {token}"},
                           files={"file": ("layers_dev.py", content)},
                           data={"assignment": "layers", "student": f"student-{external_id}",
                                 "external_id": external_id, "callback_url": callback_url})
    assert response.status_code == 202, response.text
    submission_id: str = response.json()["id"]
    return submission_id


def wait_graded(client: httpx.Client, token: str, submission_id: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def graded() -> bool:
        found.update(client.get(f"/api/v1/submissions/{submission_id}",
                                headers={"Authorization": f"Bearer {token}"}).json())
        return found.get("status") in ("graded", "error")

    wait_for(graded, what=f"submission {submission_id} to be graded", timeout_s=600)
    return found


@pytest.fixture(scope="module")
def tokens(stack: Stack) -> dict[str, str]:
    """A course and its lms and instructor tokens, made with `docker compose exec` of the CLI."""
    cli(stack, "courses", "create", COURSE)
    lms = cli(stack, "tokens", "create", "--course", COURSE, "--role", "lms", "--label", "deploy-test").split()[-1]
    staff = cli(stack, "tokens", "create", "--course", COURSE, "--role", "instructor").split()[-1]
    assert lms.startswith("tg_") and staff.startswith("tg_")
    return {"lms": lms, "instructor": staff}


@pytest.fixture(scope="module")
def receiver(stack: Stack) -> Any:
    with callback_receiver(STACK_GATEWAY, stack.passback_secret) as lms:
        yield lms


@pytest.fixture(scope="module")
def client(stack: Stack) -> Any:
    with httpx.Client(base_url=stack.api_url, timeout=30) as http:
        assert http.get("/readyz").json() == {"status": "ready", "database": "ok", "broker": "ok"}
        yield http


def runs_in_flight_on(stack: Stack, container: dict[str, Any]) -> set[str]:
    """Runs claimed and not finished by the Celery node of this container (named after its hostname)."""
    node = f"celery@{container['Config']['Hostname']}"
    return {run_id for (run_id,) in query(stack, "SELECT id FROM grading_runs WHERE status = 'running' "
                                                 "AND worker = %s", node)}


def kill_a_worker_with_a_run_in_flight(stack: Stack) -> tuple[str, set[str]]:
    """`docker kill` a worker container once KILL_AFTER_GRADED runs are graded and it has a run in flight; the runs
    it held when it died (read after the kill). A run can finish between the look and the kill: then the
    container is started again and the next one is tried, so the test always kills a worker mid-run.
    Returns the killed container's id and those runs."""
    victim: dict[str, Any] = {}

    def in_flight() -> bool:
        victim.clear()
        if run_counts(stack).get("graded", 0) < KILL_AFTER_GRADED:
            return False
        for container in stack.containers("worker"):
            if container["State"]["Running"] and runs_in_flight_on(stack, container):
                victim.update(container)
                return True
        return False

    for _ in range(KILL_TRIES):
        wait_for(in_flight, what=f"{KILL_AFTER_GRADED} graded and a run in flight on a worker container",
                 poll_s=0.2)
        stack.docker.run("kill", victim["Id"])
        orphans = runs_in_flight_on(stack, victim)
        if orphans:
            return victim["Id"], orphans
        stack.docker.run("start", victim["Id"])
    raise AssertionError(f"no worker container was caught with a run in flight in {KILL_TRIES} tries")


def test_a_batch_is_graded_once_each_with_signed_callbacks_though_a_worker_container_is_killed(
        stack: Stack, tokens: dict[str, str], receiver: Receiver, client: httpx.Client) -> None:
    scores = expected_scores()
    samples = sorted(scores)
    started = time.monotonic()
    expected: dict[str, float | None] = {}

    def post_batch() -> float:
        for index in range(BATCH):
            sample = samples[index % len(samples)]
            submission_id = submit(client, tokens["lms"], sample.read_bytes(), external_id=f"batch-{index}",
                                   callback_url=receiver.url)
            expected[submission_id] = scores[sample]
        return time.monotonic() - started

    with ThreadPoolExecutor(max_workers=1) as poster:
        posting = poster.submit(post_batch)  # the kill comes while the batch is still arriving
        killed, orphans = kill_a_worker_with_a_run_in_flight(stack)
        killed_at = time.monotonic()
        graded_at_kill = run_counts(stack).get("graded", 0)
        posted_s = posting.result()

    def all_finished() -> bool:
        counts = run_counts(stack)
        return counts.get("graded", 0) + counts.get("error", 0) >= BATCH

    wait_for(all_finished, what=f"all {BATCH} runs finished")
    finished_s = time.monotonic() - started
    rows = query(stack, """
        SELECT s.id, r.id, r.status, r.is_current, r.score, r.max_score, r.attempt,
               (SELECT count(*) FROM item_results i WHERE i.run_id = r.id)
        FROM submissions s JOIN grading_runs r ON r.submission_id = s.id WHERE s.course = %s""", COURSE)
    runs_per_submission: dict[str, int] = {}
    for submission_id, _, *_rest in rows:
        runs_per_submission[submission_id] = runs_per_submission.get(submission_id, 0) + 1
    assert set(runs_per_submission) == set(expected), "a submission was lost or appeared"
    assert set(runs_per_submission.values()) == {1}, "a submission got a second run"
    for submission_id, run_id, status, current, score, max_score, _attempt, items in rows:
        assert (status, current) == ("graded", True), (submission_id, status)
        assert items == RUBRIC_ITEMS, f"run {run_id} has {items} stored items: stored twice or partly"
        want = max_score if expected[submission_id] is None else expected[submission_id]
        assert score == want, f"{submission_id}: score {score}, expected {want}"
    attempts = {run_id: attempt for _, run_id, _, _, _, _, attempt, _ in rows}
    assert all(attempts[run_id] >= 2 for run_id in orphans), \
        "the killed worker's in-flight runs were claimed again by a live one"

    wait_for(lambda: len(receiver.by_submission()) >= BATCH, what="a callback for every submission", timeout_s=300)
    callbacks = receiver.by_submission()
    assert set(callbacks) == set(expected)
    assert all(callback.signature_valid for calls in callbacks.values() for callback in calls)
    stored = {submission_id: score for submission_id, _, _, _, score, *_ in rows}
    assert all(calls[-1].body["score"] == stored[submission_id] for submission_id, calls in callbacks.items())
    delivered = query(stack, "SELECT count(DISTINCT p.submission_id) FROM passbacks p JOIN submissions s "
                             "ON s.id = p.submission_id WHERE s.course = %s AND p.status = 'delivered'", COURSE)
    assert delivered[0][0] == BATCH
    stack.docker.run("start", killed)
    stack.wait_healthy()
    print(f"deploy-figures: batch={BATCH} posted_s={posted_s:.1f} graded_s={finished_s:.1f} "
          f"after_kill_s={time.monotonic() - killed_at:.1f} killed_in_flight={len(orphans)} "
          f"graded_at_kill={graded_at_kill}")


NETWORK_PROBE = """
import socket as _probe_socket
_reached = []
for _target in {targets!r}:
    try:
        _probe_socket.create_connection(_target, timeout=3).close()
        _reached.append(_target)
    except OSError:
        pass
if _reached:
    raise RuntimeError("reached " + repr(_reached))
"""


def test_every_role_but_the_worker_runs_as_the_images_unprivileged_user(stack: Stack) -> None:
    for service in ("api", "beat", "passback-relay", "flower"):
        assert stack.exec(service, "id", "-u").strip() == "10001", f"{service} runs as another user"
    assert stack.exec("worker", "id", "-u").strip() == "0"
    capabilities = stack.exec("worker", "grep", "CapEff", "/proc/1/status").split()[-1]
    allowed = (1 << 5) | (1 << 6) | (1 << 7)  # CAP_KILL, CAP_SETGID, CAP_SETUID
    assert int(capabilities, 16) == allowed, f"the worker's capabilities are {capabilities}, not KILL/SETGID/SETUID"


def test_student_code_in_a_worker_container_reaches_neither_redis_nor_postgres(
        stack: Stack, tokens: dict[str, str], receiver: Receiver, client: httpx.Client) -> None:
    targets = [(stack.ip("redis"), 6379), (stack.ip("postgres"), 5432), ("redis", 6379), ("postgres", 5432),
               (STACK_GATEWAY, int(receiver.url.split(":")[2].split("/")[0]))]
    control = stack.compose("exec", "--no-TTY", "worker", "python3.11", "-c",
                            NETWORK_PROBE.format(targets=targets[:2]), check=False)
    assert control.returncode != 0 and "reached [" in control.stderr, \
        "outside the sandbox the worker container must reach Redis and Postgres, or this test proves nothing"
    submission_id = submit(client, tokens["lms"], with_code_after_imports(NETWORK_PROBE.format(targets=targets)),
                           external_id="network-probe", callback_url=receiver.url)
    result = wait_graded(client, tokens["instructor"], submission_id)
    assert result["status"] == "graded"
    assert result["score"] == result["max_score"], \
        f"student code reached the network: {[(t['id'], t['status'], t.get('message')) for t in result['tests']]}"


MEMORY_BOMB = """
import os as _bomb_os, time as _bomb_time
_children = []
for _ in range({children}):
    try:
        _pid = _bomb_os.fork()
    except OSError:
        break
    if _pid == 0:
        try:
            _block = bytearray({mib} * 1024 * 1024)
            for _offset in range(0, len(_block), 4096):
                _block[_offset] = 1
            _bomb_time.sleep(10)
        finally:
            _bomb_os._exit(0)
    _children.append(_pid)
print("memory bomb: children", len(_children))
for _pid in _children:
    _bomb_os.waitpid(_pid, 0)
"""


def memory_cgroup(container: dict[str, Any]) -> Path:
    """The container's memory cgroup (v1), from its init process's /proc entry."""
    for line in Path(f"/proc/{container['State']['Pid']}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            cgroup = Path("/sys/fs/cgroup/memory") / path.lstrip("/")
            assert container["Id"] in path and cgroup.is_dir(), cgroup
            return cgroup
    raise AssertionError("no memory cgroup (v1) for the worker container")


def oom_kills(cgroup: Path) -> int:
    """Processes the kernel's OOM killer ended inside this cgroup so far."""
    for line in (cgroup / "memory.oom_control").read_text().splitlines():
        name, _, value = line.partition(" ")
        if name == "oom_kill":
            return int(value)
    return 0


def test_the_worker_containers_memory_limit_holds_against_a_memory_bomb(
        stack: Stack, tokens: dict[str, str], receiver: Receiver, client: httpx.Client) -> None:
    workers = [c for c in stack.containers("worker") if c["State"]["Running"]]
    assert len(workers) == WORKERS
    limit = workers[0]["HostConfig"]["Memory"]
    assert limit == 2 * 1024**3, "compose's worker mem_limit did not reach the container"
    before = {}
    for container in workers:
        cgroup = memory_cgroup(container)
        assert int((cgroup / "memory.limit_in_bytes").read_text()) == limit
        (cgroup / "memory.max_usage_in_bytes").write_text("0")
        before[container["Id"]] = oom_kills(cgroup)
    bomb = MEMORY_BOMB.format(children=10, mib=600)
    submission_id = submit(client, tokens["lms"], with_code_after_imports(bomb), external_id="memory-bomb",
                           callback_url=receiver.url)
    result = wait_graded(client, tokens["instructor"], submission_id)
    peaks = {c["Id"]: int((memory_cgroup(c) / "memory.max_usage_in_bytes").read_text()) for c in workers}
    kills = {c["Id"]: oom_kills(memory_cgroup(c)) - before[c["Id"]] for c in workers}
    assert all(peak <= limit for peak in peaks.values()), f"a worker container went past its limit: {peaks}"
    outputs = [run.get("output", "") for run in result.get("runs", [])]
    assert max(peaks.values()) >= 0.95 * limit or any(kills.values()), \
        f"the bomb (10 x 600 MiB) never reached the 2 GiB limit, so nothing was tested: {peaks} {outputs}"
    assert result["status"] in ("graded", "error")
    survivors = [c for c in stack.containers("worker") if c["State"]["Running"]]
    assert len(survivors) == WORKERS, "a worker container died of the student's memory bomb"
    after = submit(client, tokens["lms"], EXAMPLE_SOLUTION.read_bytes(), external_id="after-bomb",
                   callback_url=receiver.url)
    graded = wait_graded(client, tokens["instructor"], after)
    assert graded["status"] == "graded" and graded["score"] == graded["max_score"]
    print(f"deploy-figures: memory-bomb peak_mib={ {k[:12]: v // 2**20 for k, v in peaks.items()} } "
          f"oom_kills={ {k[:12]: v for k, v in kills.items()} } run={result['status']} score={result['score']}")


def test_data_survives_down_and_up_and_down_v_leaves_nothing(stack: Stack, tokens: dict[str, str]) -> None:
    before = query(stack, "SELECT count(*), sum(score) FROM grading_runs WHERE status = 'graded'")[0]
    volumes = stack.volumes()
    assert len(volumes) >= 3, volumes
    stack.compose("down", "--timeout", "20")
    assert not stack.containers(), "down left containers"
    assert stack.volumes() == volumes, "down without -v must keep the volumes"
    stack.up()
    stack.wait_healthy()
    assert query(stack, "SELECT count(*), sum(score) FROM grading_runs WHERE status = 'graded'")[0] == before
    with httpx.Client(base_url=stack.api_url, timeout=30) as http:
        listing = http.get("/api/v1/assignments/layers", headers={"Authorization": f"Bearer {tokens['instructor']}"})
    assert listing.status_code == 200, "the tokens made before down no longer work"
    assert listing.json()["counts"]["graded"] >= BATCH
    stack.compose("down", "--volumes", "--timeout", "20")
    assert not stack.containers() and not stack.volumes(), "down -v left containers or volumes"
    leftover = stack.docker.ids("network", "ls", "-q", "--filter", "label=com.docker.compose.project")
    assert not leftover, f"down -v left networks {leftover}"
