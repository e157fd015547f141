"""Driving the dashboard as a person would: sign in, visit pages, read the markup contract's data attributes."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from tests.browser.deployment import ASSIGNMENT, Deployment

FAVICON = "/favicon.ico"
# Reports every Content-Security-Policy violation as a console error, so the console listener sees all of them.
CSP_REPORTER = """
document.addEventListener('securitypolicyviolation', (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`);
});
"""


@dataclass(repr=False)
class Dashboard:
    """One browser context (one signed-in person) and what its pages said in the console."""

    context: BrowserContext
    deployment: Deployment
    shoot: Callable[[Page, str], Path]
    console_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.context.add_init_script(CSP_REPORTER)

    def new_page(self) -> Page:
        page = self.context.new_page()
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.console_errors.append(f"{page.url}: uncaught {error}"))
        return page

    def _console(self, page: Page, message: ConsoleMessage) -> None:
        # Chromium asks for /favicon.ico once per browser, on whichever page comes first; that request is checked
        # on its own (test_dashboard.py) so that this list does not depend on the order the tests run in.
        if message.type in ("error", "assert") and not message.location.get("url", "").endswith(FAVICON):
            self.console_errors.append(f"{page.url}: {message.text}")

    def visit(self, page: Page, path: str, name: str) -> Page:
        """Open a dashboard path, wait for it to settle, and photograph it."""
        response = page.goto(path)
        assert response is not None and response.ok, f"GET {path}: {response and response.status}"
        page.wait_for_load_state("load")
        if not path.startswith("/dashboard/login"):
            expect(page.locator("form#logout-form")).to_have_count(1)
        self.shoot(page, name)
        return page

    def sign_in(self, page: Page | None = None, *, token: str | None = None) -> Page:
        """The login form, filled and submitted; lands on the assignments page."""
        page = page or self.new_page()
        self.visit(page, "/dashboard/login", "login")
        page.get_by_label("Instructor token").fill(token or self.deployment.instructor_token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/dashboard")
        expect(page.locator("form#logout-form")).to_have_count(1)
        self.shoot(page, "assignments")
        return page

    def open_assignment(self, page: Page, name: str = "assignment") -> Page:
        return self.visit(page, f"/dashboard/assignments/{ASSIGNMENT}", name)

    def assert_clean_console(self) -> None:
        assert not self.console_errors, "console errors or CSP violations:\n" + "\n".join(self.console_errors)


def cells(page: Page, row_selector: str, column: str) -> list[str]:
    """The data-value of one column, in the row order the page shows."""
    return page.locator(f"{row_selector} td[data-col={column}]").evaluate_all(
        "cells => cells.map(cell => cell.dataset.value ?? '')")


def attributes(page: Page, selector: str, *names: str) -> list[dict[str, str | None]]:
    """Selected attributes of every element matching `selector`, in document order."""
    return [{name: element.get_attribute(name) for name in names} for element in page.locator(selector).all()]


def student_rows(page: Page) -> list[str]:
    return page.locator("table#students tr[data-student]").evaluate_all(
        "rows => rows.map(row => row.dataset.student)")


def number(text: str | None) -> float | None:
    """A number the page wrote into an attribute; an empty attribute means none."""
    return None if text in (None, "") else float(text)
