"""The deployment the browser tests sign in to: real `grader serve` and `grader worker` processes on a fresh Postgres
database and a Redis database of our own, with one course whose `layers` assignment holds graded submissions."""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.api.conftest import redis_url
from tests.api.stack import ApiStack, FakeLmsServer, api_stack
from tests.conftest import EXAMPLE_SOLUTION, REPO_ROOT, SUBMISSIONS
from tests.stack.processes import wait_until

# Two browser runs on one Redis database would take each other's messages; a second run picks another one.
BROWSER_REDIS_DB = int(os.environ.get("GRADER_TEST_BROWSER_REDIS_DB", "11"))
SECRET = "browser-passback-secret-5e4d3c2b1a09"
COURSE = "cs249r-browser"
ASSIGNMENT = "layers"
HOSTILE = REPO_ROOT / "tests" / "data" / "hostile"
# Each student's files in submission order: ada and carol submit twice, a better file first, so latest != best;
# frank and grace edit or delete the locked matmul test (integrity flags on their only, hence latest, submission);
# ivan's flags are on his older submission only: his latest one is clean.
SUBMITTED: dict[str, list[Path]] = {
    "ada": [EXAMPLE_SOLUTION, SUBMISSIONS / "bias_ignored.py"],
    "bob": [SUBMISSIONS / "wrong_matmul_index.py"],
    "carol": [SUBMISSIONS / "missing_shape_check.py", SUBMISSIONS / "syntax_error.py"],
    "dave": [SUBMISSIONS / "bias_ignored.py"],
    "erin": [SUBMISSIONS / "syntax_error.py"],
    "frank": [HOSTILE / "locked_body_pass.py"],
    "grace": [HOSTILE / "locked_deleted.py"],
    "heidi": [EXAMPLE_SOLUTION],
    "ivan": [HOSTILE / "locked_duplicated.py", EXAMPLE_SOLUTION],
}
# heidi's LMS asked for her score back: her submission page offers to send it again.
CALLBACK_STUDENT = "heidi"
# Plain http in tests: the dashboard's session cookie may not demand https here.
EXTRA_ENV = {"GRADER_SUBMIT_BURST": "100", "GRADER_DASHBOARD_COOKIE_SECURE": "false"}


@dataclass
class Deployment:
    """A running stack with its course, its two tokens and the submission ids of each student, oldest first."""

    stack: ApiStack
    lms: FakeLmsServer
    instructor_token: str
    lms_token: str
    submissions: dict[str, list[str]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.stack.api_url

    def client(self) -> httpx.Client:
        """An API client with the instructor's bearer token."""
        return httpx.Client(base_url=self.url, timeout=30,
                            headers={"Authorization": f"Bearer {self.instructor_token}"})

    def api(self, path: str, **params: str) -> Any:
        """GET an /api/v1 path as the instructor; the JSON body of a 200."""
        with self.client() as client:
            response = client.get(f"/api/v1{path}", params=params)
        assert response.status_code == 200, f"GET /api/v1{path}: {response.status_code} {response.text[:500]}"
        return response.json()

    def api_bytes(self, path: str, **params: str) -> bytes:
        with self.client() as client:
            response = client.get(f"/api/v1{path}", params=params)
        assert response.status_code == 200, f"GET /api/v1{path}: {response.status_code} {response.text[:500]}"
        return response.content


def _token(stack: ApiStack, role: str) -> str:
    return stack.run("tokens", "create", "--course", COURSE, "--role", role).strip().splitlines()[-1]


def _submit(client: httpx.Client, deployment: Deployment, student: str, number: int, path: Path) -> str:
    data = {"assignment": ASSIGNMENT, "student": student, "external_id": f"{student}-{number}"}
    if student == CALLBACK_STUDENT:
        data["callback_url"] = deployment.lms.url(f"/callback/{student}")
    response = client.post("/api/v1/submissions", headers={"Authorization": f"Bearer {deployment.lms_token}"},
                           data=data, files={"file": ("layers_dev.py", path.read_bytes())})
    assert response.status_code == 202, f"submitting {path.name} for {student}: {response.text[:500]}"
    return str(response.json()["id"])


def _seed(deployment: Deployment) -> None:
    """First submissions of everyone, then the second ones, so each student's second is the newer one."""
    rounds = max(len(files) for files in SUBMITTED.values())
    with httpx.Client(base_url=deployment.url, timeout=30) as client:
        for number in range(rounds):
            for student, files in SUBMITTED.items():
                if number < len(files):
                    submission_id = _submit(client, deployment, student, number, files[number])
                    deployment.submissions.setdefault(student, []).append(submission_id)
            time.sleep(0.05)
    _wait_graded(deployment, [sid for ids in deployment.submissions.values() for sid in ids])


def _wait_graded(deployment: Deployment, submission_ids: list[str]) -> None:
    pending = set(submission_ids)

    def all_graded() -> bool:
        deployment.stack.check_alive()
        with deployment.client() as client:
            for submission_id in sorted(pending):
                view = client.get(f"/api/v1/submissions/{submission_id}").json()
                assert view.get("status") != "error", f"submission {submission_id} ended error: {view}"
                if view.get("status") == "graded":
                    pending.discard(submission_id)
        return not pending

    wait_until(all_graded, timeout_s=240, what=f"submissions {sorted(pending)} were not all graded", poll_s=1.0)


@contextmanager
def seeded_deployment(admin_url: str, log_dir: Path) -> Iterator[Deployment]:
    """`grader serve` and a two-process `grader worker` (warm sandbox pool) with every submission graded."""
    with api_stack(admin_url, log_dir, broker_url=redis_url(BROWSER_REDIS_DB), secret=SECRET,
                   extra_env=EXTRA_ENV) as stack:
        stack.run("courses", "create", COURSE)
        lms = FakeLmsServer(SECRET)
        try:
            deployment = Deployment(stack=stack, lms=lms, instructor_token=_token(stack, "instructor"),
                                    lms_token=_token(stack, "lms"))
            stack.start_all(concurrency=2)
            _seed(deployment)
            yield deployment
        finally:
            lms.close()
