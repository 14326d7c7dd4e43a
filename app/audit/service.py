"""Writing, sealing and verifying the audit trail.

Writing: one INSERT in the request's own transaction, so an event commits with
the data it reads or changes, or not at all. No chain work happens there: reading
the chain head inside concurrent transactions forks the chain, and a lock around
it would serialise every request of every instance.

Sealing: a single sealer at a time (PostgreSQL advisory lock; a unique `seq`
makes a racing second sealer fail rather than fork) takes committed, unsealed
events in id order and appends them to the chain. An event whose transaction
commits late (ids come from a sequence, commits need not follow them) is simply
sealed in a later batch: the chain's order is the seal order, fixed once sealed.
"""

import hashlib
from collections.abc import Generator, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID, uuid4

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Select,
    String,
    Table,
    Uuid,
    and_,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent, AuditEventSubject, AuditSeal
from app.platform.db import STATEMENT_AT_A_TIME, as_utc, utcnow

GENESIS = "0" * 64
SEAL_BATCH = 5000
# How far below the newest sealed event a routine sealing pass looks for late
# commits (a request's transaction lasts milliseconds: thousands of events is ample);
# a full pass (every verify, and every few minutes in the sealer) looks everywhere.
LATE_COMMIT_WINDOW = 5_000
_ADVISORY_KEY = 0x1E75_A0D1

_event_table = cast(Table, AuditEvent.__table__)
_subject_table = cast(Table, AuditEventSubject.__table__)
_seal_table = cast(Table, AuditSeal.__table__)

_INSERT_EVENT = insert(_event_table)

HASHED_COLUMNS: tuple[str, ...] = tuple(
    c.name
    for c in _event_table.columns  # every column, id included
)


@dataclass(slots=True)
class PendingEvent:
    """An event written in this request; re-written as `failed` if the request rolls back."""

    values: dict[str, Any]
    subjects: tuple[UUID, ...] = ()
    written: bool = True
    """False while deferred (a statement-at-a-time read): written by `write_deferred`
    once the request succeeds, or with its status when it fails."""


@dataclass(slots=True)
class VerifyResult:
    ok: bool
    events: int
    sealed: int
    unsealed: int
    head: str
    head_seq: int
    first_bad: dict[str, Any] | None = None
    from_seq: int = 1
    anchor: str = GENESIS
    """The hash the walk started from: GENESIS, or the stored hash of seal `from_seq - 1`."""
    checked: int = 0
    """Events rehashed by this walk."""


@dataclass(slots=True)
class EventDraft:
    """What the guard knows about one decision, before it is written."""

    actor_sub: str
    actor_role: str
    actor_org: str
    actor_nursery_id: UUID | None
    purpose: str
    action: str
    resource: str
    subject_id: UUID | None
    subject_kind: str | None
    categories_asked: Iterable[str]
    categories_granted: Iterable[str]
    allowed: bool
    reason: str
    bases: Iterable[str]
    justification: str | None
    review_required: bool
    request_id: str
    related_ids: Sequence[UUID] = ()
    detail: dict[str, Any] | None = None
    decision_id: UUID = field(default_factory=uuid4)


def _join(values: Iterable[str]) -> str:
    return ",".join(sorted(set(values)))


def record(session: Session, draft: EventDraft) -> UUID:
    """Append one event to the request's transaction; returns its decision id."""
    related = tuple(dict.fromkeys(draft.related_ids))
    values: dict[str, Any] = {
        "decision_id": draft.decision_id,
        "occurred_at": utcnow(),
        "request_id": draft.request_id,
        "actor_sub": draft.actor_sub,
        "actor_role": draft.actor_role,
        "actor_org": draft.actor_org,
        "actor_nursery_id": draft.actor_nursery_id,
        "purpose": draft.purpose,
        "action": draft.action,
        "resource": draft.resource,
        "subject_id": draft.subject_id,
        "subject_kind": draft.subject_kind,
        "related_ids": " ".join(str(r) for r in related) or None,
        "categories_asked": _join(draft.categories_asked),
        "categories_granted": _join(draft.categories_granted),
        "allowed": draft.allowed,
        "reason": draft.reason,
        "bases": ",".join(draft.bases),
        "justification": draft.justification,
        "review_required": draft.review_required,
        "outcome": "completed" if draft.allowed else "denied",
        "status": None,
        "detail": orjson.dumps(draft.detail, option=orjson.OPT_SORT_KEYS).decode()
        if draft.detail
        else None,
    }
    pending = PendingEvent(values=values, subjects=related)
    if session.info.get(STATEMENT_AT_A_TIME):
        # Each statement commits as it runs: the row waits until the answer is known,
        # so a refused read's row is the one that names its status.
        pending.written = False
    else:
        _insert(session, pending)
    session.info.setdefault("audit_pending", []).append(pending)
    return draft.decision_id


