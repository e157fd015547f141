"""Every dashboard page (an assignment's versions page too) passes axe-core's WCAG 2.0/2.1 A and AA rules with no
violation, and the assignment page's controls are reached with Tab in reading order, each showing where the focus
is."""

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Route, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.assignments.loader import load_bundle
from grader.db import make_engine
from grader.models import GradingRun, Submission
from grader.services.assignment_versions import settle_check, store_upload
from tests.api.bundle_uploads import LINEAR, bundle_copy, report_for, tar_gz
from tests.browser.accessibility import assert_accessible
from tests.browser.deployment import ASSIGNMENT, CALLBACK_STUDENT, COURSE
from tests.browser.pages import Dashboard
from tests.stack.processes import wait_until

ENDED_STATES = re.compile(r"^(done|cancelled)$")
REGRADE_TIMEOUT_MS = 240_000
CHECK_TIMEOUT_S = 300
ERROR_STUDENT = "erin"
TAB_LIMIT = 80
# Made-up messages shaped like a failed probe's (whose random values make the real ones' lengths vary by run).
MESSAGE_CANDIDATES = 400
# Every rubric item's message box gets the first text; then the hidden-dense-forward box tries each text in turn. It
# keeps the first one that puts a fragment of its text in the last pixel column of its box (where axe, which floors
# coordinates, finds the text outside its element), else the first, and returns that index and every fragment that
# stuck out of its box.
TRY_MESSAGES = """(texts) => {
  const boxes = [...document.querySelectorAll("table#items td > .message")];
  boxes.forEach((box) => { box.textContent = texts[0]; });
  const box = document.querySelector('tr[data-item="hidden-dense-forward"] td > .message');
  let chosen = null;
  const outside = [];
  texts.forEach((text, i) => {
    box.textContent = text;
    const outer = box.getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(box);
    for (const r of range.getClientRects()) {
      if (r.width < 1 || r.height < 1) { continue; }
      const x = r.left + r.width / 2;
      if (chosen === null && x < outer.right && Math.floor(x) >= Math.floor(outer.right)) { chosen = i; }
      if (r.left < outer.left - 0.5 || r.right > outer.right + 0.5) {
        outside.push(`text ${i}: ${r.left.toFixed(2)}..${r.right.toFixed(2)}, box ${outer.left.toFixed(2)}..` +
                     `${outer.right.toFixed(2)}`);
      }
    }
  });
  box.textContent = texts[chosen ?? 0];
  return { chosen: chosen, outside: outside };
}"""
# The assignment page's controls in reading order; each sort link is named by its column.
CONTROLS = ("q", "only-flagged", "sort:student", "sort:latest", "sort:best", "sort:submissions", "sort:flags",
            "sort:errors", "export-csv", "scope", "preview", "regrade")
# What has the focus: its id, a sort link's column, or the regrade form's submit button.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) { return null; }
  if (el.dataset.sort) { return "sort:" + el.dataset.sort; }
  if (el.matches("#regrade-form [type=submit]")) { return "regrade"; }
  return el.id || el.tagName.toLowerCase();
}"""
# Whether the focused element matches :focus-visible and draws an outline or a shadow for it.
FOCUS_SHOWN = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  return { visible: el.matches(":focus-visible"), outline: outline, shadow: style.boxShadow !== "none" };
}"""


def _audit(dashboard: Dashboard, page: Page, path: str, name: str) -> None:
    dashboard.visit(page, path, name)
    assert_accessible(page, name)


def _latest(dashboard: Dashboard, student: str) -> str:
    rows = dashboard.deployment.api(f"/assignments/{ASSIGNMENT}/scores")["students"]
    [row] = [row for row in rows if row["student"] == student]
    return str(row["latest_submission_id"])


def _add_an_error_run(dashboard: Dashboard, submission_id: str) -> str:
    """An older, non-current run that ended in an internal error, as a crashed sandbox leaves one: the seed has none,
    and the submission page then offers Retry. Queued before the real run, it changes no status or score."""
    engine = make_engine(dashboard.deployment.stack.database_url)
    try:
        with Session(engine) as session, session.begin():
            submitted = session.scalar(select(Submission.created_at).where(Submission.id == submission_id))
            assert submitted is not None, submission_id
            run = GradingRun(submission_id=submission_id, rubric_version="older-rubric", status="error",
                             is_current=False, queued_at=submitted + timedelta(microseconds=1),
                             error="the sandbox did not start (left by the accessibility test)")
            session.add(run)
            session.flush()
            return run.id
    finally:
        engine.dispose()


