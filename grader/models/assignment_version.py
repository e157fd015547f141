"""Published assignment bundles: the archive bytes by content hash, and each course's versions of an assignment."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grader.models.base import Base, new_id, stored_enum, utcnow


class VersionStatus(enum.StrEnum):
    """Lifecycle of an uploaded version: only a published one is ever current or used for grading."""

    CHECKING = "checking"
    PUBLISHED = "published"
    REJECTED = "rejected"


class BundleArchive(Base):
    """A bundle's canonical .tar.gz, stored once per content hash however many courses publish it."""

    __tablename__ = "bundle_archives"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssignmentVersion(Base):
    """One upload of an assignment to a course: immutable content, and the check that decided its fate.

    `forced` records that the publisher asked to publish even if the check fails; the stored report says
    whether it did.
    """

    __tablename__ = "assignment_versions"
    __table_args__ = (
        UniqueConstraint("course_id", "assignment", "content_hash",
                         name="uq_assignment_versions_course_assignment_content"),
        Index("ix_assignment_versions_course_assignment", "course_id", "assignment"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    assignment: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(ForeignKey("bundle_archives.content_hash"))
    rubric_version: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[VersionStatus] = mapped_column(stored_enum(VersionStatus), default=VersionStatus.CHECKING)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    check_report: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    published_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)
    dispatches: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
