"""Mounting the dashboard on the API app: its routers, static files, security headers and HTML error pages."""

import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grader.dashboard import actions, auth, pages, versions
from grader.dashboard.deps import LoginRequired
from grader.dashboard.render import render
from grader.dashboard.session import COOKIE_PATH, SESSION_COOKIE
from grader.errors import GraderError

PREFIX = "/dashboard"
STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
                                 b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                                 b"base-uri 'none'; object-src 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
]
Handler = Callable[[Request, Exception], Awaitable[Response]]
AnyHandler = Callable[[Request, Any], Response | Awaitable[Response]]


class SecurityHeaders:
    """Every dashboard response (pages, redirects, errors, static files) gets a strict CSP and no framing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in SECURITY_HEADERS}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + SECURITY_HEADERS}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _error_status(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, GraderError):
        return exc.http_status, exc.detail
    if isinstance(exc, RequestValidationError):
        return 422, "The address or the form has a value that is not valid here."
    if isinstance(exc, HTTPException):
        return exc.status_code, str(exc.detail)
    return 500, "Something went wrong on the server; it has been logged."


def _html_on_dashboard(original: AnyHandler | None) -> Handler:
    """Dashboard paths get an HTML error page; every other path keeps the API's JSON answer."""

    async def handler(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith(PREFIX) or original is None:
            status, message = _error_status(exc)
            if status >= 500 and original is not None:
                await _call(original, request, exc)  # the API handler logs the cause
            return render(request, "error.html", {"status": status, "message": message, "viewer": None},
                          status_code=status)
        return await _call(original, request, exc)

    return handler


async def _call(handler: AnyHandler, request: Request, exc: Exception) -> Response:
    answer = handler(request, exc)
    return await answer if inspect.isawaitable(answer) else answer


async def _to_login(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    response = RedirectResponse(exc.location, status_code=303)
    if exc.clear:
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict",
                               secure=request.app.state.settings.dashboard_cookie_secure)
    return response


def install_dashboard(app: FastAPI) -> None:
    """Called by create_app after the API's error handlers, which it wraps for dashboard paths only."""
    for module in (auth, pages, actions, versions):
        app.include_router(module.router, prefix=PREFIX, include_in_schema=False)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="dashboard-static")
    for kind in (GraderError, RequestValidationError, HTTPException, Exception):
        app.add_exception_handler(kind, _html_on_dashboard(app.exception_handlers.get(kind)))
    app.add_exception_handler(LoginRequired, _to_login)
    app.add_middleware(SecurityHeaders)
