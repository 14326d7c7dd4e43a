"""Destruction that really deletes, the nightly sweep, what falls due, legal holds.

Destruction deletes rows in foreign-key order (nothing is left to a cascade), deletes
the household's data key when no member remains (every encrypted copy in the database
becomes unreadable; a backup taken before keeps the wrapped key until its KEK is
retired, and a restore is replayed from the exported log: `app.retention.replay`), and
logs each subject in `destruction_log` by opaque id, rule and date. It never touches
the audit tables: events name subjects by opaque id only, so the chain still verifies
afterwards.

The sweep works a batch of households at a time, each batch in its own transaction:
a failing batch is rolled back alone and reported, the next one goes on, and a
re-run picks up whatever is still due. It is the one service here that commits.
"""

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, cast
from uuid import UUID, uuid4

from sqlalchemy import (
    ARRAY,
    Column,
    Connection,
    Table,
    Uuid,
    any_,
    bindparam,
    delete,
    insert,
    literal,
    select,
)
from sqlalchemy.orm import Session

from app.consent.models import Consent
from app.contacts.models import Contact
from app.documents.models import Document, DocumentChunk
from app.education.models import EducationRecord
from app.notifications import service as notifications_service
from app.notifications.models import Notification
from app.nurseries.models import Enrolment
from app.people.models import (
    CircumstancesRecord,
    Family,
    FamilyKey,
    FamilyWorkerSupport,
    Person,
    SpecialCategoryRecord,
)
from app.platform import idempotency
from app.platform.db import as_utc, utcnow
from app.platform.pagination import keyset_page
from app.platform.problems import Conflict, Unprocessable
from app.policy.vocabulary import SubjectKind
from app.relationships.models import Relationship
from app.reports.models import household_changed
from app.retention import plan as retention_plan
from app.retention import rules
from app.retention.models import DestructionLog, LegalHold
from app.rights.models import SubjectRequest, SubjectRequestEvent, SubjectRequestPackage
from app.rights.schemas import RequestStatus
from app.safeguarding.models import SafeguardingRecord

log = logging.getLogger(__name__)
CLOSED: Final = RequestStatus.CLOSED.value

SQLITE_CHUNK: Final = 1000
DEFAULT_BATCH: Final = 500
"""Households per transaction: big enough to amortise a commit, small enough that a
failing batch costs little and holds its locks briefly."""


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


PERSON_ROWS: Final[tuple[Column[Any], ...]] = (
    _table(Contact).c.person_id,
    _table(SafeguardingRecord).c.person_id,
    _table(Consent).c.subject_id,
    # A carer's erasure keeps nothing that names them: the consents they gave for a
    # child end with them (the case records which), as the column cannot be emptied.
    _table(Consent).c.given_by_id,
    _table(SpecialCategoryRecord).c.person_id,
    _table(CircumstancesRecord).c.person_id,
    _table(EducationRecord).c.person_id,
    # Both directions: a relationship recorded from the person, and one to them.
    _table(Relationship).c.person_id,
    _table(Relationship).c.to_person_id,
    # A document's chunks before the document.
    _table(DocumentChunk).c.person_id,
    _table(Document).c.person_id,
    _table(Enrolment).c.child_id,
    _table(FamilyWorkerSupport).c.person_id,
)
"""Every column pointing at a person, in the order they are deleted (a test checks
that no table referring to `person` is missing)."""

FAMILY_ROWS: Final[tuple[Column[Any], ...]] = (
    _table(FamilyWorkerSupport).c.family_id,
    _table(SubjectRequestPackage).c.family_id,
    _table(FamilyKey).c.family_id,
)
"""Every column pointing at a household, deleted before the household itself."""


# --- destruction ------------------------------------------------------------------------


def _chunks(dialect: str, ids: Sequence[UUID]) -> Iterable[Sequence[UUID]]:
    """PostgreSQL takes any number of ids as one array; SQLite a bounded list at a time."""
    if dialect == "postgresql":
        yield ids
        return
    for start in range(0, len(ids), SQLITE_CHUNK):
        yield ids[start : start + SQLITE_CHUNK]


