"""Registering a course with an LTI 1.3 platform: the issuer, client id, deployments and the platform's URLs."""

import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.config import Settings
from grader.errors import Conflict, NotFound, Rejected
from grader.logs import log_event
from grader.lti.keys import ensure_tool_key
from grader.models import Course, LtiPlatform
from grader.services.callback_guard import CallbackPolicy
from grader.services.courses import check_callback_url

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlatformRegistration:
    """What an LMS administrator reads off the platform's developer-key (Canvas) or tool (Moodle) page."""

    issuer: str
    client_id: str
    auth_login_url: str
    token_url: str
    jwks_url: str
    deployment_ids: list[str] = field(default_factory=list)


def _check(registration: PlatformRegistration, policy: CallbackPolicy) -> None:
    if not registration.issuer.strip() or not registration.client_id.strip():
        raise Rejected("issuer and client_id are both required", code="invalid")
    if not registration.deployment_ids or any(not d.strip() for d in registration.deployment_ids):
        raise Rejected("at least one deployment id is required, none of them empty", code="invalid")
    for name in ("auth_login_url", "token_url", "jwks_url"):
        try:
            check_callback_url(getattr(registration, name), policy)
        except Rejected as exc:
            raise Rejected(f"{name}: {exc.reason}", code="invalid") from exc


def register_platform(session: Session, settings: Settings, *, course: str,
                      registration: PlatformRegistration) -> LtiPlatform:
    """Create or update (same issuer and client id, same course) the course's platform; the tool key is made
    on first registration so its JWKS can be given to the platform at once."""
    if session.get(Course, course) is None:
        raise NotFound(f"no course {course!r}")
    _check(registration, CallbackPolicy.from_cidrs(settings.passback_allowed_networks))
    siblings = list(session.scalars(select(LtiPlatform).where(LtiPlatform.issuer == registration.issuer,
                                                              LtiPlatform.client_id == registration.client_id)))
    for other in siblings:
        taken = set(other.deployment_ids) & set(registration.deployment_ids)
        if other.course_id != course and taken:
            raise Conflict(f"deployment {sorted(taken)[0]!r} of {registration.issuer} is already registered for "
                           f"course {other.course_id!r}: a deployment belongs to one course")
    platform = next((other for other in siblings if other.course_id == course), None)
    if platform is None:
        platform = LtiPlatform(course_id=course, issuer=registration.issuer, client_id=registration.client_id)
        session.add(platform)
    platform.deployment_ids = sorted(set(registration.deployment_ids))
    platform.auth_login_url = registration.auth_login_url
    platform.token_url = registration.token_url
    platform.jwks_url = registration.jwks_url
    session.flush()
    ensure_tool_key(session, settings)
    log_event(logger, "lti_platform_registered", platform_id=platform.id, course=course)
    return platform


def course_platforms(session: Session, course: str | None) -> list[LtiPlatform]:
    """One course's registrations, or every course's (None: an administrator at the server)."""
    query = select(LtiPlatform).order_by(LtiPlatform.course_id, LtiPlatform.issuer)
    if course is not None:
        query = query.where(LtiPlatform.course_id == course)
    return list(session.scalars(query))
