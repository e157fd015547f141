"""The instructor dashboard in headless Chromium against a real deployment: every number the pages show is checked
against the HTTP API's answer for the same thing."""

import math
import re
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import update
from sqlalchemy.orm import Session

from grader.db import make_engine
from grader.models import GradingRun
from tests.browser.accessibility import assert_accessible
from tests.browser.deployment import ASSIGNMENT, CALLBACK_STUDENT, SUBMITTED
from tests.browser.pages import FAVICON, Dashboard, attributes, cells, number, student_rows

ENDED_STATES = re.compile(r"^(done|cancelled)$")
REGRADE_TIMEOUT_MS = 240_000
COLUMNS = ("student", "latest", "best", "submissions", "flags", "errors")


def _shown_number(text: str) -> float:
    """The one number in a cell's text."""
    found = re.search(r"-?\d+(?:\.\d+)?", text.replace(",", ""))
    assert found, f"no number in {text!r}"
    return float(found.group())


def _close_to(shown: str, expected: float) -> bool:
    """Equal to `expected` rounded to as many decimals as the page shows."""
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    return math.isclose(float(shown), expected, abs_tol=0.5 * 10 ** -decimals + 1e-9)


def _scores(dashboard: Dashboard) -> dict[str, dict[str, Any]]:
    rows = dashboard.deployment.api(f"/assignments/{ASSIGNMENT}/scores")["students"]
    return {row["student"]: row for row in rows}


def _column(page: Page, column: str) -> dict[str, float | None]:
    """Each student's data-value of one column of the students table."""
    values = cells(page, "table#students tr[data-student]", column)
    return {student: number(value) for student, value in zip(student_rows(page), values, strict=True)}


def test_assignments_page_counts_equal_the_api(dashboard: Dashboard) -> None:
    page = dashboard.sign_in()
    [summary] = [a for a in dashboard.deployment.api("/assignments") if a["id"] == ASSIGNMENT]
    stats = dashboard.deployment.api(f"/assignments/{ASSIGNMENT}/stats")
    row = page.locator(f"table#assignments tr[data-assignment={ASSIGNMENT}]")
    for status, count in summary["counts"].items():
        assert _shown_number(row.locator(f"td[data-col={status}]").inner_text()) == count, status
    for key in ("mean", "median"):
        shown = row.locator(f"td[data-col={key}]").inner_text().strip()
        assert _close_to(re.sub(r"[^\d.-]", "", shown), stats[key]), f"{key}: page {shown!r}, API {stats[key]}"
    expect(row.locator("td[data-col=last-activity]")).not_to_be_empty()
    row.locator(f"a[href$='/dashboard/assignments/{ASSIGNMENT}']").click()
    page.wait_for_url(f"**/dashboard/assignments/{ASSIGNMENT}")
    dashboard.shoot(page, "assignment")


def test_histogram_and_item_pass_rates_equal_the_api_stats(dashboard: Dashboard) -> None:
    page = dashboard.open_assignment(dashboard.sign_in())
    stats = dashboard.deployment.api(f"/assignments/{ASSIGNMENT}/stats")
    expect(page.locator("svg#histogram[role=img]")).to_be_visible()
    bars = attributes(page, "svg#histogram rect.bar", "data-lower", "data-upper", "data-count")
    assert bars == [{"data-lower": f"{b['lower']:g}", "data-upper": f"{b['upper']:g}",
                     "data-count": str(b["count"])} for b in stats["histogram"]]
    assert sum(int(bar["data-count"] or 0) for bar in bars) == stats["students"] == len(SUBMITTED)

    rows = attributes(page, "table#item-pass-rates tr[data-item]", "data-item", "data-pass-rate", "class")
    assert [(r["data-item"], r["data-pass-rate"]) for r in rows] == [
        (item["id"], "" if item["pass_rate"] is None else f"{item['pass_rate']:.4f}") for item in stats["items"]]
    rates = [item["pass_rate"] for item in stats["items"] if item["pass_rate"] is not None]
    at_lowest = {item["id"] for item in stats["items"] if item["pass_rate"] == min(rates)}
    weakest = at_lowest if len(at_lowest) == 1 else set()
    marked = {r["data-item"] for r in rows if "weakest" in (r["class"] or "").split()}
    assert marked == weakest, f"weakest rows {marked}, API's items at the lowest pass rate {at_lowest}"
    for item_id in weakest:
        expect(page.locator(f"table#item-pass-rates tr[data-item='{item_id}']")).to_contain_text("weakest")
    if len(at_lowest) > 1:
        expect(page.locator("table#item-pass-rates caption")).to_contain_text(
            f"{len(at_lowest)} items are tied at the lowest pass rate, {min(rates) * 100:.0f}%")
    assert len(at_lowest) < len(stats["items"]), "the seed must not give every item the same pass rate"