def _among(dialect: str, column: Any, ids: Sequence[UUID]) -> Any:
    """`column IN ids`: on PostgreSQL `= ANY(array)`, one parameter, so the statement is
    parsed and planned once however many ids a batch holds."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Uuid())))
    return column.in_(ids)


def _dialect(target: Connection | Session) -> str:
    connection = target.connection() if isinstance(target, Session) else target
    return connection.dialect.name


def consents_given_for_others(connection: Connection, person_ids: Sequence[UUID]) -> list[UUID]:
    """Consents the people gave about someone else: they end with the giver."""
    table, dialect = _table(Consent), _dialect(connection)
    found: list[UUID] = []
    for chunk in _chunks(dialect, person_ids):
        found.extend(
            connection.execute(
                select(table.c.id).where(
                    _among(dialect, table.c.given_by_id, chunk),
                    ~_among(dialect, table.c.subject_id, chunk),
                )
            ).scalars()
        )
    return found


def delete_people(connection: Connection, person_ids: Sequence[UUID]) -> None:
    """Every row about the people, then the people; children before parents."""
    dialect = _dialect(connection)
    for chunk in _chunks(dialect, person_ids):
        person = _table(Person)
        # The reports' decrypted facts drop what they held of the people.
        household_changed(
            connection,
            connection.execute(
                select(person.c.family_id).where(_among(dialect, person.c.id, chunk)).distinct()
            ).scalars(),
        )
        for column in PERSON_ROWS:
            connection.execute(delete(column.table).where(_among(dialect, column, chunk)))
        connection.execute(delete(person).where(_among(dialect, person.c.id, chunk)))
        # Art 19 notifications outlive the record by opaque id only.
        notifications_service.forget_where(
            connection, _among(dialect, Notification.subject_id, chunk)
        )


def delete_families(connection: Connection, family_ids: Sequence[UUID]) -> None:
    """The households (their members already gone) and their data keys: crypto-shredding."""
    dialect = _dialect(connection)
    for chunk in _chunks(dialect, family_ids):
        household_changed(connection, chunk)
        for column in FAMILY_ROWS:
            connection.execute(delete(column.table).where(_among(dialect, column, chunk)))
        family = _table(Family)
        connection.execute(delete(family).where(_among(dialect, family.c.id, chunk)))


def forget_cases(connection: Connection, subject_ids: Sequence[UUID]) -> None:
    """Destroyed by retention: the subjects' closed cases go with them (an open case
    keeps its subject from the sweep, so none is open here)."""
    requests, dialect = _table(SubjectRequest), _dialect(connection)
    for chunk in _chunks(dialect, subject_ids):
        about = _among(dialect, requests.c.subject_id, chunk)
        if connection.execute(select(requests.c.id).where(about).limit(1)).first() is None:
            continue
        ids = select(requests.c.id).where(about)
        connection.execute(
            delete(_table(SubjectRequestPackage)).where(
                _table(SubjectRequestPackage).c.request_id.in_(ids)
            )
        )
        connection.execute(
            delete(_table(SubjectRequestEvent)).where(
                _table(SubjectRequestEvent).c.request_id.in_(ids)
            )
        )
        connection.execute(delete(requests).where(about))
    forget_released_holds(connection, subject_ids)


def forget_released_holds(connection: Connection, subject_ids: Sequence[UUID]) -> None:
    """A released hold on a destroyed subject has nothing left to hold."""
    holds, dialect = _table(LegalHold), _dialect(connection)
    for chunk in _chunks(dialect, subject_ids):
        connection.execute(
            delete(holds).where(
                _among(dialect, holds.c.subject_id, chunk), holds.c.released_at.is_not(None)
            )
        )


def log_destroyed(
    connection: Connection, destroyed: Sequence[retention_plan.Destruction], on: date
) -> None:
    if not destroyed:
        return
    now = utcnow()
    connection.execute(
        insert(_table(DestructionLog)),
        [
            {
                "subject_id": d.subject_id,
                "subject_kind": d.kind.value,
                "rule": d.rule,
                "destroyed_on": on,
                "logged_at": now,
            }
            for d in destroyed
        ],
    )


def destroy(
    connection: Connection, destroyed: Sequence[retention_plan.Destruction], on: date
) -> None:
    """Delete and log: people first, then the households left with no member."""
    people = [d.subject_id for d in destroyed if d.kind is not SubjectKind.FAMILY]
    families = [d.subject_id for d in destroyed if d.kind is SubjectKind.FAMILY]
    delete_people(connection, people)
    delete_families(connection, families)
    log_destroyed(connection, destroyed, on)


# --- holds ------------------------------------------------------------------------------


def held_ids(session: Session, ids: Iterable[UUID]) -> frozenset[UUID]:
    """Of these subjects, those destruction must skip: under an active legal hold, or
    the subject of an open subject request (destroying data a request asks about would
    defeat it: DPA 2018 s 173)."""
    wanted = list(dict.fromkeys(ids))
    dialect = _dialect(session)
    found: set[UUID] = set()
    for chunk in _chunks(dialect, wanted):
        found.update(
            session.execute(
                select(LegalHold.subject_id).where(
                    _among(dialect, LegalHold.subject_id, chunk), LegalHold.released_at.is_(None)
                )
            ).scalars()
        )
        found.update(
            session.execute(
                select(SubjectRequest.subject_id).where(
                    _among(dialect, SubjectRequest.subject_id, chunk),
                    SubjectRequest.status != CLOSED,
                )
            ).scalars()
        )
    return frozenset(found)


def under_legal_hold(session: Session, person_id: UUID, family_id: UUID, *, child: bool) -> bool:
    """A hold on the person or the household, or, for an adult, on a child of it."""
    ids = [person_id, family_id]
    if not child:
        ids.extend(
            session.execute(
                select(Person.id).where(
                    Person.family_id == family_id, Person.kind == SubjectKind.CHILD.value
                )
            ).scalars()
        )
    found = session.execute(
        select(LegalHold.id)
        .where(LegalHold.subject_id.in_(ids), LegalHold.released_at.is_(None))
        .limit(1)
    ).first()
    return found is not None


def place_hold(
    session: Session, subject_id: UUID, kind: SubjectKind, reason: str, placed_by: str
) -> LegalHold:
    hold = LegalHold(
        id=uuid4(),
        subject_id=subject_id,
        subject_kind=kind.value,
        reason=reason,
        placed_by=placed_by,
        placed_at=utcnow(),
    )
    session.add(hold)
    session.flush()
    return hold


def release_hold(session: Session, hold: LegalHold, released_by: str) -> LegalHold:
    if hold.released_at is not None:
        raise Conflict("This legal hold was already released.")
    hold.released_at = utcnow()
    hold.released_by = released_by
    session.flush()
    return hold


def holds_page(session: Session, *, active: bool, limit: int, cursor: str | None) -> Any:
    query = select(LegalHold).where(
        LegalHold.released_at.is_(None) if active else LegalHold.released_at.is_not(None)
    )
    return keyset_page(
        session,
        query,
        (LegalHold.placed_at, LegalHold.id),
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def hold_values(hold: LegalHold) -> dict[str, Any]:
    return {
        "id": hold.id,
        "subject_id": hold.subject_id,
        "subject_kind": SubjectKind(hold.subject_kind),
        "reason": hold.reason,
        "placed_by": hold.placed_by,
        "placed_at": as_utc(hold.placed_at),
        "released_by": hold.released_by,
        "released_at": as_utc(hold.released_at) if hold.released_at else None,
        "active": hold.released_at is None,
    }


# --- the sweep --------------------------------------------------------------------------


def due_household_ids(session: Session, on: date) -> list[UUID]:
    """Every household with something due on `on`: a child past its date, or the
    household's own date (its last child's) passed. One query, in id order."""
    due_children = select(Person.family_id).where(
        Person.kind == SubjectKind.CHILD.value, Person.destroy_on <= on
    )
    due_households = select(Family.id).where(Family.destroy_on <= on)
    union = due_children.union(due_households).subquery()
    return list(session.execute(select(union.c[0]).order_by(union.c[0])).scalars())


def count_due_households(session: Session, on: date) -> int:
    return len(due_household_ids(session, on))


def households(session: Session, family_ids: Sequence[UUID]) -> list[retention_plan.Household]:
    dialect = _dialect(session)
    members: dict[UUID, list[retention_plan.Member]] = {f: [] for f in family_ids}
    for row in session.execute(
        select(Person.id, Person.family_id, Person.kind, Person.destroy_on).where(
            _among(dialect, Person.family_id, family_ids)
        )
    ):
        members[row.family_id].append(
            retention_plan.Member(
                id=row.id,
                kind=SubjectKind(row.kind),
                destroy_on=row.destroy_on if row.kind == SubjectKind.CHILD.value else None,
            )
        )
    return [
        retention_plan.Household(
            id=row.id,
            destroy_on=row.destroy_on,
            created_on=as_utc(row.created_at).date(),
            family_worker_supported=bool(row.family_worker_supported),
            members=tuple(members[row.id]),
        )
        for row in session.execute(
            select(Family.id, Family.destroy_on, Family.created_at, Family.family_worker_supported)
            .where(_among(dialect, Family.id, family_ids))
            .order_by(Family.id)
        )
    ]


def plan_batch(
    session: Session, family_ids: Sequence[UUID], on: date
) -> list[retention_plan.Outcome]:
    found = households(session, family_ids)
    held = held_ids(session, [h.id for h in found] + [m.id for h in found for m in h.members])
    return [retention_plan.plan(h, on=on, held=held) for h in found]


@dataclass(slots=True)
class SweepReport:
    on: date
    dry_run: bool
    households_examined: int = 0
    destroyed: Counter[str] = field(default_factory=Counter)
    """Subjects destroyed (or, in a dry run, that would be), by kind."""
    kept: int = 0
    """Households of which something due was kept (a legal hold, an open request)."""
    failed_batches: int = 0
    failed_households: list[UUID] = field(default_factory=list)

    @property
    def subjects(self) -> int:
        return sum(self.destroyed.values())


def destroy_batch(
    session: Session, family_ids: Sequence[UUID], on: date
) -> list[retention_plan.Outcome]:
    """Plan and destroy one batch in the session's current transaction."""
    outcomes = plan_batch(session, family_ids, on)
    destroyed = [d for outcome in outcomes for d in outcome.destroyed]
    connection = session.connection()
    ids = [d.subject_id for d in destroyed]
    forget_cases(connection, ids)
    destroy(connection, destroyed, on)
    idempotency.forget_subjects(connection, ids)
    return outcomes


