"""Sign-in, sessions, CSRF and security headers of the dashboard."""

import re

import pytest
from fastapi.testclient import TestClient

from grader.db import session_scope
from grader.services.tokens import revoke_token
from tests.api.conftest import ApiWorld, build_world
from tests.dashboard.conftest import Seeded, csrf_of, elements, sign_in

POST_ROUTES = [
    "/dashboard/logout",
    "/dashboard/assignments/layers/regrade",
    "/dashboard/batches/{batch}/cancel",
    "/dashboard/batches/{batch}/publish",
    "/dashboard/batches/{batch}/rollback",
    "/dashboard/runs/{run}/retry",
    "/dashboard/submissions/{submission}/passback",
]


def test_login_form_follows_the_markup_contract(world: ApiWorld) -> None:
    page = world.client.get("/dashboard/login")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert elements(page.text, "form", id="login-form", method="post", action="/dashboard/login")
    assert elements(page.text, "input", id="token", name="token", type="password")
    assert re.search(r'<label for="token">Instructor token</label>', page.text)
    assert elements(page.text, "input", type="hidden", name="csrf_token")
    assert '<button type="submit">Sign in</button>' in page.text


def test_sign_in_and_out(world: ApiWorld) -> None:
    response = sign_in(world.client, world.tokens["instructor"])
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    home = world.client.get("/dashboard")
    assert home.status_code == 200 and world.course in home.text
    assert elements(home.text, "form", id="logout-form", method="post", action="/dashboard/logout")
    out = world.client.post("/dashboard/logout", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/dashboard/login"
    again = world.client.get("/dashboard", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/dashboard/login")


def test_wrong_and_lms_tokens_are_refused_on_the_login_page(world: ApiWorld) -> None:
    wrong = sign_in(world.client, "tg_not-a-token")
    assert wrong.status_code == 401
    assert elements(wrong.text, "p", role="alert", id="login-error")
    assert "unknown or has been revoked" in wrong.text
    lms = sign_in(world.client, world.tokens["lms"])
    assert lms.status_code == 403 and "LMS token" in lms.text
    assert "grader_dashboard=" not in lms.headers.get("set-cookie", "")
    assert world.client.get("/dashboard", follow_redirects=False).status_code == 303


def test_the_cookie_is_signed_http_only_strict_and_scoped(world: ApiWorld) -> None:
    response = sign_in(world.client, world.tokens["instructor"])
    cookie = next(h for h in response.headers.get_list("set-cookie")
                  if h.startswith("grader_dashboard="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/dashboard"} <= flags and "secure" not in flags
    assert world.tokens["instructor"] not in cookie, "the cookie never carries the token"
    tampered = cookie.split(";")[0].split("=", 1)[1][:-2] + "AA"
    client = TestClient(world.app)
    client.cookies.set("grader_dashboard", tampered, path="/dashboard")
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_cookies_are_secure_by_default(world: ApiWorld, database_url: str) -> None:
    secure_world = build_world(database_url)
    with TestClient(secure_world.app, base_url="https://testserver") as client:
        page = client.get("/dashboard/login")
        assert "secure" in page.headers["set-cookie"].lower()
        response = sign_in(client, secure_world.tokens["instructor"])
        assert response.status_code == 303
        assert "; secure" in response.headers["set-cookie"].lower()
        assert client.get("/dashboard").status_code == 200


def test_a_revoked_token_signs_you_out(browser: TestClient, world: ApiWorld) -> None:
    assert browser.get("/dashboard").status_code == 200
    with session_scope(world.factory) as session:
        revoke_token(session, world.tokens["instructor"])
    response = browser.get("/dashboard/assignments/layers", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login?next=%2Fdashboard%2Fassignments%2Flayers"
    assert 'grader_dashboard=""' in response.headers["set-cookie"] or "max-age=0" in response.headers[
        "set-cookie"].lower()


def test_unauthenticated_get_goes_to_login_with_next(world: ApiWorld) -> None:
    response = world.client.get("/dashboard/assignments/layers?sort=best", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login?next=%2Fdashboard%2Fassignments%2Flayers%3Fsort%3Dbest"
    page = world.client.get(response.headers["location"])
    assert elements(page.text, "input", name="next", value="/dashboard/assignments/layers?sort=best")
    signed = sign_in(world.client, world.tokens["instructor"], next_path="/dashboard/assignments/layers?sort=best")
    assert signed.headers["location"] == "/dashboard/assignments/layers?sort=best"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/dashboard", "/\\evil.example",
                                    "/api/v1/assignments", "javascript:alert(1)", "/dashboard/../api/v1/x",
                                    "/dashboardx", "http:/dashboard"])
def test_next_must_be_a_local_dashboard_path(world: ApiWorld, target: str) -> None:
    response = sign_in(world.client, world.tokens["instructor"], next_path=target)
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"


def test_login_needs_its_csrf_token(world: ApiWorld) -> None:
    world.client.get("/dashboard/login")
    for token in ("", "forged"):
        response = world.client.post("/dashboard/login", data={"token": world.tokens["instructor"],
                                                               "csrf_token": token}, follow_redirects=False)
        assert response.status_code == 403 and "security token" in response.text
    other = TestClient(world.app)
    stolen = csrf_of(other.get("/dashboard/login").text)
    response = world.client.post("/dashboard/login", data={"token": world.tokens["instructor"],
                                                           "csrf_token": stolen}, follow_redirects=False)
    assert response.status_code == 403, "a token bound to another browser's cookie is refused"


def test_every_post_route_checks_csrf(browser: TestClient, seeded: Seeded) -> None:
    batch = seeded.room.start()
    ids = {"batch": batch, "run": seeded.ids["carol-error-run"], "submission": seeded.ids["alice-1"]}
    for route in POST_ROUTES:
        path = route.format(**ids)
        for data in ({}, {"csrf_token": "wrong"}):
            response = browser.post(path, data=data, follow_redirects=False)
            assert response.status_code == 403, (path, data, response.text)
            assert elements(response.text, "p", role="alert")
    assert browser.get("/dashboard").status_code == 200, "still signed in: nothing was done"


def test_security_headers_on_every_dashboard_response(world: ApiWorld, browser: TestClient) -> None:
    for path in ("/dashboard", "/dashboard/login", "/dashboard/static/dashboard.css", "/dashboard/nowhere",
                 "/dashboard/assignments/pooling"):
        response = browser.get(path, follow_redirects=False)
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert "style-src 'self'" in csp and "script-src 'self'" in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
    api = browser.get("/api/v1/assignments", headers=world.headers("instructor"))
    assert api.status_code == 200 and "content-security-policy" not in api.headers, "the API is left as it was"


def test_pages_have_no_inline_script_or_style(browser: TestClient) -> None:
    page = browser.get("/dashboard").text
    assert "<script>" not in page and " style=" not in page and "<style" not in page
    assert elements(page, "script", src="/dashboard/static/dashboard.js")
    assert elements(page, "a", href="#main") and elements(page, "main", id="main")
