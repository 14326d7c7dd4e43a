"""Households, people and the person's special-category and circumstances records."""

from datetime import date, datetime
from uuid import UUID, uuid4

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import Base, utcnow


class Family(Base):
    """A household. Its address and telephone are the members' contact data."""

    __tablename__ = "family"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    address_line1: Mapped[str] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(8), index=True)
    centre_code: Mapped[str | None] = mapped_column(String(40), index=True)
    """The children's centre serving the postcode (app.centres), derived when the household
    is created; None outside every centre's area (reported as `unassigned`)."""
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    family_worker_supported: Mapped[bool] = mapped_column(Boolean, default=False)
    destroy_on: Mapped[date] = mapped_column(Date, index=True)
    """When the household's adult data goes: when its last child's data goes."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class FamilyKey(Base):
    """The family's data key, wrapped by a key-encryption key (IEYS_ENCRYPTION_KEY, or
    one of IEYS_ENCRYPTION_PREVIOUS_KEYS before `ieys rewrap`), named by `kek_id`.

    Deleting this row makes every encrypted field of the family in the database
    unreadable: crypto-shredding. A backup taken before still holds the row, readable
    until the KEK that wrapped it is retired.
    """

    __tablename__ = "family_key"

    family_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("family.id", ondelete="CASCADE"), primary_key=True
    )
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    kek_id: Mapped[str] = mapped_column(String(16), index=True)
    """The id of the KEK that wrapped the key (app.platform.crypto.kek_id)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Person(Base):
    __tablename__ = "person"
    __table_args__ = (
        # Invitations: a centre's children born in a window.
        Index(
            "ix_person_child_centre_born",
            "centre_code",
            "date_of_birth",
            postgresql_where=text("kind = 'child'"),
            sqlite_where=text("kind = 'child'"),
        ),
        # Reports: every child with what a report groups and filters by, read from the
        # index alone (PostgreSQL's INCLUDE; SQLite reads the row).
        Index(
            "ix_person_child_report",
            "date_of_birth",
            postgresql_include=[
                "id",
                "centre_code",
                "restricted",
                "objection_upheld",
                "destroy_on",
            ],
            postgresql_where=text("kind = 'child'"),
            sqlite_where=text("kind = 'child'"),
        ),
    )

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    family_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("family.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date, index=True)
    sex: Mapped[str | None] = mapped_column(String(20))
    nhs_number: Mapped[str | None] = mapped_column(String(10), unique=True)
    upn: Mapped[str | None] = mapped_column(String(13), unique=True)
    has_parental_responsibility: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    centre_code: Mapped[str | None] = mapped_column(String(40))
    """The household's centre, copied (app.centres.service keeps them equal): reports and
    invitations over a million children read it from an index, without a join."""
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    """Art 18: processing restricted; storage continues."""
    objection_upheld: Mapped[bool] = mapped_column(Boolean, default=False)
    """Art 21: an upheld objection stops the non-care purposes."""
    destroy_on: Mapped[date | None] = mapped_column(Date, index=True)
    """A child's destruction date (fifth birthday, or 25th with family-worker support)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class SpecialCategoryRecord(Base):
    """Ethnicity and health: stored encrypted under the family's data key."""

    __tablename__ = "special_category"

    person_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    ethnicity: Mapped[str | None] = mapped_column(Text)
    medical_history: Mapped[str | None] = mapped_column(Text)
    wellbeing: Mapped[str | None] = mapped_column(Text)
    needs: Mapped[str | None] = mapped_column(Text)
    allergies: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class CircumstancesRecord(Base):
    __tablename__ = "circumstances"

    person_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    work_status: Mapped[str | None] = mapped_column(String(40))
    family_makeup: Mapped[str | None] = mapped_column(String(40))
    legal_status: Mapped[str | None] = mapped_column(String(40))
    accommodation: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class FamilyWorkerSupport(Base):
    """A family worker supports the family: its children's data is kept to 25."""

    __tablename__ = "family_worker_support"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    family_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("family.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[UUID] = mapped_column(Uuid, ForeignKey("person.id", ondelete="CASCADE"))
    started_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
