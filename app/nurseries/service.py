"""The maintained nurseries (seeded reference data) and children's enrolments."""

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.nurseries import schemas
from app.nurseries.models import Enrolment, Nursery
from app.people.service import PersonView
from app.platform.pagination import Page, keyset_page
from app.platform.problems import Unprocessable
from app.policy.vocabulary import SubjectKind


def page(session: Session, *, limit: int, cursor: str | None) -> Page[Nursery]:
    """By name."""
    n = Nursery
    return keyset_page(session, select(n), (n.name, n.id), limit=limit, cursor=cursor)


def get(session: Session, nursery_id: UUID) -> Nursery | None:
    return session.get(Nursery, nursery_id)


def enrol(
    session: Session,
    child: PersonView,
    nursery_id: UUID,
    body: schemas.EnrolmentCreate,
    *,
    enrolment_id: UUID,
) -> dict[str, Any]:
    """Record that the child attends the nursery; returns the stored enrolment's values."""
    # Only children attend; and nursery_care scope reaches children only (DOMAIN.md step 3).
    if child.kind is not SubjectKind.CHILD:
        raise Unprocessable("child_id", "only a child (a person of kind child) is enrolled")
    enrolment = Enrolment(
        id=enrolment_id,
        nursery_id=nursery_id,
        child_id=child.id,
        start_date=body.start_date,
        end_date=body.end_date,
    )
    session.add(enrolment)
    session.flush()
    return {
        "id": enrolment.id,
        "nursery_id": enrolment.nursery_id,
        "child_id": enrolment.child_id,
        "start_date": enrolment.start_date,
        "end_date": enrolment.end_date,
    }
