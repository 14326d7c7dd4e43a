"""Art 19 notifications: recipients told of a rectification, erasure or restriction.

A notification names the disclosure its recipient received and the subject by opaque
id; what it says beyond that (a rectification's corrected values) is encrypted under
the household's key, and goes when the subject goes (DOMAIN.md, "Notifying recipients").
"""

from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import Base, BigId, utcnow


class NotificationEvent(StrEnum):
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    """Not yet attempted, or due again."""
    DELIVERED = "delivered"
    """The recipient's endpoint answered 2xx."""
    FAILED = "failed"
    """The last attempt failed: retried, with backoff, until it succeeds or is closed."""
    MANUAL = "manual"
    """The recipient takes no notification electronically: the officer sends it by hand."""
    CLOSED = "closed"
    """Closed by the officer (sent by hand, or impossible or disproportionate: the
    reason says which), or superseded when the subject's record went."""


OPEN_STATUSES = (NotificationStatus.PENDING, NotificationStatus.FAILED, NotificationStatus.MANUAL)


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_status_due", "status", "next_attempt_at"),)

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    disclosure_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("disclosure.id", ondelete="RESTRICT"), index=True
    )
    subject_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    subject_kind: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(20))
    cause_id: Mapped[UUID] = mapped_column(Uuid)
    """The decision (audit event) of the change the recipient is told of."""
    categories: Mapped[str] = mapped_column(Text)
    """Comma-separated categories the change touched among those the recipient received."""
    family_id: Mapped[UUID | None] = mapped_column(Uuid)
    """The household whose key seals `payload`; gone with the subject."""
    payload: Mapped[str | None] = mapped_column(Text)
    """A rectification's corrected values (JSON), encrypted; none for the other events."""
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_token: Mapped[UUID | None] = mapped_column(Uuid)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_reason: Mapped[str | None] = mapped_column(Text)
    closed_by: Mapped[str | None] = mapped_column(String(200))


class NotificationAttempt(Base):
    """One delivery attempt: when, what the endpoint answered, never what was sent."""

    __tablename__ = "notification_attempt"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    notification_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("notification.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(200))
    duration_ms: Mapped[int] = mapped_column(Integer)
