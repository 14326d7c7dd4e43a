"""What the facade reads once a decision allowed it: a patient's contacts, development
reviews, consents and active flags, and a person's ethnic category.

Only what the decision allowed is decrypted (a withheld value is never in the clear).
Each list is a patient's own records, filtered and windowed here; `Window` is the page a
search asked for (`_offset`, `_count`) and the total it pages through.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from uuid import UUID

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.consent import service as consent_service
from app.consent.models import Consent
from app.contacts import service as contacts_service
from app.contacts.models import Contact
from app.contacts.schemas import ContactKind
from app.decisions.guard import LONDON
from app.people import service as people_service
from app.people.models import SpecialCategoryRecord
from app.people.service import PersonView
from app.platform.crypto import KeyRing, field_aad
from app.platform.identifiers import EthnicCategory
from app.policy.vocabulary import Category
from app.safeguarding import service as safeguarding_service
from app.safeguarding.schemas import SafeguardingKind

FLAG_KINDS: Final = frozenset(
    {SafeguardingKind.CHILD_PROTECTION_PLAN, SafeguardingKind.LOOKED_AFTER}
)
"""What a `Flag` says, as CP-IS does: an active child protection plan or looked-after
status (risk issues and assessments are not flags)."""


@dataclass(frozen=True, slots=True)
class DateBound:
    """One FHIR `date` search value: a prefix and a day (UK local)."""

    prefix: str
    """`eq`, `ge`, `gt`, `le` or `lt`."""
    day: date


@dataclass(frozen=True, slots=True)
class Window:
    items: list[dict[str, Any]]
    total: int


def ethnicity(session: Session, view: PersonView, keys: KeyRing) -> EthnicCategory | None:
    """The person's ethnic category, where the service holds one."""
    stored = session.execute(
        select(SpecialCategoryRecord.ethnicity).where(SpecialCategoryRecord.person_id == view.id)
    ).scalar_one_or_none()
    if stored is None:
        return None
    cipher = people_service.cipher_for_family(session, view.row.family_id, keys)
    value = cipher.decrypt_optional(stored, aad=field_aad("special_category", "ethnicity", view.id))
    return EthnicCategory(value) if value else None


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LONDON)


def _occurred(bound: DateBound) -> ColumnElement[bool]:
    column = Contact.occurred_at
    start, end = _start(bound.day), _start(bound.day + timedelta(days=1))
    match bound.prefix:
        case "ge":
            return column >= start
        case "gt":
            return column >= end
        case "le":
            return column < end
        case "lt":
            return column < start
        case _:
            return (column >= start) & (column < end)


def contacts(
    session: Session,
    view: PersonView,
    keys: KeyRing,
    *,
    allowed: frozenset[Category],
    dates: tuple[DateBound, ...] = (),
    reviews_only: bool = False,
    offset: int,
    count: int,
) -> Window:
    """The patient's contacts (development reviews only, with `reviews_only`), the
    most recent first, within every date bound."""
    conditions = [Contact.person_id == view.id, *(_occurred(bound) for bound in dates)]
    if reviews_only:
        conditions.append(Contact.kind == ContactKind.DEVELOPMENT_REVIEW.value)
    total = session.execute(
        select(func.count()).select_from(Contact).where(*conditions)
    ).scalar_one()
    rows = (
        session.execute(
            select(Contact)
            .where(*conditions)
            .order_by(Contact.occurred_at.desc(), Contact.id)
            .offset(offset)
            .limit(count)
        )
        .scalars()
        .all()
    )
    if not rows:
        return Window(items=[], total=int(total))
    cipher = people_service.cipher_for_family(session, view.row.family_id, keys)
    return Window(
        items=[contacts_service.decrypted(row, cipher, allowed) for row in rows], total=int(total)
    )


def consents(session: Session, person_id: UUID, *, offset: int, count: int) -> Window:
    """The person's consents, active and withdrawn, the most recently given first."""
    rows = (
        session.execute(
            select(Consent)
            .where(Consent.subject_id == person_id)
            .order_by(Consent.given_at.desc(), Consent.id)
        )
        .scalars()
        .all()
    )
    return Window(
        items=[consent_service.values(row) for row in rows[offset : offset + count]],
        total=len(rows),
    )


FLAGS_READ: Final = 1000
"""A person holds a handful of safeguarding records; this bounds a pathological one."""


def flags(
    session: Session, view: PersonView, keys: KeyRing, on: date, *, offset: int, count: int
) -> Window:
    """The person's child protection plans and looked-after statuses in force on `on`
    (started, and not ended before it), newest first."""
    found = safeguarding_service.page(session, view, keys, on, limit=FLAGS_READ, cursor=None)
    active = [
        item
        for item in found.items
        if item["kind"] in FLAG_KINDS
        and item["start_date"] <= on
        and (item["end_date"] is None or item["end_date"] >= on)
    ]
    return Window(items=active[offset : offset + count], total=len(active))
