"""A newcomer with an instructor token finds the weakest rubric item, the students with integrity flags and one
student's history by clicking through the dashboard from the sign-in page (no URL typed after it, no timing)."""

import re

from playwright.sync_api import expect

from tests.browser.deployment import ASSIGNMENT
from tests.browser.pages import Dashboard, student_rows


def test_newcomer_finds_weakest_item_flagged_students_and_a_history(dashboard: Dashboard) -> None:
    page = dashboard.sign_in()

    page.get_by_role("link", name=re.compile(ASSIGNMENT)).first.click()
    page.wait_for_url(f"**/dashboard/assignments/{ASSIGNMENT}")
    weakest = page.locator("table#item-pass-rates tr.weakest")
    stats = dashboard.deployment.api(f"/assignments/{ASSIGNMENT}/stats")
    lowest = min(item["pass_rate"] for item in stats["items"] if item["pass_rate"] is not None)
    at_lowest = {item["id"] for item in stats["items"] if item["pass_rate"] == lowest}
    if len(at_lowest) == 1:
        expect(weakest.first).to_be_visible()
        expect(weakest.first).to_contain_text("weakest")
        assert at_lowest == {row.get_attribute("data-item") for row in weakest.all()}
        weakest.first.scroll_into_view_if_needed()
    else:
        expect(weakest).to_have_count(0)
        caption = page.locator("table#item-pass-rates caption")
        expect(caption).to_contain_text(f"{len(at_lowest)} items are tied at the lowest pass rate")
        caption.scroll_into_view_if_needed()
    dashboard.shoot(page, "weakest-item")

    page.get_by_role("link", name="Only flagged").click()
    page.wait_for_url(re.compile(r"[?&]flagged=1"))
    flagged = student_rows(page)
    assert flagged, "the seeded course has students with integrity flags"
    dashboard.shoot(page, "only-flagged")

    student = flagged[0]
    page.locator(f"table#students tr[data-student='{student}'] td[data-col=student] a").click()
    page.wait_for_url(re.compile(r"/dashboard/submissions/[0-9a-f]+$"))
    submission_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    view = dashboard.deployment.api(f"/submissions/{submission_id}")
    assert view["student"] == student
    expect(page.locator("ul#flags li[data-flag]").first).to_be_visible()
    dashboard.shoot(page, "flagged-submission")

    runs = page.locator("table#runs tr[data-run]")
    runs.first.scroll_into_view_if_needed()
    expect(runs).to_have_count(len(view["runs"]))
    expect(page.locator("svg#score-history[role=img]")).to_be_visible()
    dashboard.shoot(page, "history")
