"""The passback outbox: one score to send to an LMS, written in the transaction that stored the result."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from grader.models.base import Base, new_id, stored_enum, utcnow


class PassbackStatus(enum.StrEnum):
    """Lifecycle of one delivery; stored as strings."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    SUPERSEDED = "superseded"


class PassbackReason(enum.StrEnum):
    """Why a delivery was written: a result stored, a batch published or rolled back, or staff asked again."""

    GRADED = "graded"
    REGRADED = "regraded"
    ROLLED_BACK = "rolled_back"
    RESEND = "resend"


class PassbackChannelName(enum.StrEnum):
    """Which channel carries a delivery: the signed webhook or LTI Assignment and Grade Services."""

    WEBHOOK = "webhook"
    LTI_AGS = "lti_ags"


class Passback(Base):
    """One signed callback: the body is fixed when the result is stored, so every retry sends the same bytes."""

    __tablename__ = "passbacks"
    __table_args__ = (Index("ix_passbacks_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("grading_runs.id", ondelete="CASCADE"), index=True)
    reason: Mapped[PassbackReason] = mapped_column(stored_enum(PassbackReason), default=PassbackReason.GRADED)
    channel: Mapped[PassbackChannelName] = mapped_column(stored_enum(PassbackChannelName),
                                                         default=PassbackChannelName.WEBHOOK,
                                                         server_default=PassbackChannelName.WEBHOOK.value)
    callback_url: Mapped[str] = mapped_column(String(2048))
    lti_launch_id: Mapped[str | None] = mapped_column(ForeignKey("lti_launches.id", ondelete="SET NULL"),
                                                      default=None)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[PassbackStatus] = mapped_column(stored_enum(PassbackStatus), default=PassbackStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
