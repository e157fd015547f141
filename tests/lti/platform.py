"""A small LTI 1.3 platform built on `lti1p3platform` (PyPI), served over loopback HTTP for the tool to talk to.

The library implements the platform's side (OIDC login initiation, the launch message and its signature, the
token endpoint that checks the tool's JWT assertion, the AGS service handlers); this module only stores line
items and scores in memory, wraps FastAPI requests into the library's request type (its own FastAPI adapter is
commented out in 0.1.8) and can be told to misbehave: revoke tokens, answer scores with given statuses, rotate
its signing key, sign launches with wrong claims.
"""

import html
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi import Request as StarletteRequest
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request as LtiRequest
from lti1p3platform.request import TRequest
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService, TPage

from tests.stack.processes import free_port, wait_until

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
RESULT_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"


def new_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class WrappedRequest(LtiRequest):
    """The library's request, built from a FastAPI request whose body was read beforehand (it is async)."""

    def build_metadata(self, request: Any) -> TRequest:
        metadata: TRequest = request
        return metadata


async def wrap(request: StarletteRequest) -> WrappedRequest:
    content_type = request.headers.get("content-type", "")
    form: dict[str, Any] = {}
    body = await request.body()
    if "form" in content_type:
        form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    payload = json.loads(body) if body and "json" in content_type else None
    return WrappedRequest({"method": request.method, "form_data": form, "get_data": dict(request.query_params),
                           "headers": request.headers, "content_type": content_type, "path": request.url.path,
                           "json": payload})


@dataclass
class Gradebook:
    """Line items and their results, as a platform keeps them; scores older than the last one are not applied."""

    base_url: str
    lineitems: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    scores_received: list[dict[str, Any]] = field(default_factory=list)

    def lineitem_id(self, number: str) -> str:
        return f"{self.base_url}/lineitems/{number}"


@dataclass
class Faults:
    """What the platform is told to do wrong next."""

    score_answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    revoked_tokens: set[str] = field(default_factory=set)
    launch_claims: dict[str, Any] = field(default_factory=dict)


@dataclass
class Counters:
    token_requests: int = 0
    jwks_fetches: int = 0
    score_posts: int = 0


