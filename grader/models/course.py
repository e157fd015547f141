"""A course: the assignments it grades and the API tokens that act for it."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grader.models.base import Base, new_id, stored_enum, utcnow


class TokenRole(enum.StrEnum):
    """What a token may do; stored as strings."""

    LMS = "lms"
    INSTRUCTOR = "instructor"


class Course(Base):
    """A course as an LMS knows it; its id is the short name staff type (`cs249r-2026`)."""

    __tablename__ = "courses"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    assignments: Mapped[list["CourseAssignment"]] = relationship(
        back_populates="course", order_by="CourseAssignment.assignment", cascade="all, delete-orphan")


class CourseAssignment(Base):
    """An assignment a course grades; ids in URLs are this name, scoped by the token's course. `version_id` is the
    published version it grades with; None: the shipped bundle of that name."""

    __tablename__ = "course_assignments"

    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    assignment: Mapped[str] = mapped_column(String(64), primary_key=True)
    version_id: Mapped[str | None] = mapped_column(ForeignKey("assignment_versions.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship(back_populates="assignments")


class ApiToken(Base):
    """A bearer token of one course and one role; only its sha256 is stored, so a database leak grants nothing."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    role: Mapped[TokenRole] = mapped_column(stored_enum(TokenRole))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
