"""Safeguarding records: written encrypted under the family's data key, read a page at a time."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.people import service as people_service
from app.people.models import Person
from app.people.service import PersonView
from app.platform.crypto import DecryptionFailed, FieldCipher, KeyRing, field_aad
from app.platform.db import as_utc, utcnow
from app.platform.problems import Unprocessable
from app.safeguarding import schemas
from app.safeguarding.models import SafeguardingRecord

TABLE: Final = SafeguardingRecord.__tablename__
ENCRYPTED: Final = frozenset({"kind", "summary", "start_date", "end_date", "source"})
"""DOMAIN.md: every column that says anything about the child, its kind and dates as
much as its text ("a plan started on this date" is safeguarding data)."""
REPLAYED: Final = frozenset({"id", "person_id", "created_at"})
"""What a replay may return: the opaque ids and the row's own timestamp, nothing derived
from the encrypted columns (`active` says the kind and where today falls in the dates)."""


def plan_active(kind: str, start_date: date, end_date: date | None, on: date) -> bool:
    """API.md: a child_protection_plan with no end date is active."""
    return (
        kind == schemas.SafeguardingKind.CHILD_PROTECTION_PLAN
        and start_date <= on
        and (end_date is None or end_date >= on)
    )


def _aad(column: str, record_id: UUID) -> str:
    return field_aad(TABLE, column, record_id)


def sealed(
    cipher: FieldCipher,
    record_id: UUID,
    *,
    kind: schemas.SafeguardingKind,
    summary: str,
    start_date: date,
    end_date: date | None,
    source: str | None,
) -> dict[str, str | None]:
    """The record's encrypted columns as stored: each bound to its column and row, the
    kind as its API value, the dates in ISO form. The one encoding, for the service, the
    demo data and the test factories alike."""
    plain = {
        "kind": kind.value,
        "summary": summary,
        "start_date": start_date.isoformat(),
        "end_date": None if end_date is None else end_date.isoformat(),
        "source": source,
    }
    return {
        column: cipher.encrypt_optional(value, aad=_aad(column, record_id))
        for column, value in plain.items()
    }


@dataclass(frozen=True, slots=True)
class _Opened:
    """A record with its kind and dates decrypted: what ordering and `active` need."""

    record: SafeguardingRecord
    kind: schemas.SafeguardingKind
    start_date: date
    end_date: date | None

    @property
    def position(self) -> tuple[date, datetime, UUID]:
        """Its place in the list, compared descending: start date, then recorded."""
        return self.start_date, as_utc(self.record.created_at), self.record.id


def _kind_and_dates(
    cipher: FieldCipher, record_id: UUID, kind: str, start_date: str, end_date: str | None
) -> tuple[schemas.SafeguardingKind, date, date | None]:
    end = cipher.decrypt_optional(end_date, aad=_aad("end_date", record_id))
    return (
        schemas.SafeguardingKind(cipher.decrypt(kind, aad=_aad("kind", record_id))),
        date.fromisoformat(cipher.decrypt(start_date, aad=_aad("start_date", record_id))),
        None if end is None else date.fromisoformat(end),
    )


def _opened(record: SafeguardingRecord, cipher: FieldCipher) -> _Opened:
    return _Opened(
        record,
        *_kind_and_dates(cipher, record.id, record.kind, record.start_date, record.end_date),
    )


def household_plan_active(session: Session, family_id: UUID, on: date, keys: KeyRing) -> bool:
    """DOMAIN.md step 8: a child protection plan active on `on` for any child of the
    household makes early help public task for every member of it.

    The kind and dates are encrypted, so the rule is applied here to the decrypted
    records of the household's children, not in SQL.
    """
    r = SafeguardingRecord
    rows = session.execute(
        select(r.id, r.kind, r.start_date, r.end_date)
        .join(Person, Person.id == r.person_id)
        .where(Person.family_id == family_id, Person.kind == "child")
    ).all()
    # Most households hold no record: no key is unwrapped for them.
    if not rows:
        return False
    cipher = people_service.cipher_for_family(session, family_id, keys)
    return any(
        plan_active(*_kind_and_dates(cipher, row.id, row.kind, row.start_date, row.end_date), on)
        for row in rows
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
        created_at=utcnow(),
        **sealed(
            cipher,
            record_id,
            kind=body.kind,
            summary=body.summary,
            start_date=body.start_date,
            end_date=body.end_date,
            source=body.source,
        ),
    )
    session.add(record)
    session.flush()
    opened = _Opened(record, body.kind, body.start_date, body.end_date)
    return _values(opened, summary=body.summary, source=body.source, on=on)


def _values(opened: _Opened, *, summary: str, source: str | None, on: date) -> dict[str, Any]:
    record = opened.record
    return {
        "id": record.id,
        "person_id": record.person_id,
        "kind": opened.kind,
        "summary": summary,
        "start_date": opened.start_date,
        "end_date": opened.end_date,
        "source": source,
        "active": (
            plan_active(opened.kind, opened.start_date, opened.end_date, on)
            if opened.kind is schemas.SafeguardingKind.CHILD_PROTECTION_PLAN
            else None
        ),
        "created_at": as_utc(record.created_at),
    }


def _decrypted(opened: _Opened, cipher: FieldCipher, on: date) -> dict[str, Any]:
    record = opened.record
    return _values(
        opened,
        summary=cipher.decrypt(record.summary, aad=_aad("summary", record.id)),
        source=cipher.decrypt_optional(record.source, aad=_aad("source", record.id)),
        on=on,
    )


def replayable(values: dict[str, Any]) -> dict[str, Any]:
    """The values an idempotency record may keep: none of the encrypted ones.

    DOMAIN.md: safeguarding fields are stored encrypted, decision-independent. The
    idempotency record is plain and outlives the family's data key, so a replay returns
    the record's ids and when it was recorded (the client that retries sent the rest).
    """
    return {name: value for name, value in values.items() if name in REPLAYED}


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


# A cursor names a record's start date, which is safeguarding data, and travels in URLs
# and access logs: it is sealed under the family's key, bound to the person it pages.
def _cursor(opened: _Opened, cipher: FieldCipher, person_id: UUID) -> str:
    start, created, record_id = opened.position
    return cipher.encrypt(
        f"{start.isoformat()}|{created.isoformat()}|{record_id}",
        aad=_aad("cursor", person_id),
    )


def _position(cursor: str, cipher: FieldCipher, person_id: UUID) -> tuple[date, datetime, UUID]:
    try:
        start, created, record_id = cipher.decrypt(cursor, aad=_aad("cursor", person_id)).split("|")
        return date.fromisoformat(start), as_utc(datetime.fromisoformat(created)), UUID(record_id)
    except (DecryptionFailed, ValueError):
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
    """Newest start date first; records starting the same day, latest recorded first.

    The dates are encrypted, so the person's records are all read and ordered here, not
    in SQL: a person holds a handful of safeguarding records, not thousands.
    """
    records = list(
        session.execute(
            select(SafeguardingRecord).where(SafeguardingRecord.person_id == view.id)
        ).scalars()
    )
    if not records and cursor is None:
        return Page(items=[], next_cursor=None)
    cipher = people_service.cipher_for_family(session, view.row.family_id, keys)
    after = None if cursor is None else _position(cursor, cipher, view.id)
    ordered = sorted(
        (_opened(record, cipher) for record in records),
        key=lambda opened: opened.position,
        reverse=True,
    )
    if after is not None:
        ordered = [opened for opened in ordered if opened.position < after]
    shown, more = ordered[:limit], len(ordered) > limit
    return Page(
        items=[_decrypted(opened, cipher, on) for opened in shown],
        next_cursor=_cursor(shown[-1], cipher, view.id) if more else None,
    )
