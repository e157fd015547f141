"""A submission: the student's file exactly as received, never modified."""

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grader.models.base import Base, new_id, utcnow

if TYPE_CHECKING:
    from grader.models.grading_run import GradingRun


class Submission(Base):
    """The bytes a student handed in, with who, what and a content hash."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("course", "assignment", "external_id",
                                       name="uq_submissions_course_assignment_external_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    assignment: Mapped[str] = mapped_column(String(64), index=True)
    student: Mapped[str] = mapped_column(String(255), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int]
    external_id: Mapped[str | None] = mapped_column(String(255), default=None)
    course: Mapped[str | None] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"), index=True,
                                              default=None)
    callback_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    parsed_cells: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None, deferred=True)

    runs: Mapped[list["GradingRun"]] = relationship(back_populates="submission", order_by="GradingRun.queued_at")