def test_students_table_equals_the_scores_and_sorts_by_best(dashboard: Dashboard) -> None:
    page = dashboard.open_assignment(dashboard.sign_in())
    scores = _scores(dashboard)
    assert sorted(student_rows(page)) == sorted(scores)
    for column in COLUMNS:
        expect(page.locator(f"table#students th a[data-sort={column}]")).to_have_count(1)
        expect(page.locator(f"table#students tr[data-student] td[data-col={column}][data-value]")) \
            .to_have_count(len(scores))
    for column, key in (("latest", "latest_score"), ("best", "best_score"), ("submissions", "submissions")):
        assert _column(page, column) == {student: row[key] for student, row in scores.items()}, column
    for student, row in scores.items():
        link = page.locator(f"table#students tr[data-student='{student}'] td[data-col=student] a")
        expect(link).to_have_attribute("href", re.compile(rf"/dashboard/submissions/{row['latest_submission_id']}$"))

    header = page.locator("table#students th:has(a[data-sort=best])")
    orders = {}
    for step in ("first", "second"):
        before = header.get_attribute("aria-sort")
        page.locator("table#students a[data-sort=best]").click()
        expect(header).to_have_attribute("aria-sort", re.compile(r"^(ascending|descending)$"))
        if before in ("ascending", "descending"):
            expect(header).not_to_have_attribute("aria-sort", before)
        direction = header.get_attribute("aria-sort") or ""
        dashboard.shoot(page, f"sorted-best-{direction}")
        in_order = [number(v) for v in cells(page, "table#students tr[data-student]", "best")]
        expected = sorted((row["best_score"] for row in scores.values()), reverse=direction == "descending")
        assert in_order == expected, f"{step} click ({direction}): best column {in_order}"
        assert _column(page, "best") == {student: row["best_score"] for student, row in scores.items()}
        orders[direction] = student_rows(page)
    assert set(orders) == {"ascending", "descending"}, f"two clicks gave {sorted(orders)}"


def test_search_narrows_the_rows(dashboard: Dashboard) -> None:
    page = dashboard.open_assignment(dashboard.sign_in())
    form = page.locator("form#student-search")
    assert (form.get_attribute("method") or "get").lower() == "get"
    search = form.locator("input#q[name=q][type=search]")
    search.fill("grace")
    search.press("Enter")
    page.wait_for_url(re.compile(r"[?&]q=grace"))
    expect(page.locator("table#students tr[data-student]")).to_have_count(1)
    assert student_rows(page) == ["grace"]
    dashboard.shoot(page, "search-grace")


def _latest_flagged(dashboard: Dashboard) -> set[str]:
    """Students whose latest submission's current run has integrity flags, from the instructor view."""
    flagged = set()
    for student, row in _scores(dashboard).items():
        view = dashboard.deployment.api(f"/submissions/{row['latest_submission_id']}")
        [current] = [run for run in view["runs"] if run["id"] == view["current_run_id"]]
        if current["integrity_flags"]:
            flagged.add(student)
    return flagged


def _flagged_view(dashboard: Dashboard) -> list[str]:
    page = dashboard.open_assignment(dashboard.sign_in())
    page.get_by_role("link", name="Only flagged").click()
    page.wait_for_url(re.compile(r"[?&]flagged=1"))
    dashboard.shoot(page, "only-flagged")
    return student_rows(page)


def test_only_flagged_is_exactly_the_students_with_integrity_flags(dashboard: Dashboard) -> None:
    """Any flagged submission counts, as in the API's scores: ivan's flags are on an older submission, and a
    clean resubmission does not hide from the instructor that he once tampered with a locked cell."""
    latest_flagged = _latest_flagged(dashboard)
    assert latest_flagged == {"frank", "grace"}, f"the seed flags frank's and grace's latest, API: {latest_flagged}"
    ever_flagged = {student for student, row in _scores(dashboard).items() if row["flags"]}
    assert ever_flagged == latest_flagged | {"ivan"}
    shown = _flagged_view(dashboard)
    assert sorted(shown) == sorted(ever_flagged), f"shown {shown}"


