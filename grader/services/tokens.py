"""API tokens: minted at random, stored as sha256 only, each bound to one course and one role."""

import hashlib
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from grader.errors import Forbidden, NotFound, Unauthenticated
from grader.logs import log_event
from grader.models import ApiToken, Course, TokenRole
from grader.models.base import utcnow

TOKEN_PREFIX = "tg_"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id (never the token), its course and its role."""

    token_id: str
    course: str
    role: TokenRole

    def require(self, *roles: TokenRole) -> "Principal":
        if self.role not in roles:
            wanted = " or ".join(roles)
            raise Forbidden(f"this needs a token with role {wanted}; this token has role {self.role}")
        return self

    def require_course(self, course: str | None) -> None:
        if course != self.course:
            raise Forbidden("this belongs to another course than the token's")


@dataclass(frozen=True)
class IssuedToken:
    """A new token: the secret is shown once, here, and never again."""

    id: str
    course: str
    role: TokenRole
    token: str


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, *, course: str, role: TokenRole, label: str = "") -> IssuedToken:
    """Mint a token for a course that exists; only its hash is stored."""
    if session.get(Course, course) is None:
        raise NotFound(f"no course {course!r}; register it with `grader courses create {course}`")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(course_id=course, role=role, token_sha256=token_digest(raw), label=label[:255])
    session.add(row)
    session.flush()
    log_event(logger, "token_created", token_id=row.id, course=course, role=role)
    return IssuedToken(id=row.id, course=course, role=role, token=raw)


def revoke_token(session: Session, token_or_id: str) -> str:
    """End a token named by itself or by its id; revoking twice is harmless. Returns the token's id."""
    row = session.scalar(select(ApiToken).where(
        or_(ApiToken.id == token_or_id, ApiToken.token_sha256 == token_digest(token_or_id))))
    if row is None:
        raise NotFound("no such token (give the token itself or its id)")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
        log_event(logger, "token_revoked", token_id=row.id, course=row.course_id)
    return row.id


def authenticate(session: Session, token: str | None) -> Principal:
    """The principal of a live token; compared by hash, so timing says nothing about the stored value."""
    if not token:
        raise Unauthenticated("missing bearer token: send `Authorization: Bearer <token>`")
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token)))
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("unknown or revoked token")
    return Principal(token_id=row.id, course=row.course_id, role=row.role)
