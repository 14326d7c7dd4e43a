"""Make records old: a child cannot be created over five, so tests move the dates."""

from datetime import date, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.people.models import Family, Person
from app.retention import rules
from tests import factories


def age_child(session: Session, child: Person, *, years: int = 6) -> date:
    """Born `years` ago (and a day): past five, its date set by the household's rule."""
    born = rules.add_years(factories.today(), -years) - timedelta(days=1)
    family = session.get(Family, child.family_id)
    assert family is not None
    destroy_on = rules.child_destruction_date(
        born, family_worker_supported=bool(family.family_worker_supported)
    )
    session.execute(
        update(Person)
        .where(Person.id == child.id)
        .values(date_of_birth=born, destroy_on=destroy_on)
    )
    refresh_household(session, child.family_id)
    return destroy_on


def expire(session: Session, child: Person, *, on: date | None = None) -> None:
    """The child's destruction date (whatever its rule) has passed."""
    day = on or factories.today() - timedelta(days=1)
    session.execute(update(Person).where(Person.id == child.id).values(destroy_on=day))
    refresh_household(session, child.family_id)


def refresh_household(session: Session, family_id: object) -> None:
    latest = session.execute(
        select(func.max(Person.destroy_on)).where(
            Person.family_id == family_id, Person.kind == "child"
        )
    ).scalar_one()
    if latest is not None:
        session.execute(update(Family).where(Family.id == family_id).values(destroy_on=latest))
    session.commit()
