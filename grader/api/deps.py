"""Request dependencies: settings, the unit of work, the dispatcher, the caller's principal and its limits."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from grader.config import Settings
from grader.models import TokenRole
from grader.services.queueing import Dispatcher, dispatching_scope
from grader.services.ratelimit import check_submission_rate
from grader.services.tokens import Principal, authenticate

bearer = HTTPBearer(auto_error=False, scheme_name="BearerToken",
                    description="A course token from `grader tokens create --course COURSE --role lms|instructor`")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def celery_dispatcher_for(settings: Settings) -> Dispatcher:
    """The issue-4 Celery sender for these settings, imported on first use so the API starts without a broker."""
    from workers.app import create_app as create_celery_app
    from workers.dispatch import celery_dispatcher

    return celery_dispatcher(create_celery_app(settings))


def get_dispatcher(request: Request) -> Dispatcher:
    """Overridable in tests (`app.dependency_overrides[get_dispatcher]`); built once per app otherwise."""
    state = request.app.state
    if state.dispatcher is None:
        state.dispatcher = celery_dispatcher_for(state.settings)
    dispatcher: Dispatcher = state.dispatcher
    return dispatcher


def unit_of_work(request: Request, dispatch: Annotated[Dispatcher, Depends(get_dispatcher)]) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent; queued messages leave after it."""
    with dispatching_scope(request.app.state.session_factory, dispatch) as session:
        yield session


SessionDep = Annotated[Session, Depends(unit_of_work, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def current_principal(session: SessionDep,
                      credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    return authenticate(session, credentials.credentials if credentials else None)


def instructor(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    return principal.require(TokenRole.INSTRUCTOR)


def submitting_lms(request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """An LMS token within its rate: the bucket is taken before anything is read or stored."""
    principal.require(TokenRole.LMS)
    check_submission_rate(request.app.state.buckets, request.app.state.submission_policy, principal.token_id)
    return principal


AnyPrincipal = Annotated[Principal, Depends(current_principal)]
Instructor = Annotated[Principal, Depends(instructor)]
SubmittingLms = Annotated[Principal, Depends(submitting_lms)]
