"""The report change feed: which households changed, in commit-independent order."""

from collections.abc import Iterable
from datetime import datetime
from typing import Final
from uuid import UUID

from sqlalchemy import DateTime, Uuid, insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.platform.db import Base, BigId, utcnow

EVERYTHING: Final = UUID(int=0)
"""The household id of a feed entry that names every household: written after a bulk
load or a change to which centre serves an area, it makes every process rebuild its
report facts (app.reports.facts)."""


class ReportChange(Base):
    """A household whose report facts (an encrypted value a report groups by, or a
    child's eligibility) may have changed, appended in the transaction of the change.

    Opaque ids and the row's own timestamp only (DOMAIN.md): the feed says that a
    household changed, never what it now holds."""

    __tablename__ = "report_change"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    family_id: Mapped[UUID] = mapped_column(Uuid)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def household_changed(target: Session | Connection, family_ids: Iterable[UUID]) -> None:
    """Append the households to the change feed, in the caller's transaction."""
    now = utcnow()
    rows = [{"family_id": family_id, "changed_at": now} for family_id in dict.fromkeys(family_ids)]
    if rows:
        target.execute(insert(ReportChange), rows)
