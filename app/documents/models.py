from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import Base, utcnow


class Document(Base):
    """A file sent to the service about a person, or a report about their situation.

    DOMAIN.md: its content is encrypted under the household key like every special
    field. What the row says of it (kind, category, source, file name, type, size) says
    something about the person too ("a police report"), so it is encrypted as well,
    each value bound to its column and row; only the ids and the row's time are plain.
    """

    __tablename__ = "document"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    person_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(Text)
    media_type: Mapped[str] = mapped_column(Text)
    size: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DocumentChunk(Base):
    """One piece of a document's content: AES-256-GCM under the household key, its own
    nonce, bound to the document, its position and the number of pieces (so a piece
    moved, reordered or dropped fails to open). `person_id` lets erasure and destruction
    delete the pieces with the person's other rows."""

    __tablename__ = "document_chunk"

    document_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("document.id", ondelete="CASCADE"), primary_key=True
    )
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)
