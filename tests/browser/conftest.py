"""Browser fixtures: one seeded deployment and one headless Debian Chromium per session, a fresh context per test,
and a screenshot of every page visited (and of the page a test failed on) under the test run's output."""

import contextlib
import os
import re
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
import redis
from playwright.sync_api import Browser, Error, Page, Playwright, sync_playwright

from tests.api.conftest import redis_url
from tests.browser.deployment import BROWSER_REDIS_DB, Deployment, seeded_deployment
from tests.browser.pages import Dashboard
from tests.conftest import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
OUTPUT_ENV = "GRADER_TEST_OUTPUT"
SHOT_NAME = re.compile(r"^\d{2,}-.+\.png$")
_FAILED = pytest.StashKey[bool]()


def screenshot_dir() -> Path:
    """`$GRADER_TEST_OUTPUT` when the run names its output folder, else test-output/browser in the repository."""
    configured = os.environ.get(OUTPUT_ENV, "").strip()
    return Path(configured) if configured else REPO_ROOT / "test-output" / "browser"


class Screenshots:
    """Numbers every full-page screenshot of the session: `NN-<test>-<page>.png`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.taken = 0
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            if old.is_file() and SHOT_NAME.match(old.name):
                old.unlink()

    def take(self, page: Page, test: str, name: str) -> Path:
        self.taken += 1
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{test}-{name}").strip("-")
        path = self.folder / f"{self.taken:02d}-{slug}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


_screenshots: list[Screenshots] = []


@pytest.fixture(scope="session")
def screenshots() -> Screenshots:
    taken = Screenshots(screenshot_dir())
    _screenshots.append(taken)
    return taken


@pytest.fixture(scope="session")
def deployment(postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Started once for every browser test: Postgres, Redis, `grader serve`, `grader worker`, graded submissions."""
    if shutil.which("bwrap") is None:
        pytest.fail("bubblewrap (bwrap) is required to grade the seeded submissions: run `bash .ci/setup`")
    broker = redis_url(BROWSER_REDIS_DB)
    try:
        redis.Redis.from_url(broker, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is required at {broker} (GRADER_TEST_REDIS_URL; start it with .ci/services): {exc}")
    with seeded_deployment(postgres_server_url, tmp_path_factory.mktemp("browser-stack")) as built:
        yield built


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    started = sync_playwright().start()
    yield started
    started.stop()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, never a downloaded one; missing, the tests fail (CI must notice), they never skip."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium with `bash .ci/setup services browser`")
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    try:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
    except Error as exc:
        pytest.fail(f"{CHROMIUM} did not start under Playwright: {exc}")
    yield launched
    launched.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_FAILED] = True
    return report


@pytest.fixture
def dashboard(request: pytest.FixtureRequest, browser: Browser, deployment: Deployment,
              screenshots: Screenshots) -> Iterator[Dashboard]:
    """A fresh browser context (no cookies) for each test; its last page is photographed when the test fails."""
    context = browser.new_context(base_url=deployment.url, accept_downloads=True,
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    test_name = request.node.name.removeprefix("test_")
    driver = Dashboard(context=context, deployment=deployment,
                       shoot=lambda page, name: screenshots.take(page, test_name, name))
    try:
        yield driver
    finally:
        if request.node.stash.get(_FAILED, False):
            for page in context.pages:
                with contextlib.suppress(Error):
                    screenshots.take(page, test_name, "FAILED")
        context.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for taken in _screenshots:
        if taken.taken:
            terminalreporter.write_line(f"browser screenshots ({taken.taken}): {taken.folder}")