def _check_submission_page(page: Page, view: dict[str, Any]) -> None:
    """Items of the current run, solution marks in the code, and every run newest first, as the API has them."""
    [current] = [run for run in view["runs"] if run["id"] == view["current_run_id"]]
    items = attributes(page, "table#items tr[data-item]", "data-item", "data-status", "data-points")
    assert [(i["data-item"], i["data-status"], number(i["data-points"])) for i in items] == [
        (t["id"], t["status"], t["points"]) for t in current["tests"]]
    assert page.locator("pre#code mark.solution").count() >= 1, "the student's solution regions are marked"
    expect(page.locator("pre#output")).to_have_count(1)
    assert [f.get_attribute("data-flag") for f in page.locator("ul#flags li[data-flag]").all()] == \
        current["integrity_flags"]
    expect(page.locator("dl#resources")).to_be_visible()
    runs = attributes(page, "table#runs tr[data-run]", "data-run", "data-status", "data-score",
                      "data-rubric-version")
    newest_first = sorted(view["runs"], key=lambda run: run["queued_at"], reverse=True)
    assert [(r["data-run"], r["data-status"], number(r["data-score"]), r["data-rubric-version"]) for r in runs] == [
        (r["id"], r["status"], r["score"], r["rubric_version"]) for r in newest_first]
    expect(page.locator("svg#score-history[role=img]")).to_be_visible()
    graded = [r["score"] for r in view["runs"] if r["status"] == "graded"]
    assert sorted(number(c.get_attribute("data-score")) or 0.0 for c in
                  page.locator("svg#score-history circle[data-score]").all()) == sorted(graded)
    errored = {r["id"] for r in view["runs"] if r["status"] == "error"}
    assert {f.get_attribute("id") for f in page.locator("form[id^=retry-form-]").all()} == \
        {f"retry-form-{run_id}" for run_id in errored}
    expect(page.locator("form#resend-passback-form")).to_have_count(1 if view["callback_url"] else 0)


def test_open_a_submission(dashboard: Dashboard) -> None:
    page = dashboard.open_assignment(dashboard.sign_in())
    for student in ("ada", "frank"):
        dashboard.open_assignment(page, f"assignment-before-{student}")
        latest = _scores(dashboard)[student]["latest_submission_id"]
        page.locator(f"table#students tr[data-student='{student}'] td[data-col=student] a").click()
        page.wait_for_url(f"**/dashboard/submissions/{latest}")
        dashboard.shoot(page, f"submission-{student}")
        _check_submission_page(page, dashboard.deployment.api(f"/submissions/{latest}"))


def test_export_csv_equals_the_api_csv(dashboard: Dashboard) -> None:
    page = dashboard.open_assignment(dashboard.sign_in())
    link = page.locator("a#export-csv")
    expect(link).to_have_attribute("href", re.compile(rf"/dashboard/assignments/{ASSIGNMENT}/scores\.csv$"))
    with page.expect_download() as download:
        link.click()
    path = download.value.path()
    api_csv = dashboard.deployment.api_bytes(f"/assignments/{ASSIGNMENT}/scores", format="csv")
    assert path.read_bytes() == api_csv
    assert api_csv.count(b"\n") == len(SUBMITTED) + 1


def test_pages_have_no_console_errors_or_csp_violations(dashboard: Dashboard) -> None:
    page = dashboard.sign_in()
    with page.expect_response(lambda response: response.url.endswith(f"/dashboard/assignments/{ASSIGNMENT}")) as sent:
        dashboard.open_assignment(page)
    assert "script-src" in (sent.value.headers.get("content-security-policy") or ""), "the pages carry a CSP"
    dashboard.visit(page, f"/dashboard/assignments/{ASSIGNMENT}?flagged=1", "assignment-flagged")
    dashboard.visit(page, f"/dashboard/assignments/{ASSIGNMENT}?q=ada", "assignment-search")
    page.locator("table#students a[data-sort=latest]").click()
    page.wait_for_load_state("load")
    for student in ("ada", "carol"):
        latest = _scores(dashboard)[student]["latest_submission_id"]
        dashboard.visit(page, f"/dashboard/submissions/{latest}", f"submission-{student}")
    dashboard.assert_clean_console()


def _lower_a_stored_score(dashboard: Dashboard, student: str, by: float) -> str:
    """As if `student`'s latest result came from an older, harsher rubric, so the regrade moves one score up."""
    run_id = dashboard.deployment.api(f"/submissions/{_scores(dashboard)[student]['latest_submission_id']}")[
        "current_run_id"]
    engine = make_engine(dashboard.deployment.stack.database_url)
    try:
        with Session(engine) as session, session.begin():
            session.execute(update(GradingRun).where(GradingRun.id == run_id)
                            .values(rubric_version="older-rubric", score=GradingRun.score - by))
    finally:
        engine.dispose()
    return run_id


