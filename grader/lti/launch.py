"""The resource-link launch: the id_token is verified and checked claim by claim, then mapped to a student of a
course assignment, with the AGS endpoint kept for the score."""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.config import Settings
from grader.errors import LaunchRejected
from grader.logs import log_event
from grader.lti.login import ConsumedState, platform_for_deployment
from grader.lti.platform_keys import PlatformKeys
from grader.models import CourseAssignment, LtiLaunch, LtiPlatform
from grader.models.base import utcnow

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
LTI_VERSION = "1.3.0"
LEARNER_ROLE_SUFFIXES = ("/membership#Learner", "/institution/person#Student", "/membership/Learner#Learner")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LaunchResult:
    """Who launched what; upload_token (shown once, in the page's form) lets that student submit for a while."""

    launch_id: str
    course: str
    assignment: str
    student: str
    name: str
    learner: bool
    upload_token: str | None
    gradebook: bool


def verify_id_token(id_token: str, platform: LtiPlatform, keys: PlatformKeys, settings: Settings) -> dict[str, Any]:
    """Signature by a key the platform publishes (RS256 only), then iss, aud, exp, iat with a small leeway."""
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.InvalidTokenError as exc:
        raise LaunchRejected(f"the id_token is not a JWT: {exc}") from exc
    if header.get("alg") != "RS256" or not header.get("kid"):
        raise LaunchRejected("the id_token must be signed with RS256 and name its key (kid)")
    try:
        key = keys.signing_key(platform.jwks_url, str(header["kid"]))
        claims: dict[str, Any] = jwt.decode(
            id_token, key, algorithms=["RS256"], audience=platform.client_id, issuer=platform.issuer,
            leeway=settings.lti_leeway_s, options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce"]})
    except jwt.PyJWKClientError as exc:
        raise LaunchRejected(f"the id_token's key {header['kid']!r} is not in the platform's JWKS "
                             f"({platform.jwks_url}): {exc}", status_code=401) from exc
    except jwt.InvalidAudienceError as exc:
        raise LaunchRejected(f"the id_token is for another tool (aud is not {platform.client_id!r})",
                             status_code=401) from exc
    except jwt.InvalidIssuerError as exc:
        raise LaunchRejected(f"the id_token was not issued by {platform.issuer!r}", status_code=401) from exc
    except jwt.InvalidTokenError as exc:
        raise LaunchRejected(f"the id_token is not valid: {exc}", status_code=401) from exc
    return claims


def check_claims(claims: dict[str, Any], platform: LtiPlatform, consumed: ConsumedState) -> None:
    """azp, nonce, a deployment id, message type and version (LTI 1.3 core 5.1.2, Security Framework 5.1.3)."""
    audience = claims["aud"]
    azp = claims.get("azp")
    if (isinstance(audience, list) and len(audience) > 1 and azp is None) or (
            azp is not None and azp != platform.client_id):
        raise LaunchRejected("the id_token's azp is not this tool's client id", status_code=401)
    if not secrets.compare_digest(str(claims["nonce"]), consumed.nonce):
        raise LaunchRejected("the id_token's nonce is not the one this login issued (a replayed id_token)",
                             status_code=401)
    if not claims.get(CLAIM + "deployment_id"):
        raise LaunchRejected("the id_token has no deployment_id claim")
    if claims.get(CLAIM + "message_type") != RESOURCE_LINK_REQUEST:
        raise LaunchRejected(f"only {RESOURCE_LINK_REQUEST} launches are supported "
                             f"(got {claims.get(CLAIM + 'message_type')!r})")
    if claims.get(CLAIM + "version") != LTI_VERSION:
        raise LaunchRejected(f"only LTI {LTI_VERSION} is supported (got {claims.get(CLAIM + 'version')!r})")
    link = claims.get(CLAIM + "resource_link")
    if not isinstance(link, dict) or not link.get("id"):
        raise LaunchRejected("the launch has no resource_link id")
    if not str(claims.get("sub") or "").strip():
        raise LaunchRejected("anonymous launches cannot submit: the id_token has no sub (user id)")


def _assignment(session: Session, platform: LtiPlatform, claims: dict[str, Any]) -> str:
    """The link's custom parameter `assignment`, or the course's only assignment; it must be one the course grades."""
    custom = claims.get(CLAIM + "custom") or {}
    named = custom.get("assignment") if isinstance(custom, dict) else None
    graded = list(session.scalars(select(CourseAssignment.assignment)
                                  .where(CourseAssignment.course_id == platform.course_id)))
    if named is None and len(graded) == 1:
        return graded[0]
    if named is None:
        raise LaunchRejected("this link does not say which assignment it is: set the custom parameter "
                             f"assignment=<one of {', '.join(graded) or 'none yet'}> on the tool link")
    if named not in graded:
        raise LaunchRejected(f"course {platform.course_id!r} does not grade assignment {named!r} "
                             f"(it grades: {', '.join(graded) or 'none yet'})", status_code=404)
    return str(named)


def _known_lineitem(session: Session, platform: LtiPlatform, link_id: str) -> str | None:
    """The line item a classmate's launch of the same link already found, so it is not looked up again."""
    return session.scalar(select(LtiLaunch.lineitem_url).where(
        LtiLaunch.platform_id == platform.id, LtiLaunch.resource_link_id == link_id,
        LtiLaunch.lineitem_url.is_not(None)).limit(1))


def _store(session: Session, settings: Settings, platform: LtiPlatform, claims: dict[str, Any],
           assignment: str, learner: bool) -> tuple[LtiLaunch, str | None]:
    deployment = str(claims[CLAIM + "deployment_id"])
    link_id = str(claims[CLAIM + "resource_link"]["id"])
    user = str(claims["sub"])
    launch = session.scalar(select(LtiLaunch).where(
        LtiLaunch.platform_id == platform.id, LtiLaunch.deployment_id == deployment,
        LtiLaunch.resource_link_id == link_id, LtiLaunch.lti_user_id == user))
    if launch is None:
        launch = LtiLaunch(platform_id=platform.id, deployment_id=deployment, resource_link_id=link_id,
                           lti_user_id=user, course=platform.course_id, student=user, ags_scopes=[])
        session.add(launch)
    claimed = claims.get(AGS_CLAIM)
    ags: dict[str, Any] = claimed if isinstance(claimed, dict) else {}
    launch.assignment = assignment
    launch.lineitem_url = ags.get("lineitem") or launch.lineitem_url or _known_lineitem(session, platform, link_id)
    launch.lineitems_url = ags.get("lineitems") or launch.lineitems_url
    launch.ags_scopes = [str(scope) for scope in ags.get("scope") or []]
    launch.launched_at = utcnow()
    token = secrets.token_urlsafe(32) if learner else None
    launch.upload_token_sha256 = hashlib.sha256(token.encode()).hexdigest() if token else None
    launch.upload_expires_at = launch.launched_at + timedelta(hours=settings.lti_upload_hours) if token else None
    session.flush()
    return launch, token


def complete_launch(session: Session, settings: Settings, *, id_token: str, consumed: ConsumedState,
                    keys: PlatformKeys) -> LaunchResult:
    """Validate the launch whose state was consumed, and bind it to a student of a course assignment."""
    if consumed.expired:
        raise LaunchRejected("the login took too long and expired: open the assignment from the LMS again")
    platform = session.get(LtiPlatform, consumed.platform_id)
    if platform is None:
        raise LaunchRejected("the platform of this login was unregistered meanwhile", status_code=403)
    claims = verify_id_token(id_token, platform, keys, settings)
    check_claims(claims, platform, consumed)
    platform = platform_for_deployment(session, platform, str(claims[CLAIM + "deployment_id"]))
    roles = [str(role) for role in claims.get(CLAIM + "roles") or []]
    learner = any(role.endswith(LEARNER_ROLE_SUFFIXES) or role == "Learner" for role in roles)
    assignment = _assignment(session, platform, claims)
    launch, token = _store(session, settings, platform, claims, assignment, learner)
    log_event(logger, "lti_launched", launch_id=launch.id, platform_id=platform.id, learner=learner)
    name = str(claims.get("name") or claims.get("given_name") or claims.get("preferred_username") or "")
    return LaunchResult(launch_id=launch.id, course=launch.course, assignment=assignment, student=launch.student,
                        name=name, learner=learner, upload_token=token,
                        gradebook=bool(launch.lineitem_url or launch.lineitems_url))
