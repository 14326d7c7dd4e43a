"""What the take-up and impact reports count, held in each process's memory.

Ethnicity, development-review outcomes and education attainment are encrypted under
each household's key (DOMAIN.md), so SQL cannot group by them, and a report over a
million children that streams every child from SQL to look its value up takes tens of
seconds. So each process keeps, in memory only, one compact column per fact a report
needs about each child (household, date of birth, area, destruction date, restriction,
upheld objection, first written objection, ethnic category, recorded attainment) and
each child's contact (when, which service, whether a review and its outcome), as numpy
arrays of small integer codes: a report is a few vectorised passes over them, never a
query. Nothing decrypted is written anywhere: not to a table, an index, a view or a log.
Process memory is not a backup, and each instance builds its own.

The index is built when the service starts (and at the first report if that build could
not run), streamed in household order with each household's key unwrapped once, and kept
current from the change feed (`report_change`): every write that can change what a
report counts appends its household's id in its own transaction, and before each report
the index re-reads the feed past what it last applied and reloads, or drops, just those
households. So the next report reflects every committed change, whichever instance made
it; a destroyed household (its key gone) is dropped when the feed names it. A feed entry
naming EVERYTHING (a bulk load, a centre's area redrawn) rebuilds the index.

Ids from a sequence can commit out of order (PostgreSQL): a seq missing below the
highest applied one may belong to a transaction still running, so it is re-read on every
refresh until it appears or GAP_GRACE has passed (a rolled-back transaction leaves a
permanent gap).
"""

import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, Final
from uuid import UUID

import numpy as np
import numpy.typing as npt
from fastapi import Request
from sqlalchemy import ColumnElement, Select, func, null, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from app.contacts.models import Contact
from app.contacts.schemas import ContactKind, ReviewOutcome
from app.education.models import EducationRecord
from app.education.schemas import Attainment
from app.education.service import AAD_TABLE as EDUCATION_AAD
from app.people.models import FamilyKey, Person, SpecialCategoryRecord
from app.platform.crypto import FieldCipher, KeyRing, field_aad
from app.platform.identifiers import EthnicCategory
from app.policy.vocabulary import SubjectKind
from app.reports.models import EVERYTHING, ReportChange
from app.reports.population import area_levels
from app.rights.models import SubjectRequest
from app.rights.schemas import RequestType

ETHNIC_CODES: Final = tuple(code.value for code in EthnicCategory)
OUTCOME_CODES: Final = tuple(outcome.value for outcome in ReviewOutcome)
ATTAINMENT_CODES: Final = tuple(level.value for level in Attainment)
_ETHNIC_INDEX: Final = {code: i for i, code in enumerate(ETHNIC_CODES)}
_OUTCOME_INDEX: Final = {code: i for i, code in enumerate(OUTCOME_CODES)}
_ATTAINMENT_INDEX: Final = {code: i for i, code in enumerate(ATTAINMENT_CODES)}

NEVER: Final = int(np.iinfo(np.int32).max)
"""A day later than any: no destruction date, no written objection."""
NOT_HELD: Final = -1
"""No ethnic category recorded, no outcome, no attainment, no service named."""

GAP_GRACE: Final = 3600.0
"""Seconds a missing seq is waited for: longer than any transaction the service runs."""
GAP_WINDOW: Final = 1000
"""At a build, the seqs this far below the highest that are missing are waited for."""
RELOAD_CHUNK: Final = 500
STREAM_BATCH: Final = 20_000
LOW_HALF: Final = (1 << 64) - 1
COMPACT_AT: Final = 50_000
"""Slots no longer current that the index keeps before it compacts its columns."""
REVIEW: Final = ContactKind.DEVELOPMENT_REVIEW.value

log = logging.getLogger("ieys.reports")

Array = npt.NDArray[Any]

