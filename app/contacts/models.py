from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import Base, utcnow


class Contact(Base):
    """A visit, call, meeting, session or development review.

    Notes are encrypted (free text can reveal anything); a review's outcome is
    health data and encrypted too.
    """

    __tablename__ = "contact"
    __table_args__ = (
        # Invitations leave out a child already seen for the review: one probe per child.
        Index("ix_contact_person_id_kind_review", "person_id", "kind", "review"),
        # Reports count one period's contacts: a range scan that also yields the person.
        Index("ix_contact_occurred_at_person_id", "occurred_at", "person_id"),
    )

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    person_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    staff_role: Mapped[str] = mapped_column(String(40))
    service: Mapped[str | None] = mapped_column(String(60))
    notes: Mapped[str | None] = mapped_column(Text)
    review: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
