from datetime import date, datetime
from uuid import UUID, uuid4

from sqlalchemy import Date, DateTime, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import Base, utcnow


class Nursery(Base):
    """One of the council's maintained nurseries (reference data, seeded)."""

    __tablename__ = "nursery"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    org: Mapped[str] = mapped_column(String(20))


class Enrolment(Base):
    """The child attends the nursery from `start_date` until `end_date` (inclusive)."""

    __tablename__ = "enrolment"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    nursery_id: Mapped[UUID] = mapped_column(Uuid, ForeignKey("nursery.id"))
    child_id: Mapped[UUID] = mapped_column(Uuid, ForeignKey("person.id", ondelete="CASCADE"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_enrolment_child_id_nursery_id", "child_id", "nursery_id"),)
