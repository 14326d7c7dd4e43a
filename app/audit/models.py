"""The audit trail: append-only events, and the seals that chain them.

A request only appends its event (no lock, no read of the chain head); the sealer
later hashes committed events into the chain in the order it seals them. The
event table never changes after insert; on PostgreSQL triggers refuse UPDATE,
DELETE and TRUNCATE on both tables.
"""

from datetime import datetime
from uuid import UUID

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import Base, BigId


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    decision_id: Mapped[UUID] = mapped_column(Uuid, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    request_id: Mapped[str] = mapped_column(String(64))
    actor_sub: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(40))
    actor_org: Mapped[str] = mapped_column(String(20))
    actor_nursery_id: Mapped[UUID | None] = mapped_column(Uuid)
    purpose: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(20))
    resource: Mapped[str] = mapped_column(String(120))
    subject_id: Mapped[UUID | None] = mapped_column(Uuid, index=True)
    subject_kind: Mapped[str | None] = mapped_column(String(20))
    related_ids: Mapped[str | None] = mapped_column(Text)
    """Other subjects the request touched (a household's members), space-separated ids."""
    categories_asked: Mapped[str] = mapped_column(Text)
    categories_granted: Mapped[str] = mapped_column(Text)
    allowed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(40))
    bases: Mapped[str] = mapped_column(Text)
    justification: Mapped[str | None] = mapped_column(Text)
    review_required: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(20))
    """`completed` (committed with the data), `denied`, or `failed` (rolled back)."""
    status: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)
    """Canonical JSON of extra facts (a recipient, a hash of a rectified value)."""


class AuditEventSubject(Base):
    """Index of every subject an event touched, for a person's access log."""

    __tablename__ = "audit_event_subject"

    event_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("audit_event.id", ondelete="RESTRICT"), primary_key=True
    )
    subject_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)

    __table_args__ = (Index("ix_audit_event_subject_subject_id", "subject_id"),)


class AuditSeal(Base):
    """Position `seq` of the chain: hash(prev_hash, seq, event)."""

    __tablename__ = "audit_seal"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    event_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("audit_event.id", ondelete="RESTRICT"), unique=True
    )
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
