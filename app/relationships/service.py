"""Relationships: a name of someone not on the record is encrypted under the
household's key; everything else about a relationship is `household` data in clear."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.people import service as people_service
from app.people.service import PersonView
from app.platform.crypto import FieldCipher, KeyRing, field_aad
from app.platform.db import as_utc, utcnow
from app.platform.pagination import keyset_page
from app.platform.problems import Unprocessable
from app.relationships import schemas
from app.relationships.models import Relationship

TABLE: Final = Relationship.__tablename__


def _aad(relationship_id: UUID) -> str:
    return field_aad(TABLE, "to_name", relationship_id)


def create(
    session: Session,
    view: PersonView,
    body: schemas.RelationshipCreate,
    keys: KeyRing,
    *,
    relationship_id: UUID,
) -> dict[str, Any]:
    if body.to_person_id == view.id:
        raise Unprocessable("to_person_id", "a relationship is to someone else")
    cipher = people_service.cipher_for_family(session, view.row.family_id, keys)
    relationship = Relationship(
        id=relationship_id,
        person_id=view.id,
        to_person_id=body.to_person_id,
        to_name=cipher.encrypt_optional(body.to_name, aad=_aad(relationship_id)),
        kind=body.kind.value,
        in_household=body.in_household,
        has_parental_responsibility=body.has_parental_responsibility,
        created_at=utcnow(),
    )
    session.add(relationship)
    session.flush()
    return _values(relationship, body.to_name)


def _values(relationship: Relationship, to_name: str | None) -> dict[str, Any]:
    return {
        "id": relationship.id,
        "person_id": relationship.person_id,
        "kind": schemas.RelationshipKind(relationship.kind),
        "to_person_id": relationship.to_person_id,
        "to_name": to_name,
        "in_household": relationship.in_household,
        "has_parental_responsibility": relationship.has_parental_responsibility,
        "created_at": as_utc(relationship.created_at),
    }


def _opened(relationship: Relationship, cipher: FieldCipher) -> dict[str, Any]:
    return _values(
        relationship, cipher.decrypt_optional(relationship.to_name, aad=_aad(relationship.id))
    )


def replayable(values: dict[str, Any]) -> dict[str, Any]:
    """A replay never returns the encrypted name (the stored reply is not under the
    household's key): the client that retries sent it."""
    return {name: value for name, value in values.items() if name != "to_name"}


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def page(
    session: Session, view: PersonView, keys: KeyRing, *, limit: int, cursor: str | None
) -> Page:
    r = Relationship
    found = keyset_page(
        session,
        select(r).where(r.person_id == view.id),
        (r.created_at, r.id),
        limit=limit,
        cursor=cursor,
    )
    if not found.items:
        return Page(items=[], next_cursor=None)
    cipher = people_service.cipher_for_family(session, view.row.family_id, keys)
    return Page(
        items=[_opened(item, cipher) for item in found.items], next_cursor=found.next_cursor
    )


def of_people(
    session: Session, family_id: UUID, person_ids: Sequence[UUID], keys: KeyRing
) -> list[dict[str, Any]]:
    """The relationships recorded from these members of one household (a household read)."""
    if not person_ids:
        return []
    found = list(
        session.execute(
            select(Relationship)
            .where(Relationship.person_id.in_(list(person_ids)))
            .order_by(Relationship.created_at, Relationship.id)
        ).scalars()
    )
    if not found:
        return []
    cipher = people_service.cipher_for_family(session, family_id, keys)
    return [_opened(item, cipher) for item in found]


def remove(session: Session, relationship: Relationship) -> None:
    session.execute(delete(Relationship).where(Relationship.id == relationship.id))
    session.flush()