CHILD_COLUMNS: Final[Mapping[str, type[np.generic]]] = {
    "id_hi": np.uint64,
    "id_lo": np.uint64,
    "family": np.int32,
    "born": np.int32,
    "area": np.int16,
    "destroy_on": np.int32,
    "restricted": np.bool_,
    "upheld": np.bool_,
    "objected_on": np.int32,
    "ethnicity": np.int8,
    "attainment": np.int8,
    "live": np.bool_,
}
"""Per child: its id (two halves), household, dates as ordinals, area as an index of
area_levels(), the engine's flags, the day its first written objection was received,
its ethnic category (an index of ETHNIC_CODES), the attainment its education record
holds (an index of ATTAINMENT_CODES), and whether this slot is current (a reloaded
household's earlier slots are not)."""

CONTACT_COLUMNS: Final[Mapping[str, type[np.generic]]] = {
    "child": np.int32,
    "at": np.float64,
    "service": np.int32,
    "review": np.bool_,
    "outcome": np.int8,
    "tie": np.uint64,
}
"""Per contact with a child: the child's slot (a contact is current while its child's
slot is), when (seconds since the epoch, UTC), the service (an index of the index's
service names), whether it is a development review and its outcome (an index of
OUTCOME_CODES), and the high half of its id (the order of two reviews at one instant)."""


class Columns:
    """Growable numpy columns of one kind of row, appended to in blocks."""

    def __init__(self, dtypes: Mapping[str, type[np.generic]]) -> None:
        self.size = 0
        self._arrays: dict[str, Array] = {
            name: np.empty(0, dtype) for name, dtype in dtypes.items()
        }

    def __getitem__(self, name: str) -> Array:
        return self._arrays[name][: self.size]

    def append(self, block: Mapping[str, Sequence[Any]]) -> None:
        added = len(next(iter(block.values())))
        end = self.size + added
        for name, array in self._arrays.items():
            if end > len(array):
                grown = np.empty(max(end, 2 * len(array), 1024), array.dtype)
                grown[: self.size] = array[: self.size]
                self._arrays[name] = array = grown
            array[self.size : end] = block[name]
        self.size = end

    def keep(self, mask: Array) -> None:
        """Only the rows where `mask` is true, in their order."""
        for name, array in self._arrays.items():
            self._arrays[name] = array[: self.size][mask].copy()
        self.size = int(np.count_nonzero(mask))


def _split(identifier: UUID) -> tuple[int, int]:
    value = identifier.int
    return value >> 64, value & LOW_HALF


