"""Signing in to the dashboard: the token form, refusals, the keyboard-only path, returning to the page asked for,
and signing out."""

import re

from playwright.sync_api import expect

from tests.browser.deployment import ASSIGNMENT
from tests.browser.pages import Dashboard


def test_sign_in_and_a_wrong_token_is_refused(dashboard: Dashboard) -> None:
    page = dashboard.visit(dashboard.new_page(), "/dashboard/login", "login")
    form = page.locator("form#login-form")
    assert (form.get_attribute("method") or "").lower() == "post"
    assert (form.get_attribute("action") or "/dashboard/login").split("?")[0].endswith("/dashboard/login")
    token = page.get_by_label("Instructor token")
    expect(token).to_have_attribute("type", "password")
    expect(token).to_have_attribute("name", "token")
    expect(token).to_have_id("token")
    expect(form.locator("input[type=hidden][name=csrf_token]")).to_have_count(1)

    token.fill("tg_" + "x" * 43)
    page.get_by_role("button", name="Sign in").click()
    alert = page.locator("p#login-error[role=alert]")
    expect(alert).to_be_visible()
    dashboard.shoot(page, "login-refused")
    assert page.locator("form#logout-form").count() == 0

    page.get_by_label("Instructor token").fill(dashboard.deployment.lms_token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("p#login-error[role=alert]")).to_be_visible()
    dashboard.shoot(page, "login-lms-token-refused")

    signed_in = dashboard.sign_in(page)
    expect(signed_in.locator("table#assignments")).to_be_visible()
    signed_in.locator("form#logout-form").locator("button, [type=submit]").first.click()
    signed_in.wait_for_url(re.compile(r"/dashboard/login"))
    signed_in.goto("/dashboard")
    expect(signed_in.locator("form#login-form")).to_be_visible()
    dashboard.shoot(signed_in, "signed-out")


def test_sign_in_returns_to_the_page_asked_for(dashboard: Dashboard) -> None:
    page = dashboard.new_page()
    page.goto(f"/dashboard/assignments/{ASSIGNMENT}")
    expect(page.locator("form#login-form")).to_be_visible()
    dashboard.shoot(page, "login-with-next")
    page.get_by_label("Instructor token").fill(dashboard.deployment.instructor_token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/dashboard/assignments/{ASSIGNMENT}")
    expect(page.locator("svg#histogram")).to_be_visible()
    dashboard.shoot(page, "assignment")


def test_sign_in_with_the_keyboard_only(dashboard: Dashboard) -> None:
    page = dashboard.visit(dashboard.new_page(), "/dashboard/login", "login")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == "token":
            break
    else:
        raise AssertionError("Tab never reached the token field")
    page.keyboard.type(dashboard.deployment.instructor_token)
    page.keyboard.press("Enter")
    page.wait_for_url("**/dashboard")
    expect(page.locator("form#logout-form")).to_have_count(1)
    dashboard.shoot(page, "assignments")
