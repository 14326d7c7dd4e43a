"""Contacts: notes and outcomes written encrypted under the family's data key."""

from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.contacts import schemas
from app.contacts.models import Contact
from app.people import service as people_service
from app.people.service import PersonView
from app.platform.categories import field_categories
from app.platform.crypto import FieldCipher, KeyRing, field_aad
from app.platform.db import as_utc, utcnow
from app.platform.pagination import keyset_page
from app.policy.vocabulary import Category, Role
from app.reports.models import household_changed

TABLE: Final = Contact.__tablename__
ENCRYPTED: Final = frozenset({"notes", "outcome"})
"""DOMAIN.md: contact notes and every health field are stored encrypted."""


def held_categories(body: schemas.ContactCreate) -> frozenset[Category]:
    """The categories this contact holds: a write is decided on what it writes.

    A home visit holds no health data, so recording one does not need a purpose or
    consent that reaches health; a development review's outcome does.
    """
    categories = field_categories(schemas.ContactCreate)
    return frozenset(categories[name] for name, value in body if value is not None)


def create(
    session: Session,
    view: PersonView,
    body: schemas.ContactCreate,
    keys: KeyRing,
    *,
    contact_id: UUID,
) -> dict[str, Any]:
    """Record it; returns the stored contact's values."""
    cipher = people_service.cipher_for_family(session, view.row.family_id, keys)
    outcome = body.outcome.value if body.outcome else None
    contact = Contact(
        id=contact_id,
        person_id=view.id,
        kind=body.kind.value,
        occurred_at=as_utc(body.occurred_at),
        staff_role=body.staff_role.value,
        service=body.service,
        notes=cipher.encrypt_optional(body.notes, aad=field_aad(TABLE, "notes", contact_id)),
        review=body.review.value if body.review else None,
        outcome=cipher.encrypt_optional(outcome, aad=field_aad(TABLE, "outcome", contact_id)),
        created_at=utcnow(),
    )
    session.add(contact)
    session.flush()
    # Reports count contacts (and review outcomes): the processes' report facts reload
    # the household.
    household_changed(session, [view.row.family_id])
    return _values(contact, notes=body.notes, outcome=outcome)


def _values(contact: Contact, *, notes: str | None, outcome: str | None) -> dict[str, Any]:
    return {
        "id": contact.id,
        "person_id": contact.person_id,
        "kind": schemas.ContactKind(contact.kind),
        "occurred_at": as_utc(contact.occurred_at),
        "staff_role": Role(contact.staff_role),
        "service": contact.service,
        "notes": notes,
        "review": schemas.DevelopmentReview(contact.review) if contact.review else None,
        "outcome": schemas.ReviewOutcome(outcome) if outcome else None,
        "created_at": as_utc(contact.created_at),
    }


def decrypted(
    contact: Contact, cipher: FieldCipher, allowed: frozenset[Category]
) -> dict[str, Any]:
    """Decrypts only what the decision allows: a withheld value is never in the clear."""
    categories = field_categories(schemas.ContactRead)
    return _values(
        contact,
        notes=cipher.decrypt_optional(contact.notes, aad=field_aad(TABLE, "notes", contact.id))
        if categories["notes"] in allowed
        else None,
        outcome=cipher.decrypt_optional(
            contact.outcome, aad=field_aad(TABLE, "outcome", contact.id)
        )
        if categories["outcome"] in allowed
        else None,
    )


def replayable(values: dict[str, Any]) -> dict[str, Any]:
    """The values an idempotency record may keep: none of the encrypted ones.

    DOMAIN.md: notes and health fields are stored encrypted, decision-independent. The
    idempotency record is plain and outlives the family's data key, so a replay returns
    the contact without them (the client that retries sent them).
    """
    return {name: value for name, value in values.items() if name not in ENCRYPTED}


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def page(
    session: Session,
    view: PersonView,
    keys: KeyRing,
    *,
    allowed: frozenset[Category],
    limit: int,
    cursor: str | None,
) -> Page:
    """The most recent `occurred_at` first."""
    c = Contact
    found = keyset_page(
        session,
        select(c).where(c.person_id == view.id),
        (c.occurred_at, c.id),
        limit=limit,
        cursor=cursor,
        descending=True,
    )
    if not found.items:
        return Page(items=[], next_cursor=None)
    cipher = people_service.cipher_for_family(session, view.row.family_id, keys)
    return Page(
        items=[decrypted(contact, cipher, allowed) for contact in found.items],
        next_cursor=found.next_cursor,
    )
