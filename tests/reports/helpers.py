"""Shared fixtures-by-function for invitations, needs and reports tests."""

from datetime import UTC, date, datetime, time
from typing import Any
from uuid import uuid4

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.contacts import schemas as contact_schemas
from app.contacts import service as contacts_service
from app.people import service as people_service
from app.people.models import Family, Person
from app.platform.crypto import get_key_ring
from app.reports.models import household_changed
from tests import factories


def household(session: Session, postcode: str = "NW1 1AA") -> Family:
    return factories.make_family(session, postcode=postcode)


def child(session: Session, born: date, *, postcode: str = "NW1 1AA", **kwargs: Any) -> Person:
    family = kwargs.pop("family", None) or household(session, postcode)
    return factories.make_child(session, family=family, born=born, **kwargs)


def set_flags(session: Session, person: Person, **values: Any) -> None:
    """restricted=True, objection_upheld=True, destroy_on=date(...); appended to the
    report change feed as every write path of the service does."""
    session.execute(update(Person).where(Person.id == person.id).values(**values))
    household_changed(session, [person.family_id])
    session.commit()


def contact(
    session: Session,
    person: Person,
    on: date,
    *,
    kind: str = "centre_contact",
    service: str | None = "stay_and_play",
    review: str | None = None,
    outcome: str | None = None,
) -> None:
    view = people_service.find(session, person.id)
    assert view is not None
    body = contact_schemas.ContactCreate(
        kind=contact_schemas.ContactKind(kind),
        # Midday, or now on a day not yet at midday: never in the future.
        occurred_at=min(datetime.combine(on, time(12), UTC), datetime.now(UTC)),
        staff_role="health_visitor" if kind == "development_review" else "childrens_centre_worker",
        service=service,
        review=contact_schemas.DevelopmentReview(review) if review else None,
        outcome=contact_schemas.ReviewOutcome(outcome) if outcome else None,
    )
    contacts_service.create(session, view, body, get_key_ring(), contact_id=uuid4())
    session.commit()


def review(session: Session, person: Person, on: date, which: str, outcome: str) -> None:
    contact(
        session,
        person,
        on,
        kind="development_review",
        service="health_visiting",
        review=which,
        outcome=outcome,
    )
