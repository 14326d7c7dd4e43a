from datetime import date, datetime
from uuid import UUID

from sqlalchemy import Date, DateTime, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import Base, utcnow


class DestructionLog(Base):
    """What was destroyed, by which rule, when: an opaque id, never a name."""

    __tablename__ = "destruction_log"

    subject_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(20))
    rule: Mapped[str] = mapped_column(String(40))
    destroyed_on: Mapped[date] = mapped_column(Date)
    logged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
