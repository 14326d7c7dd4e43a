"""Who is due a review on a day in a centre's area, and who was left out and why.

Everything is decided in SQL over indexed columns: the window is a range of birth
dates (windows.born_between), the area a column of the household (its centre), and
each child's reason to be left out a CASE in the decision order of DOMAIN.md. The
page is keyset-paginated on (date of birth, id); the counts cover the whole list.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any, Final
from uuid import UUID

from sqlalchemy import ColumnElement, and_, case, exists, func, not_, select
from sqlalchemy.orm import Session

from app.contacts.models import Contact
from app.contacts.schemas import ContactKind, DevelopmentReview
from app.invitations import windows
from app.invitations.schemas import LeftOutReason
from app.people.models import Family, Person
from app.platform.pagination import keyset_page
from app.policy.vocabulary import SubjectKind

CHILD: Final = SubjectKind.CHILD.value
CARER: Final = SubjectKind.CARER.value


@dataclass(frozen=True, slots=True)
class Due:
    """One child on the list, with the household's contact data."""

    row: Any
    carers: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Found:
    born_from: date
    born_to: date
    due: list[Due]
    left_out: dict[LeftOutReason, int]
    next_cursor: str | None

    @property
    def person_ids(self) -> tuple[UUID, ...]:
        """Everyone whose data the list discloses: each child and each carer listed."""
        return tuple(
            person_id
            for item in self.due
            for person_id in (item.row.id, *(carer.id for carer in item.carers))
        )


def _reason(review: DevelopmentReview, today: date) -> ColumnElement[str | None]:
    """Why a child is left out, or NULL when the child is listed.

    DOMAIN.md's order: retention (step 4), restriction (5), objection (6); then a
    review of this kind already recorded.
    """
    seen = exists().where(
        Contact.person_id == Person.id,
        Contact.kind == ContactKind.DEVELOPMENT_REVIEW.value,
        Contact.review == review.value,
    )
    return case(
        (
            and_(Person.destroy_on.is_not(None), Person.destroy_on <= today),
            LeftOutReason.RETENTION_EXPIRED.value,
        ),
        (Person.restricted, LeftOutReason.RESTRICTED.value),
        (Person.objection_upheld, LeftOutReason.OBJECTION_UPHELD.value),
        (seen, LeftOutReason.ALREADY_SEEN.value),
        else_=None,
    )


def _in_window_and_area(centre: str, born_from: date, born_to: date) -> list[ColumnElement[bool]]:
    # The child's copy of the household's centre: one range of the (centre, date of birth)
    # index of children, no join.
    return [
        Person.kind == CHILD,
        Person.centre_code == centre,
        Person.date_of_birth.between(born_from, born_to),
    ]


def due(
    session: Session,
    *,
    review: DevelopmentReview,
    centre: str,
    on: date,
    today: date,
    limit: int,
    cursor: str | None,
) -> Found:
    born_from, born_to = windows.born_between(review, on)
    where = _in_window_and_area(centre, born_from, born_to)
    reason = _reason(review, today)

    reasons = select(reason.label("reason")).where(*where).subquery()
    left_out = dict.fromkeys(LeftOutReason, 0)
    for code, count in session.execute(
        select(reasons.c.reason, func.count()).group_by(reasons.c.reason)
    ):
        if code is not None:
            left_out[LeftOutReason(code)] = count

    query = (
        select(
            Person.id,
            Person.family_id,
            Person.given_name,
            Person.family_name,
            Person.date_of_birth,
            Family.address_line1,
            Family.address_line2,
            Family.postcode,
            Family.phone,
            Family.email,
        )
        .join(Family, Family.id == Person.family_id)
        .where(*where, reason.is_(None))
    )
    found = keyset_page(
        session, query, (Person.date_of_birth, Person.id), limit=limit, cursor=cursor
    )
    shown = found.items
    carers = _carers(session, {row.family_id for row in shown})
    return Found(
        born_from=born_from,
        born_to=born_to,
        due=[Due(row=row, carers=carers.get(row.family_id, ())) for row in shown],
        left_out=left_out,
        next_cursor=found.next_cursor,
    )


def _carers(session: Session, family_ids: set[UUID]) -> dict[UUID, tuple[Any, ...]]:
    """Each household's carers who may be written to, parental responsibility first.

    A carer's destruction date is the household's, which outlasts the child listed;
    restriction and objection are the carer's own (DOMAIN.md steps 5 and 6).
    """
    if not family_ids:
        return {}
    rows = session.execute(
        select(
            Person.id,
            Person.family_id,
            Person.given_name,
            Person.family_name,
            Person.has_parental_responsibility,
            Person.phone,
            Person.email,
        )
        .where(
            Person.family_id.in_(family_ids),
            Person.kind == CARER,
            not_(Person.restricted),
            not_(Person.objection_upheld),
        )
        .order_by(Person.has_parental_responsibility.desc(), Person.id)
    ).all()
    found: dict[UUID, list[Any]] = defaultdict(list)
    for row in rows:
        found[row.family_id].append(row)
    return {family_id: tuple(carers) for family_id, carers in found.items()}
