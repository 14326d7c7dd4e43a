"""Disclosures: what left the service, to whom, when, on which basis."""

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import DateTime, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import Base, utcnow


class Disclosure(Base):
    """One share outside the service, as it was made (DOMAIN.md, "Sharing").

    Like the audit trail it names the subject by an opaque id only, and has no foreign
    key to the person: the fact of a disclosure outlives the record it came from, so a
    later access request can still say what was shared and with whom.
    """

    __tablename__ = "disclosure"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    decision_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("audit_event.decision_id", ondelete="RESTRICT"), unique=True
    )
    subject_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    recipient: Mapped[str] = mapped_column(String(40))
    categories: Mapped[str] = mapped_column(Text)
    """Comma-separated categories actually disclosed."""
    purpose: Mapped[str] = mapped_column(String(40))
    bases: Mapped[str] = mapped_column(Text)
    """Comma-separated lawful bases the share rested on."""
    actor_sub: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(40))
    actor_org: Mapped[str] = mapped_column(String(20))
    disclosed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
