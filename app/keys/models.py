from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import Base, utcnow


class KeyCanary(Base):
    """A known value stored as a household's data is: a data key wrapped under a KEK
    (named by `kek_id`) and a constant encrypted under it. Readiness opens it, so a
    configuration whose keys do not open the database is found before a read fails."""

    __tablename__ = "key_canary"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    kek_id: Mapped[str] = mapped_column(String(16))
    sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