def write_deferred(session: Session) -> None:
    """Write the request's deferred events (it succeeded): durable when this returns."""
    for pending in session.info.get("audit_pending", []):
        if not pending.written:
            _insert(session, pending)
            pending.written = True


def _insert(session: Session, pending: PendingEvent) -> None:
    # Core on the session's connection: the ORM's unit of work has nothing to add to
    # an append-only row, and this runs on every request.
    connection = session.connection()
    if not pending.subjects:
        connection.execute(_INSERT_EVENT, pending.values)
        return
    event_id = connection.execute(
        insert(_event_table).values(pending.values).returning(_event_table.c.id)
    ).scalar_one()
    connection.execute(
        insert(_subject_table),
        [{"event_id": event_id, "subject_id": s} for s in pending.subjects],
    )


def take_pending(session: Session) -> list[PendingEvent]:
    pending: list[PendingEvent] = session.info.pop("audit_pending", [])
    return pending


def rerecord_after_failure(session: Session, pending: list[PendingEvent], status: int) -> None:
    """The request rolled back: its decisions still happened, so write them again.

    An allowed decision whose request then failed is kept as `failed`, with the
    status the caller received; the decision id stays the one the caller was given.
    """
    for event in pending:
        values = dict(event.values)
        if values["allowed"]:
            values["outcome"] = "failed"
        values["status"] = status
        _insert(session, PendingEvent(values=values, subjects=event.subjects))


# --- the chain -----------------------------------------------------------------


_DATETIME_COLUMNS: tuple[int, ...] = tuple(
    i for i, c in enumerate(_event_table.columns) if isinstance(c.type, DateTime)
)


def _utc_text(value: datetime) -> str:
    """`2026-01-01T09:30:00.000000Z`: UTC, always with microseconds."""
    if value.tzinfo is not UTC:
        value = as_utc(value)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _digest(prev_hash: str, seq: int, values: Sequence[Any]) -> str:
    """sha256 over the canonical JSON of the previous hash, the position and the event's
    columns in `HASHED_COLUMNS` order. Datetimes are written as UTC with microseconds;
    UUIDs, as orjson writes them, in their canonical form (the same text as `str`)."""
    body = dict(zip(HASHED_COLUMNS, values, strict=True))
    for index in _DATETIME_COLUMNS:
        value = values[index]
        if isinstance(value, datetime):
            body[HASHED_COLUMNS[index]] = _utc_text(value)
    payload = orjson.dumps(
        {"prev": prev_hash, "seq": seq, "event": body}, option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(payload).hexdigest()


def event_digest(prev_hash: str, seq: int, row: Any) -> str:
    """sha256 over the previous hash, the position and every column of the event."""
    mapping = row._mapping
    return _digest(prev_hash, seq, [mapping[name] for name in HASHED_COLUMNS])


def _lock(connection: Connection, *, wait: bool) -> bool:
    """One sealer at a time across every instance (PostgreSQL advisory lock).

    SQLite has a single writer already; the unique `seq` is the last line of defence.
    """
    if connection.dialect.name != "postgresql":
        return True
    if wait:
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})
        return True
    return bool(
        connection.execute(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY}
        ).scalar_one()
    )


def head(connection: Connection) -> tuple[int, str]:
    row = connection.execute(
        select(_seal_table.c.seq, _seal_table.c.hash).order_by(_seal_table.c.seq.desc()).limit(1)
    ).first()
    return (0, GENESIS) if row is None else (int(row.seq), str(row.hash))


