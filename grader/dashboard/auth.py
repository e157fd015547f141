"""Sign-in and sign-out: an instructor token in, a signed HttpOnly session cookie out."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from grader.api.deps import SessionDep, SettingsDep
from grader.config import Settings
from grader.dashboard.deps import CheckedForm
from grader.dashboard.render import render
from grader.dashboard.session import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    login_csrf,
    login_csrf_ok,
    new_session,
    safe_next,
    set_login_csrf_cookie,
    set_session_cookie,
)
from grader.errors import Forbidden, Unauthenticated
from grader.models import TokenRole
from grader.services.tokens import authenticate

router = APIRouter()
UNKNOWN_TOKEN = "That token is unknown or has been revoked. Check it, or ask for a new one with `grader tokens create`."
LMS_TOKEN = ("That is an LMS token: it can submit files but not open the dashboard. "
             "Sign in with a token created with --role instructor.")


def _login_page(request: Request, settings: Settings, *, next_path: str, error: str = "",
                status_code: int = 200) -> HTMLResponse:
    """The form, bound to a pre-session CSRF cookie (double-submit) so a foreign site cannot sign you in."""
    token, cookie = login_csrf(settings, request.cookies.get(LOGIN_CSRF_COOKIE))
    response = render(request, "login.html", {"csrf_token": token, "next_path": safe_next(next_path),
                                              "error": error, "viewer": None}, status_code=status_code)
    set_login_csrf_cookie(response, settings, cookie)
    return response


@router.get("/login", response_class=HTMLResponse, summary="The sign-in form")
def login_form(request: Request, settings: SettingsDep,
               next_path: Annotated[str, Query(alias="next")] = "") -> HTMLResponse:
    return _login_page(request, settings, next_path=next_path)


@router.post("/login", response_model=None, summary="Sign in with an instructor token")
def login(request: Request, session: SessionDep, settings: SettingsDep,
          token: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
          next_path: Annotated[str, Form(alias="next")] = "") -> Response:
    if not login_csrf_ok(settings, request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        raise Forbidden("the sign-in form's security token is missing or wrong; reload the page and try again")
    try:
        principal = authenticate(session, token.strip())
    except Unauthenticated:
        return _login_page(request, settings, next_path=next_path, error=UNKNOWN_TOKEN, status_code=401)
    if principal.role != TokenRole.INSTRUCTOR:
        return _login_page(request, settings, next_path=next_path, error=LMS_TOKEN, status_code=403)
    response = RedirectResponse(safe_next(next_path), status_code=303)
    set_session_cookie(response, settings, new_session(settings, token_id=principal.token_id,
                                                       course=principal.course))
    clear_cookie(response, settings, LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout", summary="Sign out")
def logout(_viewer: CheckedForm, settings: SettingsDep) -> RedirectResponse:
    response = RedirectResponse("/dashboard/login", status_code=303)
    clear_cookie(response, settings, SESSION_COOKIE)
    return response
