"""Households in a centre's area not yet in touch with any service.

DOMAIN.md: a family is in touch once any member has a recorded contact, enrolment,
family-worker support or consent. The list is ordered by household id and carries no
score, rank or flag: it is for outreach, and the service decides nothing about a family
by automated means.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any, Final
from uuid import UUID

from sqlalchemy import ColumnElement, and_, case, exists, func, not_, or_, select
from sqlalchemy.orm import Session, aliased

from app.consent.models import Consent
from app.contacts.models import Contact
from app.needs.schemas import NeedsLeftOut
from app.nurseries.models import Enrolment
from app.people.models import CircumstancesRecord, Family, FamilyWorkerSupport, Person
from app.platform.pagination import keyset_page
from app.policy.vocabulary import SubjectKind

CHILD: Final = SubjectKind.CHILD.value
CARER: Final = SubjectKind.CARER.value
REASONS: Final = tuple(NeedsLeftOut.model_fields)


@dataclass(frozen=True, slots=True)
class Household:
    family: Any
    children: list[Any]
    carers: list[Any]
    circumstances: list[Any]


@dataclass(frozen=True, slots=True)
class Found:
    households: list[Household]
    left_out: dict[str, int]
    next_cursor: str | None

    @property
    def person_ids(self) -> tuple[UUID, ...]:
        return tuple(
            person.id
            for household in self.households
            for person in (*household.children, *household.carers)
        )


def _in_touch() -> ColumnElement[bool]:
    member = aliased(Person)
    through_member = [member.family_id == Family.id]
    return or_(
        exists().where(Contact.person_id == member.id, *through_member),
        exists().where(Enrolment.child_id == member.id, *through_member),
        exists().where(Consent.subject_id == member.id, *through_member),
        exists().where(FamilyWorkerSupport.family_id == Family.id),
    )


def _reason(person: Any, today: date) -> ColumnElement[str | None]:
    """Why a member may not be listed (DOMAIN.md steps 4 to 6), or NULL."""
    return case(
        (
            and_(person.destroy_on.is_not(None), person.destroy_on <= today),
            "retention_expired",
        ),
        (person.restricted, "restricted"),
        (person.objection_upheld, "objection_upheld"),
        else_=None,
    )


def _listable(person: Any, today: date) -> list[ColumnElement[bool]]:
    return [
        or_(person.destroy_on.is_(None), person.destroy_on > today),
        not_(person.restricted),
        not_(person.objection_upheld),
    ]


def not_in_touch(
    session: Session, *, centre: str, today: date, limit: int, cursor: str | None
) -> Found:
    area = [Family.centre_code == centre, not_(_in_touch())]

    child = aliased(Person)
    reasons = (
        select(_reason(child, today).label("reason"))
        .select_from(child)
        .join(Family, Family.id == child.family_id)
        .where(child.kind == CHILD, *area)
        .subquery()
    )
    left_out = dict.fromkeys(REASONS, 0)
    for code, count in session.execute(
        select(reasons.c.reason, func.count()).group_by(reasons.c.reason)
    ):
        if code is not None:
            left_out[code] = count

    listable_child = aliased(Person)
    query = select(Family).where(
        *area,
        exists().where(
            listable_child.family_id == Family.id,
            listable_child.kind == CHILD,
            *_listable(listable_child, today),
        ),
    )
    found = keyset_page(session, query, (Family.id,), limit=limit, cursor=cursor)
    households = _households(session, found.items, today)
    return Found(
        households=households,
        left_out=left_out,
        next_cursor=found.next_cursor,
    )


def _households(session: Session, families: list[Any], today: date) -> list[Household]:
    if not families:
        return []
    ids = [family.id for family in families]
    members: dict[UUID, list[Any]] = defaultdict(list)
    for person in session.execute(
        select(Person)
        .where(
            Person.family_id.in_(ids),
            Person.kind.in_((CHILD, CARER)),
            *_listable(Person, today),
        )
        .order_by(Person.kind.desc(), Person.date_of_birth, Person.id)
    ).scalars():
        members[person.family_id].append(person)
    person_ids = [person.id for people in members.values() for person in people]
    circumstances: dict[UUID, list[Any]] = defaultdict(list)
    for record, family_id in session.execute(
        select(CircumstancesRecord, Person.family_id)
        .join(Person, Person.id == CircumstancesRecord.person_id)
        .where(CircumstancesRecord.person_id.in_(person_ids))
        .order_by(CircumstancesRecord.person_id)
    ):
        circumstances[family_id].append(record)
    return [
        Household(
            family=family,
            children=[p for p in members[family.id] if p.kind == CHILD],
            carers=[p for p in members[family.id] if p.kind == CARER],
            circumstances=circumstances[family.id],
        )
        for family in families
    ]