def _window_floor(connection: Connection) -> int:
    """Below this id, every event was sealed a window ago (routine passes look above)."""
    newest = connection.execute(select(func.max(_seal_table.c.event_id))).scalar()
    return max(0, int(newest or 0) - LATE_COMMIT_WINDOW)


def _unsealed_above(floor: int) -> ColumnElement[bool]:
    return and_(
        _event_table.c.id > floor,
        ~select(_seal_table.c.event_id)
        .where(_seal_table.c.event_id == _event_table.c.id)
        # Redundant for the answer, vital for the plan: only the seals in the
        # window are probed, never the whole (ever-growing) seal table.
        .where(_seal_table.c.event_id > floor)
        .exists(),
    )


def awaiting_seal(connection: Connection) -> int:
    """Committed events not yet in the chain, in the window a routine pass seals (a
    metric: cheap at any size, unlike a count of the whole trail)."""
    floor = _window_floor(connection)
    query = select(func.count()).select_from(_event_table).where(_unsealed_above(floor))
    return int(connection.execute(query).scalar_one())


def seal(connection: Connection, *, full: bool = False, wait: bool = False) -> int:
    """Append committed, unsealed events to the chain; returns how many were sealed.

    The caller owns the transaction and commits it. `full` looks at every event
    (verify does this); a routine pass looks only near the newest sealed event.
    """
    if not _lock(connection, wait=wait):
        return 0
    seq, prev = head(connection)
    floor = 0 if full else _window_floor(connection)
    sealed = 0
    while True:
        unsealed = (
            select(_event_table)
            .where(_unsealed_above(floor))
            .order_by(_event_table.c.id)
            .limit(SEAL_BATCH)
        )
        rows = connection.execute(unsealed).all()
        if not rows:
            return sealed
        now = utcnow()
        seals = []
        for row in rows:
            seq += 1
            digest = event_digest(prev, seq, row)
            seals.append(
                {
                    "seq": seq,
                    "event_id": row.id,
                    "prev_hash": prev,
                    "hash": digest,
                    "sealed_at": now,
                }
            )
            prev = digest
        connection.execute(insert(_seal_table), seals)
        sealed += len(rows)
        floor = rows[-1].id
        if len(rows) < SEAL_BATCH:
            return sealed


def seal_in_own_transaction(connection: Connection, *, full: bool = False) -> int:
    """A sealing pass for the background sealer; a lost race seals nothing."""
    try:
        with connection.begin():
            return seal(connection, full=full)
    except IntegrityError:
        return 0


def _event_columns_for_verify(connection: Connection) -> list[ColumnElement[Any]]:
    """The event's columns as verify reads them. On PostgreSQL, ids and times arrive as
    the canonical text the digest takes (`_digest`'s forms, written by the database):
    parsing them into objects only to print them again is most of a walk's cost."""
    if connection.dialect.name != "postgresql":
        return list(_event_table.columns)
    columns: list[ColumnElement[Any]] = []
    for column in _event_table.columns:
        if isinstance(column.type, DateTime):
            utc = func.timezone("UTC", column)
            text_form = func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
            columns.append(text_form.label(column.name))
        elif isinstance(column.type, Uuid):
            columns.append(column.cast(String).label(column.name))
        else:
            columns.append(column)
    return columns


def _chunks(
    connection: Connection, query: Select[Any], *, after: int
) -> Generator[Sequence[Sequence[Any]], None, None]:
    """The chain's seals after `after`, a chunk at a time, in seq order. On PostgreSQL
    the next chunk is fetched while the caller hashes this one (the database and the
    hashing each keep a core busy); the connection is used by one thread at a time."""
    seq = _seal_table.c.seq

    def fetch(after: int) -> Sequence[Sequence[Any]]:
        return cast(Sequence[Sequence[Any]], connection.execute(query.where(seq > after)).all())

    if connection.dialect.name != "postgresql":
        while rows := fetch(after):
            yield rows
            after = int(rows[-1][0])
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ieys-verify") as pool:
        pending = pool.submit(fetch, after)
        while rows := pending.result():
            pending = pool.submit(fetch, int(rows[-1][0]))
            yield rows


