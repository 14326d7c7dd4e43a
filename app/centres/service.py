"""Centres from their seeded tables, and each household's centre from its postcode."""

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from app.centres import catalogue
from app.centres.models import Centre, CentreArea
from app.platform.db import utcnow
from app.platform.pagination import Page, keyset_page
from app.reports.models import EVERYTHING


def page(session: Session, *, limit: int, cursor: str | None) -> Page[catalogue.CentreRef]:
    """By code."""
    found = keyset_page(
        session, select(Centre.code, Centre.name), (Centre.code,), limit=limit, cursor=cursor
    )
    shown = found.items
    served: dict[str, list[str]] = defaultdict(list)
    if shown:
        for area, code in session.execute(
            select(CentreArea.area, CentreArea.centre_code)
            .where(CentreArea.centre_code.in_([row.code for row in shown]))
            .order_by(CentreArea.area)
        ):
            served[code].append(area)
    items = [
        catalogue.CentreRef(code=row.code, name=row.name, areas=tuple(served[row.code]))
        for row in shown
    ]
    return Page(items=items, next_cursor=found.next_cursor)


_family = sa.table(
    "family", sa.column("id", sa.Uuid), sa.column("postcode"), sa.column("centre_code")
)
_person = sa.table("person", sa.column("family_id", sa.Uuid), sa.column("centre_code"))
_report_change = sa.table(
    "report_change",
    sa.column("family_id", sa.Uuid),
    sa.column("changed_at", sa.DateTime(timezone=True)),
)


def assign_all(connection: Connection) -> int:
    """Set every household's centre (and its members' copies) from its postcode; returns
    the households changed.

    Run by the migration that adds the column, and after an edit of centres.json
    changes which centre serves an area (a migration that reseeds the tables calls it).
    """
    changed = 0
    postcodes = connection.execute(select(_family.c.postcode).distinct()).scalars().all()
    for postcode in postcodes:
        code = catalogue.centre_of(postcode)
        result = connection.execute(
            sa.update(_family)
            .where(_family.c.postcode == postcode)
            .where(
                _family.c.centre_code.is_not(None)
                if code is None
                else sa.or_(_family.c.centre_code.is_(None), _family.c.centre_code != code)
            )
            .values(centre_code=code)
        )
        changed += result.rowcount
    # Each member carries a copy of the household's centre (see Person.centre_code).
    household = (
        select(_family.c.centre_code).where(_family.c.id == _person.c.family_id).scalar_subquery()
    )
    connection.execute(
        sa.update(_person)
        .where(
            sa.or_(
                sa.and_(_person.c.centre_code.is_(None), household.is_not(None)),
                sa.and_(_person.c.centre_code.is_not(None), household.is_(None)),
                _person.c.centre_code != household,
            )
        )
        .values(centre_code=household)
    )
    # Reports count children by area: every process's report facts are rebuilt (the
    # feed exists from a later migration than the first that calls this).
    if changed and sa.inspect(connection).has_table("report_change"):
        connection.execute(
            sa.insert(_report_change).values(family_id=EVERYTHING, changed_at=utcnow())
        )
    return changed
