"""A grading run and its per-item results: every run is kept, one is current per submission."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ColumnElement, Float, ForeignKey, Index, Integer, String, Text, and_, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grader.models.base import Base, new_id, stored_enum, utcnow
from grader.models.submission import Submission


class RunStatus(enum.StrEnum):
    """Lifecycle of a run; stored as strings. `cancelled`: its regrade batch was cancelled before a worker took it
    (not an error: nothing went wrong, and it says nothing about the submission)."""

    QUEUED = "queued"
    RUNNING = "running"
    GRADED = "graded"
    ERROR = "error"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in FINISHED


UNFINISHED: tuple[RunStatus, ...] = (RunStatus.QUEUED, RunStatus.RUNNING)
FINISHED: tuple[RunStatus, ...] = tuple(status for status in RunStatus if status not in UNFINISHED)


class GradingRun(Base):
    """One attempt to grade one submission under one rubric version."""

    __tablename__ = "grading_runs"
    __table_args__ = (
        Index("uq_grading_runs_current_submission", "submission_id", unique=True,
              postgresql_where=text("is_current"), sqlite_where=text("is_current")),
        Index("ix_grading_runs_status_lease", "status", "lease_expires_at"),
        Index("ix_grading_runs_started_at", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    rubric_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[RunStatus] = mapped_column(stored_enum(RunStatus), default=RunStatus.QUEUED, index=True)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    max_score: Mapped[float | None] = mapped_column(Float, default=None)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(255), default=None)
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)
    dispatches: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    claim_token: Mapped[str | None] = mapped_column(String(64), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    locked_cells_modified: Mapped[bool] = mapped_column(Boolean, default=False)
    integrity_flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    sandbox_usage: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    output: Mapped[str] = mapped_column(Text, default="")
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("regrade_batches.id", ondelete="SET NULL"), index=True,
                                                default=None)
    preview: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    replaces_run_id: Mapped[str | None] = mapped_column(ForeignKey("grading_runs.id", ondelete="SET NULL"),
                                                       default=None)

    submission: Mapped[Submission] = relationship(back_populates="runs")
    items: Mapped[list["ItemResult"]] = relationship(
        back_populates="run", order_by="ItemResult.position", cascade="all, delete-orphan"
    )

    @hybrid_property
    def holds_current_score(self) -> bool:
        """The current graded run: the one score of its submission that is shown, exported and passed back.
        The same test in Python and in SQL (`select(...).where(GradingRun.holds_current_score)`)."""
        return self.is_current and self.status == RunStatus.GRADED

    @holds_current_score.inplace.expression
    @classmethod
    def _holds_current_score_sql(cls) -> ColumnElement[bool]:
        return and_(cls.is_current, cls.status == RunStatus.GRADED)

    @hybrid_property
    def tells_status(self) -> bool:
        """A run the submission's status is read from: a preview is not the student's yet, and a run cancelled
        before it started says nothing about the submission."""
        return not self.preview and self.status != RunStatus.CANCELLED

    @tells_status.inplace.expression
    @classmethod
    def _tells_status_sql(cls) -> ColumnElement[bool]:
        return and_(cls.preview.is_(False), cls.status != RunStatus.CANCELLED)


class ItemResult(Base):
    """The verdict and points of one rubric item in one run."""

    __tablename__ = "item_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("grading_runs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    item_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    points: Mapped[float] = mapped_column(Float)
    max_points: Mapped[float] = mapped_column(Float)
    visibility: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")

    run: Mapped[GradingRun] = relationship(back_populates="items")