def test_the_browser_finds_the_dashboard_icon(dashboard: Dashboard) -> None:
    """Chromium asks every site for an icon; a 404 there is a console error on a person's first visit."""
    page = dashboard.visit(dashboard.new_page(), "/dashboard/login", "login")
    declared = page.locator("link[rel~=icon]").evaluate_all("links => links.map(link => link.href)")
    icons = declared or [f"{dashboard.deployment.url}{FAVICON}"]
    for icon in (icon for icon in icons if not icon.startswith("data:")):
        answer = page.request.get(icon)
        assert answer.ok, f"the icon {icon} answers {answer.status}: Chromium logs a console error for it"


def test_regrade_from_the_button_and_watch_it_finish(dashboard: Dashboard) -> None:
    _lower_a_stored_score(dashboard, "ada", 20)
    page = dashboard.open_assignment(dashboard.sign_in())
    form = page.locator("form#regrade-form")
    assert (form.get_attribute("method") or "").lower() == "post"
    form.locator("select[name=scope]").select_option("latest")
    form.locator("input[type=checkbox][name=preview]").check()
    dashboard.shoot(page, "regrade-form")
    form.get_by_role("button", name="Regrade").click()
    page.wait_for_url(re.compile(r"/dashboard/batches/[0-9a-f]+$"))
    batch_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    dashboard.shoot(page, "batch-started")
    if page.locator("progress#batch-progress").get_attribute("data-state") == "running":
        expect(page.locator("form#cancel-form")).to_have_count(1)
        expect(page.locator("form#publish-form button:enabled, form#publish-form [type=submit]:enabled")) \
            .to_have_count(0)

    progress = page.locator("progress#batch-progress")
    expect(progress).to_have_attribute("data-state", ENDED_STATES, timeout=REGRADE_TIMEOUT_MS)
    summary = page.locator("section#batch-summary")
    expect(summary).to_be_visible()
    dashboard.shoot(page, "batch-ended")

    batch = dashboard.deployment.api(f"/batches/{batch_id}")
    assert batch["state"] == progress.get_attribute("data-state") == "done"
    assert batch["preview"] is True and batch["progress"]["total"] == len(SUBMITTED)
    for key in ("done", "total", "failed", "changed"):
        assert progress.get_attribute(f"data-{key}") == str(batch["progress"][key]), key
    for key in ("up", "down", "unchanged"):
        assert _shown_number(summary.locator(f"dd[data-key={key}]").inner_text()) == batch["summary"][key], key
    assert (batch["summary"]["up"], batch["summary"]["down"]) == (1, 0), "ada's lowered score comes back up"
    expect(page.locator("form#publish-form")).to_have_count(1)
    expect(page.locator("form#cancel-form")).to_have_count(0)
    expect(page.locator("form#rollback-form")).to_have_count(0)

    polled = page.request.get(f"/dashboard/batches/{batch_id}/progress.json")
    assert polled.ok, polled.status
    assert polled.json() == {"state": batch["state"], **{k: batch["progress"][k] for k in
                                                          ("done", "total", "failed", "changed")}}

    page.locator("form#publish-form").locator("button, [type=submit]").first.click()
    page.wait_for_url(re.compile(rf"/dashboard/batches/{batch_id}(\?.*)?$"))
    expect(page.locator("[role=status]").first).to_be_visible()
    expect(page.locator("form#rollback-form")).to_have_count(1)
    expect(page.locator("form#publish-form")).to_have_count(0)
    dashboard.shoot(page, "batch-published")
    assert_accessible(page, "a published batch with its notice")
    assert dashboard.deployment.api(f"/batches/{batch_id}")["publication"] == "published"
    dashboard.assert_clean_console()


def test_resend_a_passback_from_the_submission_page(dashboard: Dashboard) -> None:
    page = dashboard.sign_in()
    submission_id = _scores(dashboard)[CALLBACK_STUDENT]["latest_submission_id"]
    before = dashboard.deployment.api(f"/submissions/{submission_id}")["passbacks"]
    dashboard.visit(page, f"/dashboard/submissions/{submission_id}", "submission-with-callback")
    form = page.locator("form#resend-passback-form")
    expect(form).to_have_count(1)
    form.locator("button, input[type=submit]").first.click()
    page.wait_for_url(re.compile(rf"/dashboard/submissions/{submission_id}(\?.*)?$"))
    expect(page.locator("[role=status]").first).to_be_visible()
    dashboard.shoot(page, "passback-resent")
    assert_accessible(page, "a submission with the re-sent notice")
    after = dashboard.deployment.api(f"/submissions/{submission_id}")["passbacks"]
    assert len(after) == len(before) + 1, "one fresh delivery"