def _publish_through_the_worker(dashboard: Dashboard, folder: Path) -> str:
    """Upload a bundle over the API; the deployment's real worker checks it in the sandbox and publishes it."""
    with dashboard.deployment.client() as client:
        response = client.post("/api/v1/assignments", files={"bundle": (f"{folder.name}.tar.gz", tar_gz(folder))})
        assert response.status_code == 202, response.text
        location = response.headers["location"]

        def settled() -> bool:
            return bool(client.get(location).json()["status"] != "checking")

        wait_until(settled, timeout_s=CHECK_TIMEOUT_S, what=f"the worker never settled {location}")
        version = client.get(location).json()
    assert version["status"] == "published" and version["check"]["passed"], version
    return str(version["id"])


def _store_a_flaky_rejected_version(dashboard: Dashboard, folder: Path) -> str:
    """A version whose stored check found a flaky test and one that tests nothing, and failed: the page's badges."""
    engine = make_engine(dashboard.deployment.stack.database_url)
    try:
        with Session(engine) as session, session.begin():
            version = store_upload(session, course=COURSE, bundle_bytes=tar_gz(folder), archive_name="flaky.tar.gz",
                                   published_by="the accessibility test", force=False)
            report = report_for(load_bundle(folder), passed=False, flaky="test-linear",
                                tests_nothing="test-linear-edge-cases")
            settle_check(session, version_id=version.id, report=report)  # type: ignore[arg-type]
            return version.id
    finally:
        engine.dispose()


def test_versions_page_passes_axe(dashboard: Dashboard, tmp_path: Path) -> None:
    published = _publish_through_the_worker(dashboard, bundle_copy(tmp_path / "good", title="Linear, published"))
    rejected = _store_a_flaky_rejected_version(dashboard, bundle_copy(tmp_path / "flaky", title="Linear, flaky"))
    page = dashboard.sign_in()
    page.get_by_role("link", name=f"Versions of {LINEAR}").click()
    page.wait_for_url(f"**/dashboard/assignments/{LINEAR}/versions")
    expect(page.locator(f"tr[data-version='{published}']")).to_have_attribute("data-status", "published")
    expect(page.locator(f"tr[data-version='{rejected}']")).to_have_attribute("data-status", "rejected")
    expect(page.locator(f"section#check-{rejected} tr.flaky[data-item=test-linear]")).to_have_count(1)
    dashboard.shoot(page, "versions")
    assert_accessible(page, "versions")
    _audit(dashboard, page, f"/dashboard/assignments/{ASSIGNMENT}/versions", "versions-none-uploaded")


def test_sign_in_pages_pass_axe(dashboard: Dashboard) -> None:
    page = dashboard.new_page()
    _audit(dashboard, page, "/dashboard/login", "login")
    page.get_by_label("Instructor token").fill("tg_" + "x" * 43)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("p#login-error[role=alert]")).to_be_visible()
    dashboard.shoot(page, "login-refused")
    assert_accessible(page, "login with an error")
    _audit(dashboard, dashboard.new_page(), f"/dashboard/login?next=/dashboard/assignments/{ASSIGNMENT}",
           "login-with-next")


def test_assignment_pages_pass_axe(dashboard: Dashboard) -> None:
    page = dashboard.sign_in()
    assert_accessible(page, "assignments")
    path = f"/dashboard/assignments/{ASSIGNMENT}"
    _audit(dashboard, page, path, "assignment")
    _audit(dashboard, page, f"{path}?q=ada", "assignment-searched")
    _audit(dashboard, page, f"{path}?q=nobody", "assignment-no-match")
    dashboard.open_assignment(page)
    page.get_by_role("link", name="Only flagged").click()
    page.wait_for_url(re.compile(r"[?&]flagged=1"))
    assert_accessible(page, "assignment, only flagged")
    for direction in ("first", "second"):
        page.locator("table#students a[data-sort=best]").click()
        expect(page.locator("table#students th:has(a[data-sort=best])")).to_have_attribute(
            "aria-sort", re.compile(r"^(ascending|descending)$"))
        dashboard.shoot(page, f"sorted-{direction}")
        assert_accessible(page, f"assignment sorted by best, {direction} click")


def test_error_page_passes_axe(dashboard: Dashboard) -> None:
    page = dashboard.sign_in()
    response = page.goto("/dashboard/submissions/no-such-submission")
    assert response is not None and response.status == 404, response and response.status
    dashboard.shoot(page, "not-found")
    assert_accessible(page, "a 404 page")


def test_submission_pages_pass_axe(dashboard: Dashboard) -> None:
    page = dashboard.sign_in()
    erin = _latest(dashboard, ERROR_STUDENT)
    run_id = _add_an_error_run(dashboard, erin)
    for student in ("frank", "ada", CALLBACK_STUDENT):
        _audit(dashboard, page, f"/dashboard/submissions/{_latest(dashboard, student)}", f"submission-{student}")
    _audit(dashboard, page, f"/dashboard/submissions/{erin}", "submission-with-an-error-run")
    expect(page.locator(f"form#retry-form-{run_id}")).to_have_count(1)
    expect(page.locator("ul#flags li[data-flag]")).to_have_count(0)


