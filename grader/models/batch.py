"""A regrade batch: one request to grade an assignment's submissions again under the current rubric version."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from grader.models.base import Base, new_id, utcnow


class RegradeBatch(Base):
    """The request and its publication state; progress is derived from the batch's runs, never counted here,
    so a crash between a run's commit and a counter update cannot desynchronize them."""

    __tablename__ = "regrade_batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    assignment: Mapped[str] = mapped_column(String(64), index=True)
    course: Mapped[str | None] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True,
                                              default=None)
    rubric_version: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(16), default="latest")
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    preview: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    rolled_back_at: Mapped[datetime | None] = mapped_column(default=None)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
