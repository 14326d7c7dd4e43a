from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import DateTime, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import Base, utcnow


class Consent(Base):
    """A consent record: never deleted by a withdrawal, which only stamps it."""

    __tablename__ = "consent"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    subject_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    given_by_id: Mapped[UUID] = mapped_column(Uuid, ForeignKey("person.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(60))
    categories: Mapped[str] = mapped_column(Text)
    """Comma-separated categories the consent covers."""
    recipient: Mapped[str | None] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(String(20))
    evidence_ref: Mapped[str | None] = mapped_column(String(200))
    given_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
