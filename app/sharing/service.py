"""Shares outside the service: the package disclosed, and the disclosure recorded.

Only the categories the decision allowed are read (an encrypted value of any other
category is never decrypted), and the disclosure is written in the same transaction
as the decision's audit event.
"""

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar
from uuid import UUID, uuid4

from sqlalchemy.orm import Session

from app.auth.caller import Caller
from app.contacts import schemas as contacts_schemas
from app.contacts import service as contacts_service
from app.decisions.guard import Allowed
from app.people import records as people_records
from app.people import schemas as people_schemas
from app.people.service import PersonView
from app.platform.categories import only
from app.platform.crypto import KeyRing
from app.platform.db import as_utc, utcnow
from app.platform.problems import Unprocessable
from app.policy.vocabulary import Category, Purpose
from app.reference import catalogue
from app.reference.catalogue import Recipient
from app.safeguarding import schemas as safeguarding_schemas
from app.safeguarding import service as safeguarding_service
from app.sharing.models import Disclosure

PAGE: int = 200
"""Records read per query while gathering a package."""

P = TypeVar("P", safeguarding_service.Page, contacts_service.Page)


def recipient(code: str) -> Recipient:
    found = catalogue.recipients().get(code)
    if found is None:
        raise Unprocessable("recipient", "not a known recipient (GET /v1/recipients)")
    return found


def _every(read_page: Callable[[str | None], P]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        found = read_page(cursor)
        items.extend(found.items)
        if found.next_cursor is None:
            return items
        cursor = found.next_cursor


def package(
    session: Session,
    view: PersonView,
    categories: frozenset[Category],
    keys: KeyRing,
    on: date,
) -> dict[str, Any]:
    """The subject's data in `categories`, and nothing else."""
    out: dict[str, Any] = {}
    if categories & {Category.IDENTITY, Category.CONTACT}:
        out["person"] = only(people_schemas.PersonRead, view.values(), categories)
    if categories & {Category.ETHNICITY, Category.HEALTH}:
        special, _ = people_records.read(session, people_records.SPECIAL_CATEGORY, view, keys)
        if Category.ETHNICITY in categories:
            out["ethnicity"] = special["ethnicity"]
        if Category.HEALTH in categories:
            out["health"] = special["health"]
    if Category.CIRCUMSTANCES in categories:
        circumstances, _ = people_records.read(session, people_records.CIRCUMSTANCES, view, keys)
        out["circumstances"] = circumstances or None
    if Category.SAFEGUARDING in categories:
        records = _every(
            lambda cursor: safeguarding_service.page(
                session, view, keys, on, limit=PAGE, cursor=cursor
            )
        )
        out["safeguarding"] = [
            only(safeguarding_schemas.SafeguardingRead, record, categories) for record in records
        ]
    if Category.SERVICES in categories:
        contacts = _every(
            lambda cursor: contacts_service.page(
                session, view, keys, allowed=categories, limit=PAGE, cursor=cursor
            )
        )
        out["contacts"] = [
            only(contacts_schemas.ContactRead, contact, categories) for contact in contacts
        ]
    return out


def record(
    session: Session,
    allowed: Allowed,
    caller: Caller,
    purpose: Purpose,
    subject_id: UUID,
    to: Recipient,
) -> Disclosure:
    """Who, to whom, what, when, on which basis: kept for the subject's access requests."""
    decision = allowed.decision
    disclosure = Disclosure(
        id=uuid4(),
        decision_id=allowed.decision_id,
        subject_id=subject_id,
        recipient=to.code,
        categories=",".join(c.value for c in Category if c in decision.allowed_categories),
        purpose=purpose.value,
        bases=",".join(b.value for b in decision.basis_codes),
        actor_sub=caller.sub,
        actor_role=caller.role.value,
        actor_org=caller.org,
        disclosed_at=utcnow(),
    )
    session.add(disclosure)
    session.flush()
    return disclosure


def values(disclosure: Disclosure, *, review_required: bool) -> dict[str, Any]:
    return {
        "disclosure_id": disclosure.id,
        "decision_id": disclosure.decision_id,
        "subject_id": disclosure.subject_id,
        "recipient": disclosure.recipient,
        "purpose": Purpose(disclosure.purpose),
        "basis": [b for b in disclosure.bases.split(",") if b],
        "categories": [Category(c) for c in disclosure.categories.split(",") if c],
        "disclosed_at": as_utc(disclosure.disclosed_at),
        "review_required": review_required,
    }