class TestPlatform:
    """One issuer with one client id; its default deployment is `deployment_id`, a launch may name another
    (`deployment=` on /launch); `tool_base` is where the grader is served."""

    __test__ = False

    def __init__(self, *, tool_base: str, client_id: str = "grader-client", deployment_id: str = "dep-1") -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.issuer = f"{self.base_url}/issuer"
        self.tool_base = tool_base
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.private_pem = new_private_pem()
        self.gradebook = Gradebook(self.base_url)
        self.faults = Faults()
        self.counters = Counters()
        self.issued_tokens: list[str] = []
        self.id_token_expiration = 300
        self.lock = threading.Lock()
        self.app = self._build_app()
        self._server: uvicorn.Server | None = None

    # The library's registration: who the platform is, who the tool is, the keys.
    def registration(self, deployment_id: str | None = None) -> Registration:
        return (Registration().set_iss(self.issuer).set_client_id(self.client_id)
                .set_deployment_id(deployment_id or self.deployment_id)
                .set_oidc_login_url(f"{self.tool_base}/lti/login").set_launch_url(f"{self.tool_base}/lti/launch")
                .set_tool_key_set_url(f"{self.tool_base}/lti/jwks.json")
                .set_platform_private_key(self.private_pem).set_platform_public_key(public_pem(self.private_pem)))

    def config(self, deployment_id: str | None = None) -> LTI1P3PlatformConfAbstract:
        return _Config(registration=self.registration(deployment_id))

    @property
    def urls(self) -> dict[str, str]:
        return {"issuer": self.issuer, "client_id": self.client_id, "auth_login_url": f"{self.base_url}/auth",
                "token_url": f"{self.base_url}/token", "jwks_url": f"{self.base_url}/jwks"}

    def rotate_key(self) -> None:
        self.private_pem = new_private_pem()

    def revoke_issued_tokens(self) -> None:
        with self.lock:
            self.faults.revoked_tokens.update(self.issued_tokens)

    def results(self, lineitem_url: str) -> list[dict[str, Any]]:
        """The gradebook as a tool reads it: GET {lineitem}/results with a token of the result scope."""
        import httpx

        token = self.registration().encode_and_sign(
            {"sub": self.client_id, "iss": self.issuer, "scopes": RESULT_SCOPE}, self.private_pem, expiration=300)
        answer = httpx.get(f"{lineitem_url}/results", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert answer.status_code == 200, answer.text
        content: list[dict[str, Any]] = answer.json()["content"]
        return content

    def _build_app(self) -> FastAPI:
        app = FastAPI()
        app.add_api_route("/launch", self._start_launch, methods=["GET"])
        app.add_api_route("/auth", self._authorize, methods=["GET", "POST"])
        app.add_api_route("/jwks", self._jwks, methods=["GET"])
        app.add_api_route("/token", self._token, methods=["POST"])
        app.add_api_route("/lineitems", self._lineitems, methods=["GET", "POST"])
        app.add_api_route("/lineitems/{number}", self._lineitem, methods=["GET"])
        app.add_api_route("/lineitems/{number}/scores", self._scores, methods=["POST"])
        app.add_api_route("/lineitems/{number}/results", self._results, methods=["GET"])
        return app

    async def _start_launch(self, request: StarletteRequest) -> Response:
        """What a click on the assignment link does: the platform sends the browser to the tool's login."""
        query = request.query_params
        hint = json.dumps({"user": query["user"], "link": query.get("link", "rl-1"),
                           "role": query.get("role", "learner"), "assignment": query.get("assignment", "layers"),
                           "lineitem": query.get("lineitem"), "deployment": query.get("deployment")})
        login = _Login(await wrap(request), self.config(query.get("deployment")))
        login.set_lti_message_hint(hint=hint)
        redirect: Response = login.initiate_login(query["user"])
        return redirect

    async def _authorize(self, request: StarletteRequest) -> Response:
        """The authorization endpoint: the tool's redirect arrives here, the signed launch form leaves."""
        wrapped = await wrap(request)
        preflight = wrapped.get_data or wrapped.form_data
        if preflight.get("redirect_uri") != f"{self.tool_base}/lti/launch":
            return HTMLResponse("redirect_uri is not the registered launch URL", status_code=400)
        hint = json.loads(preflight["lti_message_hint"])
        launch = _Launch(wrapped, self.config(hint.get("deployment")))
        launch.hint = hint
        launch.platform = self
        launch.set_id_token_expiration(self.id_token_expiration)
        rendered: Response = launch.lti_launch()
        return rendered

    async def _jwks(self) -> JSONResponse:
        with self.lock:
            self.counters.jwks_fetches += 1
        return JSONResponse({"keys": self.registration().get_jwks()})

    async def _token(self, request: StarletteRequest) -> JSONResponse:
        """The library checks the assertion's signature against the tool's JWKS; we also hold it to aud."""
        wrapped = await wrap(request)
        with self.lock:
            self.counters.token_requests += 1
        config = self.config()
        config.get_registration()
        try:
            claims = config.tool_validate_and_decode(wrapped.form_data.get("client_assertion", ""))
            if claims.get("aud") not in (self.urls["token_url"], [self.urls["token_url"]]):
                raise ValueError("the assertion's aud is not the token URL")
            if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
                raise ValueError("the assertion's iss/sub is not the client id")
            answer = dict(config.get_access_token(wrapped.form_data))
        except Exception as exc:
            return JSONResponse({"error": "invalid_client", "error_description": str(exc)}, status_code=401)
        # The library's tokens carry no jti, so two issued in one second are the same bytes; a real platform's
        # are distinct, which is what lets a revoked token be told from its replacement.
        claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
        answer["access_token"] = self.registration().encode_and_sign({**claims, "jti": uuid.uuid4().hex},
                                                                     self.private_pem)
        with self.lock:
            self.issued_tokens.append(answer["access_token"])
        return JSONResponse(answer)

    def _service(self, wrapped: WrappedRequest) -> "_Service":
        config = self.config()
        config.get_registration()
        return _Service(wrapped, config, f"{self.base_url}/lineitems", gradebook=self.gradebook)

    def _refused(self, wrapped: WrappedRequest) -> bool:
        auth = wrapped.headers.get("Authorization", "").split()
        return len(auth) == 2 and auth[1] in self.faults.revoked_tokens

    async def _serve(self, request: StarletteRequest, handler: str, **kwargs: Any) -> Response:
        wrapped = await wrap(request)
        if self._refused(wrapped):
            return JSONResponse({"message": "access token expired"}, status_code=401)
        service = self._service(wrapped)
        try:
            answer = service.handle_resp(getattr(service, handler), **kwargs)
        except Exception as exc:  # the library lets a bad signature through as an exception
            return JSONResponse({"message": f"invalid token: {exc}"}, status_code=401)
        if answer.code >= 400:
            return JSONResponse({"message": answer.message}, status_code=answer.code)
        return Response(json.dumps(answer.result), status_code=answer.code, media_type=answer.media_type)

    async def _lineitems(self, request: StarletteRequest) -> Response:
        handler = "handle_get_lineitems" if request.method == "GET" else "handle_create_lineitem"
        return await self._serve(request, handler)

    async def _lineitem(self, request: StarletteRequest, number: str) -> Response:
        return await self._serve(request, "handle_get_lineitem", line_item_id=self.gradebook.lineitem_id(number))

    async def _scores(self, request: StarletteRequest, number: str) -> Response:
        with self.lock:
            self.counters.score_posts += 1
            fault = self.faults.score_answers.pop(0) if self.faults.score_answers else None
        if fault is not None:
            status, headers = fault
            return JSONResponse({"message": f"injected HTTP {status}"}, status_code=status, headers=headers)
        return await self._serve(request, "handle_update_score", line_item_id=self.gradebook.lineitem_id(number))

    async def _results(self, request: StarletteRequest, number: str) -> Response:
        return await self._serve(request, "handle_get_results", line_item_id=self.gradebook.lineitem_id(number))

    @contextmanager
    def serving(self) -> Iterator["TestPlatform"]:
        server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                               lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        wait_until(lambda: server.started, timeout_s=30, what="the test platform listening")
        try:
            yield self
        finally:
            server.should_exit = True
            thread.join(timeout=30)


class _Config(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self._fixed = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        registration: Registration = self._fixed
        return registration


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=302)


class _Launch(LTIAdvantageMessageLaunchAbstract):
    hint: dict[str, Any]
    platform: TestPlatform

    def prepare_launch(self, preflight_response: dict[str, Any]) -> None:
        hint = self.hint
        role = LEARNER if hint["role"] == "learner" else INSTRUCTOR
        self.set_user_data(hint["user"], [role], full_name=f"Student {hint['user']}")
        self.set_resource_link_claim(hint["link"], title="TinyTorch layers")
        self.set_launch_context_claim("course-1", context_title="TinyTorch")
        self.set_custom_parameters_claim({"assignment": hint["assignment"]})
        self.set_ags(lineitems_url=f"{self.platform.base_url}/lineitems", lineitem_url=hint.get("lineitem"),
                     allow_creating_lineitems=True)
        if self.platform.faults.launch_claims:
            self.set_extra_claims(dict(self.platform.faults.launch_claims))

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> HTMLResponse:
        fields = "".join(f'<input type="hidden" name="{name}" value="{html.escape(str(launch_data[name]))}">'
                         for name in ("id_token", "state"))
        return HTMLResponse(f'<form id="launch" method="post" action="{html.escape(launch_data["launch_url"])}">'
                            f"{fields}</form>")


class _Service(AssignmentsGradesService):
    def __init__(self, *args: Any, gradebook: Gradebook, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gradebook = gradebook

    def find_lineitems(self, page: int = 1, limit: int | None = None, line_item_id: str | None = None,
                       resource_link_id: str | None = None, resource_id: str | None = None,
                       tag: str | None = None) -> TPage:
        items = [item for item in self.gradebook.lineitems.values()
                 if resource_link_id in (None, item.get("resourceLinkId")) and tag in (None, item.get("tag"))]
        return {"content": items, "has_next": False}

    def find_lineitem(self, line_item_id: str) -> Any:
        return self.gradebook.lineitems[line_item_id]

    def create_lineitem(self, creation_data: Any) -> Any:
        item = {**creation_data, "id": self.gradebook.lineitem_id(str(len(self.gradebook.lineitems) + 1))}
        self.gradebook.lineitems[item["id"]] = item
        return item

    def update_lineitem(self, update_data: Any) -> Any:
        self.gradebook.lineitems[update_data["id"]].update(update_data)
        return self.gradebook.lineitems[update_data["id"]]

    def delete_lineitem(self, line_item_id: str) -> None:
        self.gradebook.lineitems.pop(line_item_id, None)

    def update_score(self, line_item_id: str, score: Any) -> UpdateScoreStatus:
        from lti1p3platform.exceptions import LineItemNotFoundException

        if line_item_id not in self.gradebook.lineitems:
            raise LineItemNotFoundException()
        self.gradebook.scores_received.append({"lineitem": line_item_id, **score})
        results = self.gradebook.results.setdefault(line_item_id, {})
        previous = results.get(str(score["userId"]))
        if previous is not None and previous["timestamp"] > score["timestamp"]:
            return UpdateScoreStatus.OLD_TIMESTAMP
        results[str(score["userId"])] = {"id": f"{line_item_id}/results/{score['userId']}",
                                         "userId": score["userId"], "resultScore": score["scoreGiven"],
                                         "resultMaximum": score["scoreMaximum"], "comment": score.get("comment"),
                                         "scoreOf": line_item_id, "timestamp": score["timestamp"]}
        return UpdateScoreStatus.SUCCESS

    def get_results(self, line_item_id: str, page: int = 1, limit: int | None = None,
                    user_id: str | None = None) -> TPage:
        results = list(self.gradebook.results.get(line_item_id, {}).values())
        return {"content": [r for r in results if user_id in (None, r["userId"])], "has_next": False}