class ReportFacts:
    """One process's report index; read it through `reading`, which brings it up to
    every change committed before the call and holds it still while a report counts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built = False
        self._applied = 0
        """The highest feed seq applied."""
        self._waiting: dict[int, float] = {}
        """Seqs below `_applied` not yet seen, with when they were first missed."""
        self._reset()

    def _reset(self) -> None:
        self.children = Columns(CHILD_COLUMNS)
        self.contacts = Columns(CONTACT_COLUMNS)
        self._families: dict[UUID, int] = {}
        """Household id -> the number its children's slots carry."""
        self.services: list[str] = []
        """Service names as recorded on contacts; a contact's `service` indexes this."""
        self._service_index: dict[str, int] = {}
        self.areas = area_levels()
        self._area_index = {code: i for i, code in enumerate(self.areas)}
        self._unassigned = len(self.areas) - 1

    # --- reading ----------------------------------------------------------------------

    @contextmanager
    def reading(self, session: Session, keys: KeyRing) -> Iterator["ReportFacts"]:
        """The index, current, held still until the block ends."""
        connection = session.connection()
        with self._lock:
            self._refresh(connection, keys)
            yield self

    def refresh(self, session: Session, keys: KeyRing) -> None:
        """Bring the index up to every change committed before this call."""
        with self.reading(session, keys):
            pass

    def prepare(self, engine: Engine, keys: KeyRing) -> None:
        """Build the index now (at start, off the request path); a failure leaves it to
        the first report to build."""
        started = time.perf_counter()
        try:
            with self._lock, engine.connect() as connection:
                self._refresh(connection, keys)
                connection.rollback()
        except Exception as error:
            log.warning("report facts not built at start: %s", type(error).__name__)
            return
        log.info(
            "report facts built",
            extra={
                "children": int(np.count_nonzero(self.children["live"])),
                "contacts": self.contacts.size,
                "seconds": round(time.perf_counter() - started, 1),
            },
        )

    def ethnicity(self, child_id: UUID) -> str | None:
        """The ethnic category held for a child (what a report would count it under)."""
        return self._code(child_id, "ethnicity", ETHNIC_CODES)

    def attainment(self, child_id: UUID) -> str | None:
        """The attainment held for a child (what the impact report would count it under)."""
        return self._code(child_id, "attainment", ATTAINMENT_CODES)

    def _code(self, child_id: UUID, column: str, codes: tuple[str, ...]) -> str | None:
        slot = self._slot(child_id)
        if slot is None:
            return None
        code = int(self.children[column][slot])
        return None if code == NOT_HELD else codes[code]

    def _slot(self, child_id: UUID) -> int | None:
        hi, lo = _split(child_id)
        found = np.flatnonzero(
            (self.children["id_hi"] == hi) & (self.children["id_lo"] == lo) & self.children["live"]
        )
        return int(found[0]) if len(found) else None

    def _refresh(self, connection: Connection, keys: KeyRing) -> None:
        if connection.dialect.name == "postgresql":
            # One-off analytic reads, for this transaction only: no JIT, room to sort.
            connection.execute(text("SET LOCAL jit = off"))
            connection.execute(text("SET LOCAL work_mem = '256MB'"))
        if not self._built:
            self._build(connection, keys)
        else:
            self._catch_up(connection, keys)

    # --- building and catching up -----------------------------------------------------

    def _build(self, connection: Connection, keys: KeyRing) -> None:
        # The feed's position is read before the data: a change committed after it has a
        # later seq or is one of the seqs waited for, so it is applied again next time.
        highest = connection.execute(select(func.max(ReportChange.seq))).scalar() or 0
        seen = set(
            connection.execute(
                select(ReportChange.seq).where(ReportChange.seq > highest - GAP_WINDOW)
            ).scalars()
        )
        now = time.monotonic()
        self._waiting = {
            seq: now for seq in range(max(1, highest - GAP_WINDOW + 1), highest) if seq not in seen
        }
        self._applied = highest
        self._reset()
        self._load(connection, keys, None)
        self._built = True

    def _catch_up(self, connection: Connection, keys: KeyRing) -> None:
        now = time.monotonic()
        self._waiting = {s: t for s, t in self._waiting.items() if now - t < GAP_GRACE}
        since = min(self._waiting, default=self._applied + 1)
        rows = connection.execute(
            select(ReportChange.seq, ReportChange.family_id)
            .where(ReportChange.seq >= since)
            .order_by(ReportChange.seq)
        ).all()
        highest = connection.execute(select(func.max(ReportChange.seq))).scalar() or 0
        if highest < self._applied:
            # The feed went back (a restored database): nothing here can be trusted.
            self._build(connection, keys)
            return
        families: set[UUID] = set()
        seen: set[int] = set()
        for seq, family_id in rows:
            if seq > self._applied or seq in self._waiting:
                families.add(family_id)
                seen.add(seq)
                self._waiting.pop(seq, None)
        top = max((seq for seq, _ in rows), default=self._applied)
        for seq in range(self._applied + 1, top):
            if seq not in seen:
                self._waiting[seq] = now
        self._applied = max(self._applied, top)
        if not families:
            return
        if EVERYTHING in families:
            waiting = self._waiting
            self._build(connection, keys)
            self._waiting.update(waiting)
            return
        numbers = [self._families[f] for f in families if f in self._families]
        if numbers:
            live = self.children["live"]
            live[np.isin(self.children["family"], numbers)] = False
        ordered = sorted(families)
        for start in range(0, len(ordered), RELOAD_CHUNK):
            chunk = ordered[start : start + RELOAD_CHUNK]
            self._load(connection, keys, chunk)
        self._compact()

    def _compact(self) -> None:
        """Drop the slots of reloaded and destroyed households once they outnumber the
        current ones (their contacts go with them)."""
        live = self.children["live"]
        dead = self.children.size - int(np.count_nonzero(live))
        if dead < max(COMPACT_AT, self.children.size // 2):
            return
        renumbered = np.cumsum(live, dtype=np.int64) - 1
        kept = live[self.contacts["child"]]
        self.contacts.keep(kept)
        self.contacts["child"][:] = renumbered[self.contacts["child"]]
        self.children.keep(live.copy())

    # --- loading ----------------------------------------------------------------------

    def _load(self, connection: Connection, keys: KeyRing, families: Sequence[UUID] | None) -> None:
        """Decrypt and hold the households' children and contacts (every household's
        when None): streamed, each household's key unwrapped once for its children (their
        ethnicity and attainment) and its reviews."""
        ciphers = _Ciphers(keys)
        objected = _objections(connection, families)
        slots: dict[UUID, int] = {}
        numbers = self._families
        for rows in _partitions(connection, _children(families)):
            (
                ids,
                family_ids,
                born,
                centres,
                restricted,
                upheld,
                destroy_on,
                tokens,
                attained,
                *key,
            ) = zip(*rows, strict=True)
            first = self.children.size
            slots.update((child_id, first + i) for i, child_id in enumerate(ids))
            self.children.append(
                {
                    "id_hi": [i.int >> 64 for i in ids],
                    "id_lo": [i.int & LOW_HALF for i in ids],
                    "family": [numbers.setdefault(f, len(numbers)) for f in family_ids],
                    "born": [day.toordinal() for day in born],
                    "area": [self._area_index.get(c, self._unassigned) for c in centres],
                    "destroy_on": [_day(day) for day in destroy_on],
                    "restricted": restricted,
                    "upheld": upheld,
                    "objected_on": [_day(objected.get(i)) for i in ids],
                    "ethnicity": [
                        NOT_HELD
                        if token is None
                        else _ETHNIC_INDEX.get(
                            ciphers.open(f, k, kek, "special_category", "ethnicity", i, token),
                            NOT_HELD,
                        )
                        for i, f, k, kek, token in zip(ids, family_ids, *key, tokens, strict=True)
                    ],
                    "attainment": [
                        NOT_HELD
                        if token is None
                        else _ATTAINMENT_INDEX.get(
                            ciphers.open(f, k, kek, EDUCATION_AAD, "attainment", i, token),
                            NOT_HELD,
                        )
                        for i, f, k, kek, token in zip(ids, family_ids, *key, attained, strict=True)
                    ],
                    "live": [True] * len(ids),
                }
            )
        for review, query in ((False, _other_contacts(families)), (True, _reviews(families))):
            for rows in _partitions(connection, query):
                contact_ids, person_ids, at, services, family_ids, tokens, *key = zip(
                    *rows, strict=True
                )
                self.contacts.append(
                    {
                        "child": [slots[p] for p in person_ids],
                        "at": [when(instant) for instant in at],
                        "service": [self._service(name) for name in services],
                        "review": [review] * len(contact_ids),
                        "outcome": [
                            NOT_HELD
                            if token is None
                            else _OUTCOME_INDEX.get(
                                ciphers.open(f, k, kek, "contact", "outcome", i, token),
                                NOT_HELD,
                            )
                            for i, f, k, kek, token in zip(
                                contact_ids, family_ids, *key, tokens, strict=True
                            )
                        ],
                        "tie": [c.int >> 64 for c in contact_ids],
                    }
                )

    def _service(self, name: str | None) -> int:
        if name is None:
            return NOT_HELD
        found = self._service_index.get(name)
        if found is None:
            found = self._service_index[name] = len(self.services)
            self.services.append(name)
        return found


class _Ciphers:
    """The households' keys, each unwrapped at most once in a load. The data keys are
    held for the load only, and the cipher of the last household used: a cipher holds
    native state of its own, too much to keep one per household of a million."""

    def __init__(self, keys: KeyRing) -> None:
        self._keys = keys
        self._deks: dict[UUID, bytes] = {}
        self._family: UUID | None = None
        self._cipher: FieldCipher | None = None

    def open(
        self,
        family_id: UUID,
        wrapped_key: bytes | None,
        kek_id: str | None,
        table: str,
        column: str,
        row_id: UUID,
        token: str,
    ) -> str:
        """The plaintext; empty where the household's key is gone (it is being destroyed)."""
        if family_id != self._family or self._cipher is None:
            dek = self._deks.get(family_id)
            if dek is None:
                if wrapped_key is None:
                    return ""
                dek = self._deks[family_id] = self._keys.unwrap(wrapped_key, kek_id)
            self._family, self._cipher = family_id, FieldCipher(dek)
        return self._cipher.decrypt(token, aad=field_aad(table, column, row_id))


def _partitions(connection: Connection, query: Select[*tuple[Any, ...]]) -> Iterator[Any]:
    yield from connection.execute(query, execution_options={"yield_per": STREAM_BATCH}).partitions()


def _day(value: date | None) -> int:
    return NEVER if value is None else value.toordinal()


def get_report_facts(request: Request) -> ReportFacts:
    """The app's facts (a FastAPI dependency): one per app, so one per process."""
    facts: ReportFacts = request.app.state.report_facts
    return facts


def _of(families: Sequence[UUID] | None) -> list[ColumnElement[bool]]:
    return [] if families is None else [Person.family_id.in_(families)]


CHILD: Final = (Person.kind + "") == SubjectKind.CHILD.value
"""A child, not by the index on kind (whole, it is no use to a few households)."""


def _children(families: Sequence[UUID] | None) -> Select[*tuple[Any, ...]]:
    return (
        select(
            Person.id,
            Person.family_id,
            Person.date_of_birth,
            Person.centre_code,
            Person.restricted,
            Person.objection_upheld,
            Person.destroy_on,
            SpecialCategoryRecord.ethnicity,
            EducationRecord.attainment,
            FamilyKey.wrapped_key,
            FamilyKey.kek_id,
        )
        .outerjoin(SpecialCategoryRecord, SpecialCategoryRecord.person_id == Person.id)
        .outerjoin(EducationRecord, EducationRecord.person_id == Person.id)
        .outerjoin(FamilyKey, FamilyKey.family_id == Person.family_id)
        .where(CHILD, *_of(families))
    )


def _objections(connection: Connection, families: Sequence[UUID] | None) -> dict[UUID, date]:
    """Each child's first written objection (Sch 1 para 8 stops from its receipt)."""
    query = (
        select(SubjectRequest.subject_id, func.min(SubjectRequest.received_on))
        .join(Person, Person.id == SubjectRequest.subject_id)
        .where(SubjectRequest.type == RequestType.OBJECTION.value, CHILD, *_of(families))
        .group_by(SubjectRequest.subject_id)
    )
    return {row[0]: row[1] for row in connection.execute(query)}


def _contacts(
    families: Sequence[UUID] | None, outcome: ColumnElement[Any]
) -> Select[*tuple[Any, ...]]:
    return (
        select(
            Contact.id,
            Contact.person_id,
            Contact.occurred_at,
            Contact.service,
            Person.family_id,
            outcome,
            FamilyKey.wrapped_key,
            FamilyKey.kek_id,
        )
        .join(Person, Person.id == Contact.person_id)
        .outerjoin(FamilyKey, FamilyKey.family_id == Person.family_id)
        .where(CHILD, *_of(families))
    )


def _other_contacts(families: Sequence[UUID] | None) -> Select[*tuple[Any, ...]]:
    """The children's contacts other than reviews: nothing to decrypt."""
    return _contacts(families, null()).where(Contact.kind != REVIEW)


def _reviews(families: Sequence[UUID] | None) -> Select[*tuple[Any, ...]]:
    """The children's development reviews, with the outcome."""
    return _contacts(families, Contact.outcome.expression).where(Contact.kind == REVIEW)


def when(instant: datetime) -> float:
    """An instant as the index holds it: seconds since the epoch."""
    return (instant if instant.tzinfo else instant.replace(tzinfo=UTC)).timestamp()
