"""LTI 1.3 edges: OIDC login, the launch, the upload form's post, the tool's JWKS, and platform registration."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from grader.api.deps import Instructor, SessionDep, SettingsDep
from grader.api.errors import error_responses
from grader.api.lti_pages import page, refusal
from grader.config import Settings
from grader.errors import LaunchRejected, Rejected
from grader.lti import flow
from grader.lti.keys import tool_jwks
from grader.lti.login import LoginRequest, begin_login
from grader.lti.registration import PlatformRegistration, course_platforms, register_platform
from grader.lti.submit import submit_from_launch
from grader.models import LtiPlatform

router = APIRouter(tags=["lti"])
Text = Annotated[str, Field(min_length=1, max_length=2048, pattern=r"^[^\x00-\x1f\x7f]+$")]


def tool_url(request: Request, settings: Settings, name: str) -> str:
    """Our own URLs as the platform must see them: the configured public URL, else this request's base."""
    path = request.app.url_path_for(name)
    base = settings.lti_public_url.rstrip("/") or str(request.base_url).rstrip("/")
    return f"{base}{path}"


def _login(request: Request, session: SessionDep, settings: Settings, login: LoginRequest) -> Response:
    try:
        url = begin_login(session, settings, login, launch_url=tool_url(request, settings, "lti_launch"))
    except LaunchRejected as exc:
        return refusal(exc.reason, exc.status_code)
    return RedirectResponse(url, status_code=302)


@router.get("/lti/login", include_in_schema=False)
def lti_login_get(request: Request, session: SessionDep, settings: SettingsDep, iss: str = "", login_hint: str = "",
                  target_link_uri: str = "", lti_message_hint: str | None = None, client_id: str | None = None,
                  lti_deployment_id: str | None = None) -> Response:
    return _login(request, session, settings, LoginRequest(iss, login_hint, target_link_uri, lti_message_hint,
                                                           client_id, lti_deployment_id))


@router.post("/lti/login", include_in_schema=False)
def lti_login_post(request: Request, session: SessionDep, settings: SettingsDep, iss: Annotated[str, Form()] = "",
                   login_hint: Annotated[str, Form()] = "", target_link_uri: Annotated[str, Form()] = "",
                   lti_message_hint: Annotated[str | None, Form()] = None,
                   client_id: Annotated[str | None, Form()] = None,
                   lti_deployment_id: Annotated[str | None, Form()] = None) -> Response:
    return _login(request, session, settings, LoginRequest(iss, login_hint, target_link_uri, lti_message_hint,
                                                           client_id, lti_deployment_id))


@router.post("/lti/launch", name="lti_launch", include_in_schema=False)
def lti_launch(request: Request, settings: SettingsDep, id_token: Annotated[str | None, Form()] = None,
               state: Annotated[str | None, Form()] = None) -> HTMLResponse:
    try:
        result = flow.launch(request.app.state.session_factory, settings, request.app.state.lti_keys,
                             id_token=id_token, state=state)
    except LaunchRejected as exc:
        return refusal(exc.reason, exc.status_code)
    return page("lti_launch.html", launch=result, submit_url=tool_url(request, settings, "lti_submit"))


@router.post("/lti/submit", name="lti_submit", include_in_schema=False)
def lti_submit(session: SessionDep, settings: SettingsDep, upload_token: Annotated[str, Form(max_length=128)],
               file: Annotated[UploadFile, File()]) -> HTMLResponse:
    try:
        intake = submit_from_launch(session, upload_token=upload_token, content=file.file.read(),
                                    filename=file.filename or "", max_bytes=settings.max_upload_kib * 1024)
    except LaunchRejected as exc:
        session.rollback()
        return refusal(exc.reason, exc.status_code)
    except Rejected as exc:
        session.rollback()
        return refusal(f"the file was not accepted: {exc.reason}", 422)
    return page("lti_submitted.html", 202, filename=intake.submission.filename, assignment=intake.submission.assignment,
                submission_id=intake.submission.id, duplicate=intake.duplicate)


@router.get("/lti/jwks.json", name="lti_jwks", summary="The tool's public keys (give this URL to the platform)")
def lti_jwks(session: SessionDep, settings: SettingsDep) -> JSONResponse:
    return JSONResponse(tool_jwks(session, settings), headers={"Cache-Control": "max-age=300"})


class ToolUrls(BaseModel):
    """What a platform administrator types into the LMS's tool registration."""

    login_url: str
    launch_url: str
    jwks_url: str


@router.get("/lti/config", response_model=ToolUrls, summary="The tool's LTI URLs, for registering it in an LMS")
def lti_config(request: Request, settings: SettingsDep) -> ToolUrls:
    return ToolUrls(login_url=tool_url(request, settings, "lti_login_post"),
                    launch_url=tool_url(request, settings, "lti_launch"),
                    jwks_url=tool_url(request, settings, "lti_jwks"))


class PlatformIn(BaseModel):
    """A platform registration of the token's course."""

    issuer: Text
    client_id: Text
    deployment_ids: list[Text] = Field(min_length=1, max_length=50)
    auth_login_url: Text
    token_url: Text
    jwks_url: Text


class PlatformView(BaseModel):
    id: str
    course: str
    issuer: str
    client_id: str
    deployment_ids: list[str]
    auth_login_url: str
    token_url: str
    jwks_url: str

    @classmethod
    def build(cls, platform: LtiPlatform) -> "PlatformView":
        return cls(id=platform.id, course=platform.course_id, issuer=platform.issuer, client_id=platform.client_id,
                   deployment_ids=list(platform.deployment_ids), auth_login_url=platform.auth_login_url,
                   token_url=platform.token_url, jwks_url=platform.jwks_url)


@router.post("/api/v1/lti/platforms", status_code=201, response_model=PlatformView,
             summary="Register (or update) an LTI 1.3 platform for the token's course (instructor)",
             responses=error_responses(400, 401, 403, 404, 409, 422))
def post_platform(body: PlatformIn, principal: Instructor, session: SessionDep,
                  settings: SettingsDep) -> PlatformView:
    registration = PlatformRegistration(**body.model_dump())
    return PlatformView.build(register_platform(session, settings, course=principal.course,
                                                registration=registration))


@router.get("/api/v1/lti/platforms", response_model=list[PlatformView],
            summary="The LTI platforms of the token's course (instructor)", responses=error_responses(401, 403))
def get_platforms(principal: Instructor, session: SessionDep) -> list[PlatformView]:
    return [PlatformView.build(platform) for platform in course_platforms(session, principal.course)]