def _made_up_message(k: int) -> str:
    """A failed probe's message two or three times, its numbers' lengths varying with k: it wraps at other points."""
    one = f"Dense(5, 3, bias) on input (1, 5): first mismatch at [0, {k % 3}]: expected {1 / (k + 3):.{k % 7 + 1}f}, " \
          f"got {-k / 7:.{k % 5 + 1}g}."
    return " ".join([one] * (2 + k % 2))


def test_wrapped_messages_stay_inside_their_boxes_and_pass_axe(dashboard: Dashboard) -> None:
    """The space a message wrapped at used to hang past its box's right edge (`white-space: pre-wrap`). When that
    space fell in the box's last pixel column, axe found only the cell there and could not decide the contrast
    ("overlapped by another element"); whether it did hung on the message's length, so on the probe's random values.
    Here a fixed set of messages is tried, and axe audits the one that lands on that column, if any does."""
    page = dashboard.sign_in()
    dashboard.visit(page, f"/dashboard/submissions/{_latest(dashboard, 'ada')}", "submission-ada")
    tried = page.evaluate(TRY_MESSAGES, [_made_up_message(k) for k in range(MESSAGE_CANDIDATES)])
    dashboard.shoot(page, "submission-ada-made-up-message")
    assert_accessible(page, f"submission-ada with made-up message {tried['chosen']}")
    assert tried["outside"] == [], "message text outside its box"
    assert tried["chosen"] is None, "a message's text reaches into its box's last pixel column"


def _hold_progress(route: Route) -> None:
    """The batch page's script polls progress.json and reloads at the end; refused, it waits 5 s and asks again,
    so the running page stays put while axe reads it."""
    route.abort()


def test_batch_pages_pass_axe(dashboard: Dashboard) -> None:
    page = dashboard.open_assignment(dashboard.sign_in())
    form = page.locator("form#regrade-form")
    form.locator("select[name=scope]").select_option("latest")
    form.locator("input[type=checkbox][name=preview]").check()
    page.route("**/progress.json", _hold_progress)
    form.get_by_role("button", name="Regrade").click()
    page.wait_for_url(re.compile(r"/dashboard/batches/[0-9a-f]+$"))
    batch_path = page.url.split(dashboard.deployment.url, 1)[-1]
    progress = page.locator("progress#batch-progress")
    if progress.get_attribute("data-state") == "running":
        dashboard.shoot(page, "batch-running")
        assert_accessible(page, "a running batch")
        # Shows "A regrade is running" if the batch has not ended in the meantime.
        _audit(dashboard, page, f"/dashboard/assignments/{ASSIGNMENT}", "assignment-while-regrading")
        dashboard.visit(page, batch_path, "batch-running-again")
    page.unroute("**/progress.json", _hold_progress)
    expect(progress).to_have_attribute("data-state", ENDED_STATES, timeout=REGRADE_TIMEOUT_MS)
    expect(page.locator("section#batch-summary")).to_be_visible()
    dashboard.shoot(page, "batch-ended")
    assert_accessible(page, "an ended batch")
    _audit(dashboard, page, f"/dashboard/assignments/{ASSIGNMENT}", "assignment-with-recent-regrades")
    expect(page.locator("ul#recent-batches li")).not_to_have_count(0)


def _tab_through(page: Page) -> list[tuple[str, dict[str, Any]]]:
    """Press Tab until the regrade button has had the focus: what had it each time, and how it was shown."""
    seen: list[tuple[str, dict[str, Any]]] = []
    for _ in range(TAB_LIMIT):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:
            continue
        seen.append((focused, page.evaluate(FOCUS_SHOWN)))
        if focused == "regrade":
            return seen
    raise AssertionError(f"{TAB_LIMIT} presses of Tab never reached the Regrade button: {[n for n, _ in seen]}")


def test_assignment_controls_are_reached_with_tab_and_show_focus(dashboard: Dashboard) -> None:
    page = dashboard.open_assignment(dashboard.sign_in())
    page.locator("body").click(position={"x": 1, "y": 1})
    seen = _tab_through(page)
    order = [name for name, _ in seen]
    missing = [control for control in CONTROLS if control not in order]
    assert not missing, f"Tab never reached {missing}; it went {order}"
    positions = [order.index(control) for control in CONTROLS]
    assert positions == sorted(positions), f"Tab order {order}, expected the controls in the order {CONTROLS}"
    hidden = [name for name, shown in seen if name in CONTROLS and not (
        shown["visible"] and (shown["outline"] or shown["shadow"]))]
    assert not hidden, f"no visible focus indicator on {hidden}: {dict(seen)}"
    dashboard.shoot(page, "focus-on-regrade")
