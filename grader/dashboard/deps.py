"""Who is looking: the signed-in instructor (re-checked against the token table on every request), and CSRF."""

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Form, Request

from grader.api.deps import SessionDep, SettingsDep
from grader.dashboard.session import SESSION_COOKIE, SessionData, csrf_ok, decode_session, safe_next
from grader.errors import Forbidden
from grader.models import ApiToken, TokenRole
from grader.services.tokens import Principal


class LoginRequired(Exception):
    """No live session: the browser is sent to the sign-in page (and a dead cookie is cleared)."""

    def __init__(self, location: str, *, clear: bool) -> None:
        super().__init__(location)
        self.location = location
        self.clear = clear


@dataclass(frozen=True)
class Viewer:
    """The instructor behind a request: the API's principal, plus the session's CSRF token for the forms."""

    principal: Principal
    csrf: str

    @property
    def course(self) -> str:
        return self.principal.course


def _login_location(request: Request) -> str:
    if request.method != "GET":
        return "/dashboard/login"
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/dashboard/login?" + urlencode({"next": safe_next(target)})


def _live(session: SessionDep, data: SessionData) -> Principal | None:
    """The session's token, only while it exists, is not revoked, and is still an instructor token of the course."""
    row = session.get(ApiToken, data.token_id)
    if row is None or row.revoked_at is not None or row.role != TokenRole.INSTRUCTOR:
        return None
    if row.course_id != data.course:
        return None
    return Principal(token_id=row.id, course=row.course_id, role=TokenRole.INSTRUCTOR)


def signed_in(request: Request, session: SessionDep, settings: SettingsDep) -> Viewer:
    cookie = request.cookies.get(SESSION_COOKIE)
    data = decode_session(settings, cookie)
    principal = _live(session, data) if data is not None else None
    if data is None or principal is None:
        raise LoginRequired(_login_location(request), clear=cookie is not None)
    return Viewer(principal=principal, csrf=data.csrf)


def checked_form(viewer: Annotated[Viewer, Depends(signed_in)],
                 csrf_token: Annotated[str, Form()] = "") -> Viewer:
    """Every state-changing form carries the session's CSRF token; a missing or wrong one is refused (403)."""
    if not csrf_ok(viewer.csrf, csrf_token):
        raise Forbidden("the form's security token is missing or wrong; reload the page and try again")
    return viewer


SignedIn = Annotated[Viewer, Depends(signed_in)]
CheckedForm = Annotated[Viewer, Depends(checked_form)]
