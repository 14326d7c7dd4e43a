from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import Base, utcnow


class Relationship(Base):
    """A family relationship of a person (DOMAIN.md, category `household`): to another
    person on the record (`to_person_id`) or to someone who is not (`to_name`, encrypted
    under the person's household key: the name of someone not on the record is their
    personal data, held for this person's record only)."""

    __tablename__ = "relationship"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    person_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    to_person_id: Mapped[UUID | None] = mapped_column(
        Uuid, ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    to_name: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    in_household: Mapped[bool] = mapped_column(Boolean)
    has_parental_responsibility: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