def _seal_at(connection: Connection, seq: int) -> str | None:
    return connection.execute(
        select(_seal_table.c.hash).where(_seal_table.c.seq == seq)
    ).scalar_one_or_none()


def verify(connection: Connection, *, from_seq: int = 1, chunk: int = 10_000) -> VerifyResult:
    """Walk the chain in seal order: any altered, removed or reordered event shows.

    - altered: the event's columns no longer hash to its seal;
    - removed: its seal points at nothing, or a `seq` is missing;
    - reordered: a seal's `prev_hash` is not the hash before it.

    From `from_seq` on, the walk starts from the stored hash of the seal before it (the
    `anchor`): a daily check starts where the last one ended and compares the anchor
    with the head it recorded then, rather than rehashing everything. Streamed in chunks
    of `chunk` seals: memory stays the same whatever the trail's length.
    """
    events = int(connection.execute(select(func.count()).select_from(_event_table)).scalar_one())
    expected_seq, prev = from_seq - 1, GENESIS
    bad: dict[str, Any] | None = None
    if from_seq > 1:
        anchor = _seal_at(connection, from_seq - 1)
        if anchor is None:
            bad = {"seq": from_seq - 1, "event_id": None, "problem": "missing_seal"}
        else:
            prev = anchor
    start = prev
    checked = 0
    if bad is not None:
        return VerifyResult(
            ok=False,
            events=events,
            sealed=expected_seq - 1,
            unsealed=0,
            head=prev,
            head_seq=expected_seq - 1,
            first_bad=bad,
            from_seq=from_seq,
            anchor=start,
        )
    query = (
        select(
            _seal_table.c.seq,
            _seal_table.c.event_id,
            _seal_table.c.prev_hash,
            _seal_table.c.hash,
            *_event_columns_for_verify(connection),
        )
        .select_from(
            _seal_table.outerjoin(_event_table, _event_table.c.id == _seal_table.c.event_id)
        )
        .order_by(_seal_table.c.seq)
        .limit(chunk)
    )
    if connection.dialect.name == "postgresql":
        # Each chunk is a short range of the seal index joined by key: parallel workers
        # gain nothing there and cost their start-up on every chunk (this transaction only).
        connection.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    with closing(_chunks(connection, query, after=expected_seq)) as chunks:
        for rows in chunks:
            for seq, event_id, prev_hash, seal_hash, *values in rows:
                expected_seq += 1
                if seq != expected_seq:
                    bad = {"seq": seq, "event_id": event_id, "problem": "missing_seal"}
                    bad["expected_seq"] = expected_seq
                elif prev_hash != prev:
                    bad = {"seq": seq, "event_id": event_id, "problem": "broken_link"}
                elif values[0] is None:
                    bad = {"seq": seq, "event_id": event_id, "problem": "event_removed"}
                elif _digest(prev, seq, values) != seal_hash:
                    bad = {"seq": seq, "event_id": event_id, "problem": "event_altered"}
                if bad is not None:
                    break
                prev = seal_hash
                checked += 1
            if bad is not None:
                break
    head_seq = expected_seq if bad is None else expected_seq - 1
    return VerifyResult(
        ok=bad is None,
        events=events,
        sealed=head_seq,
        unsealed=max(0, events - head_seq) if bad is None else 0,
        head=prev,
        head_seq=head_seq,
        first_bad=bad,
        from_seq=from_seq,
        anchor=start,
        checked=checked,
    )


def iter_events_for(session: Session, subject_id: UUID, *, limit: int) -> Iterator[Any]:
    """Events that touched a subject, newest first (the person's access log)."""
    related = select(_subject_table.c.event_id).where(_subject_table.c.subject_id == subject_id)
    rows = session.execute(
        select(_event_table)
        .where(or_(_event_table.c.subject_id == subject_id, _event_table.c.id.in_(related)))
        .order_by(_event_table.c.id.desc())
        .limit(limit)
    )
    yield from rows
