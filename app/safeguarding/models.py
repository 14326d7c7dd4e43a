from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import DateTime, ForeignKey, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import Base, utcnow


class SafeguardingRecord(Base):
    """Risk issues, child protection plans, looked-after status, assessments.

    DOMAIN.md: every column that says anything about the child is encrypted under the
    family's data key, bound to its column and row (`app.safeguarding.service` seals and
    opens them): `kind` (the `SafeguardingKind` value), `start_date` and `end_date` (ISO
    dates), `summary` and `source` (police information is Art 10 data). Even "a plan
    started on this date" is safeguarding data. Only the ids and the row's own
    `created_at` are plain.
    """

    __tablename__ = "safeguarding_record"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    person_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[str] = mapped_column(Text)
    end_date: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
