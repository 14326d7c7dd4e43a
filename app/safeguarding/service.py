"""Safeguarding records: written encrypted under the family's data key, read a page at a time."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final
from uuid import UUID

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.people import service as people_service
from app.people.service import PersonView
from app.platform.crypto import FieldCipher, KeyRing, field_aad
from app.platform.db import as_utc, utcnow
from app.platform.pagination import decode_cursor, encode_cursor
from app.platform.problems import Unprocessable
from app.safeguarding import schemas
from app.safeguarding.models import SafeguardingRecord

TABLE: Final = SafeguardingRecord.__tablename__
ENCRYPTED: Final = frozenset({"summary", "source"})
"""The free text (police information among it) is encrypted. `kind` and the dates stay
plain: the engine's child-protection-plan fact (`app.decisions.facts.cp_plan_active`)
is a query on them."""


def plan_active(kind: str, start_date: date, end_date: date | None, on: date) -> bool:
    """API.md: a child_protection_plan with no end date is active.

    The same rule as the fact the engine is given (`app.decisions.facts.cp_plan_active`).
    """
    return (
        kind == schemas.SafeguardingKind.CHILD_PROTECTION_PLAN
        and start_date <= on
        and (end_date is None or end_date >= on)
    )


def create(
    session: Session,
    view: PersonView,
    body: schemas.SafeguardingCreate,
    keys: KeyRing,
    on: date,
    *,
    record_id: UUID,
) -> dict[str, Any]:
    """Record it; returns the stored record's values, `active` as of `on`."""
    cipher = people_service.cipher_for_family(session, view.row.family_id, keys)
    record = SafeguardingRecord(
        id=record_id,
        person_id=view.id,
        kind=body.kind.value,
        summary=cipher.encrypt(body.summary, aad=field_aad(TABLE, "summary", record_id)),
        source=cipher.encrypt_optional(body.source, aad=field_aad(TABLE, "source", record_id)),
        start_date=body.start_date,
        end_date=body.end_date,
        created_at=utcnow(),
    )
    session.add(record)
    session.flush()
    return _values(record, summary=body.summary, source=body.source, on=on)


def _values(
    record: SafeguardingRecord, *, summary: str, source: str | None, on: date
) -> dict[str, Any]:
    kind = schemas.SafeguardingKind(record.kind)
    return {
        "id": record.id,
        "person_id": record.person_id,
        "kind": kind,
        "summary": summary,
        "start_date": record.start_date,
        "end_date": record.end_date,
        "source": source,
        "active": (
            plan_active(record.kind, record.start_date, record.end_date, on)
            if kind is schemas.SafeguardingKind.CHILD_PROTECTION_PLAN
            else None
        ),
        "created_at": as_utc(record.created_at),
    }


def _decrypted(record: SafeguardingRecord, cipher: FieldCipher, on: date) -> dict[str, Any]:
    return _values(
        record,
        summary=cipher.decrypt(record.summary, aad=field_aad(TABLE, "summary", record.id)),
        source=cipher.decrypt_optional(record.source, aad=field_aad(TABLE, "source", record.id)),
        on=on,
    )


def replayable(values: dict[str, Any]) -> dict[str, Any]:
    """The values an idempotency record may keep: none of the encrypted ones.

    DOMAIN.md: safeguarding fields are stored encrypted, decision-independent. The
    idempotency record is plain and outlives the family's data key, so a replay returns
    the record without them (the client that retries sent them).
    """
    return {name: value for name, value in values.items() if name not in ENCRYPTED}


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def _cursor(record: SafeguardingRecord) -> str:
    return encode_cursor(
        f"{record.start_date.isoformat()}|{as_utc(record.created_at).isoformat()}|{record.id}"
    )


def _position(cursor: str) -> tuple[date, datetime, UUID]:
    try:
        start, created, record_id = decode_cursor(cursor).split("|")
        return date.fromisoformat(start), as_utc(datetime.fromisoformat(created)), UUID(record_id)
    except ValueError:
        raise Unprocessable("cursor", "not a cursor this service issued") from None


def page(
    session: Session,
    view: PersonView,
    keys: KeyRing,
    on: date,
    *,
    limit: int,
    cursor: str | None,
) -> Page:
    """Newest start date first; records starting the same day, latest recorded first."""
    r = SafeguardingRecord
    query = (
        select(r)
        .where(r.person_id == view.id)
        .order_by(r.start_date.desc(), r.created_at.desc(), r.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        start, created, record_id = _position(cursor)
        query = query.where(
            or_(
                r.start_date < start,
                and_(r.start_date == start, r.created_at < created),
                and_(r.start_date == start, r.created_at == created, r.id < record_id),
            )
        )
    records = list(session.execute(query).scalars())
    shown, more = records[:limit], len(records) > limit
    if not shown:
        return Page(items=[], next_cursor=None)
    cipher = people_service.cipher_for_family(session, view.row.family_id, keys)
    return Page(
        items=[_decrypted(record, cipher, on) for record in shown],
        next_cursor=_cursor(shown[-1]) if more else None,
    )
