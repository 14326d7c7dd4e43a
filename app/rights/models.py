"""Subject-request cases (Arts 15-22): the case, its history, and an access package.

A case names its subject and requester by opaque id, with no foreign key: it is the
controller's record that a right was answered (Art 5(2)), so it outlives an erased
or destroyed subject. What it held of the person (the requester's own words, the
package) goes with the person.
"""

from datetime import date, datetime
from uuid import UUID, uuid4

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import Base, utcnow


class SubjectRequest(Base):
    __tablename__ = "subject_request"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    subject_kind: Mapped[str] = mapped_column(String(20))
    requester_id: Mapped[UUID] = mapped_column(Uuid)
    details: Mapped[str | None] = mapped_column(Text)
    """The request in the requester's words; cleared when the subject is erased."""
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_on: Mapped[date] = mapped_column(Date)
    """Europe/London date of receipt: the Art 12(3) clock starts here."""
    due_at: Mapped[date] = mapped_column(Date)
    extended_months: Mapped[int] = mapped_column(Integer, default=0)
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_days_total: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(Text)
    exempt_categories: Mapped[str | None] = mapped_column(Text)
    """Comma-separated: kept (erasure, Art 17(3)(b)) or withheld (access, an exemption)."""
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_subject_request_status_due_at", "status", "due_at"),)


class SubjectRequestEvent(Base):
    """One step of a case: received, paused, resumed, extended, rectified, decided, lifted."""

    __tablename__ = "subject_request_event"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    request_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("subject_request.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_sub: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    months: Mapped[int | None] = mapped_column(Integer)
    decision_id: Mapped[UUID | None] = mapped_column(Uuid)
    """The audit event of the decision this step rested on."""
    detail: Mapped[str | None] = mapped_column(Text)
    """Canonical JSON of opaque facts: fields rectified (names only), consents ended."""


class SubjectRequestPackage(Base):
    """The access or portability package built when the case was fulfilled.

    Stored encrypted under the household's data key (it holds health and safeguarding
    data), and deleted with the household or when any of its members is erased.
    """

    __tablename__ = "subject_request_package"

    request_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("subject_request.id", ondelete="CASCADE"), primary_key=True
    )
    family_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("family.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