def sweep(
    session: Session,
    *,
    on: date,
    batch: int = DEFAULT_BATCH,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> SweepReport:
    """Destroy everything due on `on` and not held, a batch of households at a time.

    The households due are listed once, then worked a batch at a time: each batch
    plans from the rows as they are then (a hold placed meanwhile is honoured) and
    commits on its own; a batch that fails is rolled back alone, reported, and left
    for the next run. A dry run plans the same batches and changes nothing.
    """
    if batch < 1:
        raise Unprocessable("batch", "must be at least 1")
    report = SweepReport(on=on, dry_run=dry_run)
    due = due_household_ids(session, on)
    for start in range(0, len(due), batch):
        family_ids = due[start : start + batch]
        try:
            if dry_run:
                outcomes = plan_batch(session, family_ids, on)
            else:
                outcomes = destroy_batch(session, family_ids, on)
                session.commit()
        except Exception:
            session.rollback()
            log.exception("retention sweep: a batch of %d households failed", len(family_ids))
            report.failed_batches += 1
            report.failed_households.extend(family_ids)
        else:
            for outcome in outcomes:
                report.destroyed.update(d.kind.value for d in outcome.destroyed)
                report.kept += outcome.kept
        report.households_examined += len(family_ids)
        if progress is not None:
            progress(len(family_ids))
    return report


# --- what falls due ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DueItem:
    subject_id: UUID
    subject_kind: SubjectKind
    destroy_on: date
    rule: str
    held: bool


def _due_union(before: date) -> Any:
    children = select(
        Person.id.label("subject_id"),
        Person.kind.label("subject_kind"),
        Person.destroy_on.label("destroy_on"),
        Person.family_id.label("family_id"),
    ).where(Person.kind == SubjectKind.CHILD.value, Person.destroy_on < before)
    adults = (
        select(
            Person.id.label("subject_id"),
            Person.kind.label("subject_kind"),
            Family.destroy_on.label("destroy_on"),
            Person.family_id.label("family_id"),
        )
        .join(Family, Family.id == Person.family_id)
        .where(Person.kind != SubjectKind.CHILD.value, Family.destroy_on < before)
    )
    families = select(
        Family.id.label("subject_id"),
        literal(SubjectKind.FAMILY.value).label("subject_kind"),
        Family.destroy_on.label("destroy_on"),
        Family.id.label("family_id"),
    ).where(Family.destroy_on < before)
    return children.union_all(adults, families).subquery("due")


def due(
    session: Session, *, before: date, limit: int, cursor: str | None
) -> tuple[list[DueItem], str | None]:
    """Subjects whose destruction date falls before `before`, soonest first."""
    union = _due_union(before)
    found = keyset_page(
        session,
        select(union),
        (union.c.destroy_on, union.c.subject_id),
        limit=limit,
        cursor=cursor,
    )
    shown = found.items
    family_ids = list(dict.fromkeys(r.family_id for r in shown))
    family_rows = {
        row.id: row
        for row in session.execute(
            select(Family.id, Family.created_at, Family.family_worker_supported).where(
                Family.id.in_(family_ids)
            )
        )
    }
    with_children = set(
        session.execute(
            select(Person.family_id).where(
                Person.family_id.in_(family_ids), Person.kind == SubjectKind.CHILD.value
            )
        ).scalars()
    )
    held = held_ids(session, [r.subject_id for r in shown] + family_ids)
    held_children = set(
        session.execute(
            select(Person.family_id).where(
                Person.family_id.in_(family_ids),
                Person.kind == SubjectKind.CHILD.value,
                Person.id.in_(held),
            )
        ).scalars()
    )
    items: list[DueItem] = []
    for row in shown:
        kind = SubjectKind(row.subject_kind)
        family = family_rows[row.family_id]
        if kind is SubjectKind.CHILD:
            rule = rules.child_rule(family_worker_supported=bool(family.family_worker_supported))
            is_held = row.subject_id in held or row.family_id in held
        else:
            rule = rules.household_rule(
                as_utc(family.created_at).date(),
                row.destroy_on,
                has_children=row.family_id in with_children,
            )
            is_held = (
                row.subject_id in held or row.family_id in held or row.family_id in held_children
            )
        items.append(DueItem(row.subject_id, kind, row.destroy_on, rule, is_held))
    return items, found.next_cursor
