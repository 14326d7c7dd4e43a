"""The maintained nurseries (seeded reference data) and children's enrolments."""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.nurseries import schemas
from app.nurseries.models import Enrolment, Nursery
from app.people.service import PersonView
from app.platform.pagination import decode_cursor, encode_cursor
from app.platform.problems import Unprocessable
from app.policy.vocabulary import SubjectKind


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Nursery]
    next_cursor: str | None


def _position(cursor: str) -> tuple[str, UUID]:
    try:
        name, nursery_id = decode_cursor(cursor).rsplit("|", 1)
        return name, UUID(nursery_id)
    except ValueError:
        raise Unprocessable("cursor", "not a cursor this service issued") from None


def page(session: Session, *, limit: int, cursor: str | None) -> Page:
    """By name."""
    n = Nursery
    query = select(n).order_by(n.name, n.id).limit(limit + 1)
    if cursor is not None:
        name, nursery_id = _position(cursor)
        query = query.where(or_(n.name > name, and_(n.name == name, n.id > nursery_id)))
    nurseries = list(session.execute(query).scalars())
    shown, more = nurseries[:limit], len(nurseries) > limit
    last = shown[-1] if shown else None
    return Page(
        items=shown,
        next_cursor=encode_cursor(f"{last.name}|{last.id}") if more and last else None,
    )


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
