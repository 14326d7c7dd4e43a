from datetime import date, datetime
from uuid import UUID, uuid4

from sqlalchemy import Date, DateTime, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.consent.models import Consent
from app.people.models import FamilyWorkerSupport
from app.platform.db import Base, utcnow


class DestructionLog(Base):
    """What was destroyed, by which rule, when: an opaque id, never a name."""

    __tablename__ = "destruction_log"

    subject_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(20))
    rule: Mapped[str] = mapped_column(String(40))
    destroyed_on: Mapped[date] = mapped_column(Date)
    logged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LegalHold(Base):
    """Destruction paused for a subject (a person or a household) while a legal claim
    may need the record. Released, not deleted, so the hold's history stays."""

    __tablename__ = "legal_hold"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    subject_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    subject_kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(200))
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    released_by: Mapped[str | None] = mapped_column(String(200))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# Deleting a person makes the database check every foreign key that points at it; an
# unindexed one is a full scan of its table per person deleted (a sweep deletes
# hundreds of thousands). These two columns had no index of their own.
Index("ix_consent_given_by_id", Consent.__table__.c.given_by_id)
Index("ix_family_worker_support_person_id", FamilyWorkerSupport.__table__.c.person_id)
