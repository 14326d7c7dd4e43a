"""Education records: who may have one, and each child's attainment for the reports.

The record itself is one of the per-person records (`app.people.records.EDUCATION`):
read and replaced like special category data, encrypted column by column.
"""

from collections.abc import Iterator, Sequence
from typing import Any, Final
from uuid import UUID

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.education import schemas
from app.education.models import EducationRecord
from app.nurseries.models import Enrolment
from app.people import service as people_service
from app.people.models import Person
from app.people.service import PersonView
from app.platform.crypto import KeyRing, field_aad
from app.platform.problems import Unprocessable
from app.policy.vocabulary import SubjectKind

AAD_TABLE: Final = "education"
"""The name its values are bound to (`PersonRecord.name`, as for every per-person record)."""
NOT_ELIGIBLE: Final = (
    "education is recorded for a child with a unique pupil number or a nursery place"
)

Columns = dict[str, str | None]


def require_eligible(session: Session, view: PersonView) -> None:
    """DOMAIN.md: education data is held "for a child with a unique pupil number or a
    nursery place" (an enrolment at a maintained nursery, past or present); for anyone
    else it is 422, and nothing is stored."""
    if view.kind is not SubjectKind.CHILD:
        raise Unprocessable("person_id", NOT_ELIGIBLE)
    if view.row.upn is not None:
        return
    placed = session.execute(
        select(Enrolment.id).where(Enrolment.child_id == view.id).limit(1)
    ).first()
    if placed is None:
        raise Unprocessable("person_id", NOT_ELIGIBLE)


def to_columns(body: schemas.Education) -> Columns:
    """The record's plain columns, before each is encrypted."""
    exclusions = None
    if body.exclusions is not None:
        exclusions = orjson.dumps(
            [
                {
                    "from": e.from_.isoformat(),
                    "to": e.to.isoformat() if e.to else None,
                    "reason": e.reason,
                }
                for e in body.exclusions
            ]
        ).decode()
    return {
        "attendance_percent": None
        if body.attendance_percent is None
        else repr(float(body.attendance_percent)),
        "exclusions": exclusions,
        "behaviour": body.behaviour.value if body.behaviour else None,
        "attainment": body.attainment.value if body.attainment else None,
    }


def to_values(columns: Columns) -> dict[str, Any]:
    percent = columns["attendance_percent"]
    exclusions = columns["exclusions"]
    return {
        "attendance_percent": None if percent is None else float(percent),
        "exclusions": None if exclusions is None else orjson.loads(exclusions),
        "behaviour": columns["behaviour"],
        "attainment": columns["attainment"],
    }


def attainment_by_child(
    session: Session, keys: KeyRing, *, family_ids: Sequence[UUID] | None = None
) -> Iterator[tuple[UUID, UUID, schemas.Attainment]]:
    """Every child's recorded attainment, as (household id, child id, attainment), in
    household order so each household's key is unwrapped once: what a report grouping
    education outcomes reads (decrypted in memory only, never stored). `family_ids`:
    only those households (a change feed's)."""
    query = (
        select(Person.family_id, EducationRecord.person_id, EducationRecord.attainment)
        .join(Person, Person.id == EducationRecord.person_id)
        .where(EducationRecord.attainment.is_not(None), Person.kind == SubjectKind.CHILD.value)
        .order_by(Person.family_id, EducationRecord.person_id)
    )
    if family_ids is not None:
        query = query.where(Person.family_id.in_(list(family_ids)))
    current: UUID | None = None
    cipher = None
    for family_id, person_id, sealed in session.execute(query):
        if family_id != current or cipher is None:
            cipher = people_service.cipher_for_family(session, family_id, keys)
            current = family_id
        value = cipher.decrypt(str(sealed), aad=field_aad(AAD_TABLE, "attainment", person_id))
        yield family_id, person_id, schemas.Attainment(value)
