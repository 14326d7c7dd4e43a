"""Reference tables, seeded from app/reference/data by a migration."""

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import Base


class Organisation(Base):
    __tablename__ = "organisation"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    roles: Mapped[str] = mapped_column(Text)


class RecipientOrganisation(Base):
    """An organisation outside the service that a share may go to."""

    __tablename__ = "recipient"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    consent_type: Mapped[str | None] = mapped_column(String(60))
    purpose: Mapped[str] = mapped_column(Text)
