"""/docs renders in Chromium with every request outside the deployment refused: it needs no internet."""

from urllib.parse import urlsplit

from playwright.sync_api import Route, expect

from tests.browser.pages import Dashboard


def test_api_docs_render_with_the_internet_cut_off(dashboard: Dashboard) -> None:
    own = urlsplit(dashboard.deployment.url).netloc
    refused: list[str] = []

    def only_the_deployment(route: Route) -> None:
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page = dashboard.new_page()
    page.route("**/*", only_the_deployment)
    response = page.goto("/docs")
    assert response is not None and response.ok
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("TinyTorch autograder API")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/submissions").first).to_be_visible()
    dashboard.shoot(page, "api-docs-offline")
    assert refused == [], refused
