"""Children's centres and the postcode areas each serves, seeded from reference data."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import Base


class Centre(Base):
    __tablename__ = "centre"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class CentreArea(Base):
    """A postcode district (`NW1`, `WC1`) or sector (`EC1R 0`) served by one centre."""

    __tablename__ = "centre_area"

    area: Mapped[str] = mapped_column(String(8), primary_key=True)
    centre_code: Mapped[str] = mapped_column(
        String(40), ForeignKey("centre.code", ondelete="CASCADE"), index=True
    )
