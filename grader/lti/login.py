"""OIDC third-party initiated login: the platform names itself, we answer with a redirect carrying state and nonce."""

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from grader.config import Settings
from grader.errors import LaunchRejected
from grader.logs import log_event
from grader.models import LtiLoginState, LtiPlatform
from grader.models.base import utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoginRequest:
    """The login initiation parameters (LTI 1.3 core 5.1.1), by GET or form POST."""

    iss: str
    login_hint: str
    target_link_uri: str
    lti_message_hint: str | None = None
    client_id: str | None = None
    lti_deployment_id: str | None = None


def find_platform(session: Session, issuer: str, client_id: str | None) -> LtiPlatform:
    """A registration of this issuer and client id (any of its courses: the deployment picks the course later);
    an issuer alone is enough only when it has one client id here."""
    query = select(LtiPlatform).where(LtiPlatform.issuer == issuer).order_by(LtiPlatform.created_at)
    if client_id:
        query = query.where(LtiPlatform.client_id == client_id)
    platforms = list(session.scalars(query))
    if not platforms:
        raise LaunchRejected(f"this grader has no LTI registration for issuer {issuer!r}"
                             + (f" and client id {client_id!r}" if client_id else "")
                             + ": ask the course staff to register the platform (`grader lti register`)",
                             status_code=403)
    if len({platform.client_id for platform in platforms}) > 1:
        raise LaunchRejected(f"issuer {issuer!r} has several client ids here and the login did not say which",
                             status_code=400)
    return platforms[0]


def platform_for_deployment(session: Session, platform: LtiPlatform, deployment_id: str) -> LtiPlatform:
    """The registration (so the course) of this deployment, among those of the same issuer and client id."""
    siblings = session.scalars(select(LtiPlatform).where(LtiPlatform.issuer == platform.issuer,
                                                         LtiPlatform.client_id == platform.client_id))
    for candidate in siblings:
        if deployment_id in candidate.deployment_ids:
            return candidate
    raise LaunchRejected(f"deployment {deployment_id!r} of {platform.issuer} is not registered with this grader: "
                         "add it to the course's registration with `grader lti register ... --deployment-id`",
                         status_code=403)


def begin_login(session: Session, settings: Settings, request: LoginRequest, *, launch_url: str) -> str:
    """Store a fresh single-use state and nonce, and return the platform's authorization URL to redirect to.

    The id_token comes back to our own launch URL, never to the target_link_uri the request named, so a forged
    login cannot make us post a token elsewhere.
    """
    platform = find_platform(session, request.iss, request.client_id)
    if request.lti_deployment_id is not None:
        platform = platform_for_deployment(session, platform, request.lti_deployment_id)
    if urlsplit(request.target_link_uri).netloc != urlsplit(launch_url).netloc:
        raise LaunchRejected(f"target_link_uri {request.target_link_uri!r} is not this grader ({launch_url})")
    now = utcnow()
    _forget_old_logins(session, now)
    state = LtiLoginState(state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32), platform_id=platform.id,
                          created_at=now, expires_at=now + timedelta(seconds=settings.lti_login_ttl_s))
    session.add(state)
    session.flush()
    params = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
              "client_id": platform.client_id, "redirect_uri": launch_url, "login_hint": request.login_hint,
              "state": state.state, "nonce": state.nonce}
    if request.lti_message_hint is not None:
        params["lti_message_hint"] = request.lti_message_hint
    log_event(logger, "lti_login_started", platform_id=platform.id)
    separator = "&" if urlsplit(platform.auth_login_url).query else "?"
    return f"{platform.auth_login_url}{separator}{urlencode(params)}"


def _forget_old_logins(session: Session, now: datetime) -> None:
    """A state past its expiry can never launch again (it is refused as unknown), so old ones are dropped."""
    session.execute(delete(LtiLoginState).where(LtiLoginState.expires_at < now - timedelta(hours=1))
                    .execution_options(synchronize_session=False))


@dataclass(frozen=True)
class ConsumedState:
    """A login state taken for one launch: whoever presents it again is rejected."""

    platform_id: str
    nonce: str
    expired: bool


def consume_state(session: Session, state: str) -> ConsumedState:
    """Mark the state used, in a transaction of its own that the caller commits before validating the id_token,
    so neither a replayed form post nor a failed attempt can use it again (an expired one is used up too)."""
    row = session.scalar(select(LtiLoginState).where(LtiLoginState.state == state).with_for_update())
    if row is None:
        raise LaunchRejected("this launch has no login we started (unknown state): open the assignment from the "
                             "LMS again")
    if row.used_at is not None:
        raise LaunchRejected("this launch was already used (a replayed id_token or state): open the assignment "
                             "from the LMS again")
    now = utcnow()
    row.used_at = now
    session.flush()
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    return ConsumedState(platform_id=row.platform_id, nonce=row.nonce, expired=expires < now)
