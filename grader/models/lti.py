"""LTI 1.3: the platforms a course is registered with, the tool's keys, login states and launches."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grader.models.base import Base, new_id, utcnow


class LtiPlatform(Base):
    """One LMS registration of a course: who signs launches (issuer + client id), the deployments that are this
    course, and where the platform's endpoints are.

    One client id (a Canvas developer key) usually serves a whole institution, with one deployment per course
    where the tool is installed: so several courses may register the same issuer and client id, each with its
    own deployments, and a launch belongs to the course of its deployment.
    """

    __tablename__ = "lti_platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id", "course_id",
                                       name="uq_lti_platforms_issuer_client_course"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(512))
    client_id: Mapped[str] = mapped_column(String(255))
    deployment_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    auth_login_url: Mapped[str] = mapped_column(String(2048))
    token_url: Mapped[str] = mapped_column(String(2048))
    jwks_url: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LtiToolKey(Base):
    """The tool's RSA key pair; the private half is stored encrypted (Fernet), the public half served as JWKS.

    The newest key that is not retired signs; a retired key stays published for a while so that platforms
    holding a cached JWKS still accept tokens it signed shortly before the rotation.
    """

    __tablename__ = "lti_tool_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(default=None)


class LtiLoginState(Base):
    """One OIDC login in progress: its state and nonce are single use, and expire within minutes."""

    __tablename__ = "lti_login_states"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class LtiLaunch(Base):
    """A student at one resource link: who they are to the platform and where their score goes (AGS claim).

    A repeated launch of the same link by the same user updates this row, so its line item is found once.
    """

    __tablename__ = "lti_launches"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id", "resource_link_id", "lti_user_id",
                                       name="uq_lti_launches_link_user"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    platform_id: Mapped[str] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[str] = mapped_column(String(255))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    lti_user_id: Mapped[str] = mapped_column(String(255))
    course: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    assignment: Mapped[str] = mapped_column(String(64))
    student: Mapped[str] = mapped_column(String(255))
    lineitem_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    lineitems_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    ags_scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    upload_token_sha256: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    upload_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    launched_at: Mapped[datetime] = mapped_column(default=utcnow)

    platform: Mapped[LtiPlatform] = relationship()


class LtiSubmissionLink(Base):
    """The launch a submission came through: its score goes to that launch's line item, for that LTI user."""

    __tablename__ = "lti_submission_links"

    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    launch_id: Mapped[str] = mapped_column(ForeignKey("lti_launches.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    launch: Mapped[LtiLaunch] = relationship()
