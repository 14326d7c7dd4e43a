from datetime import datetime
from uuid import UUID

from sqlalchemy import DateTime, ForeignKey, Integer, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import Base, utcnow


class EducationRecord(Base):
    """A child's attendance, exclusions, behaviour and attainment (DOMAIN.md, "Records
    the notice promises beyond the core"): every column but the key and the row's own
    version and time is encrypted under the household's data key, bound to its column
    and row (`app.people.records.EDUCATION` seals and opens them)."""

    __tablename__ = "education_record"

    person_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    attendance_percent: Mapped[str | None] = mapped_column(Text)
    exclusions: Mapped[str | None] = mapped_column(Text)
    """The exclusions as JSON, encrypted as one value."""
    behaviour: Mapped[str | None] = mapped_column(Text)
    attainment: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
