"""The data protection officer's reviews of safeguarding overrides."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import DateTime, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import Base, utcnow


class SafeguardingReview(Base):
    """One review of one override decision: the override itself stays in the trail as
    it was; the review is a record beside it (the trail is append-only)."""

    __tablename__ = "safeguarding_review"

    decision_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("audit_event.decision_id", ondelete="RESTRICT"), primary_key=True
    )
    outcome: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str] = mapped_column(String(200))
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
