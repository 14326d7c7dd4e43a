"""The decrypted facts the encrypted report groupings need, held in process memory.

Ethnicity and development-review outcomes are encrypted under each household's key
(DOMAIN.md), so SQL cannot group by them. Rather than decrypt every child on every
report, each process keeps, in memory only, the ethnic category of each child and the
outcome of each development review, as small integer codes keyed by opaque id. Nothing
decrypted is written anywhere: not to a table, an index, a view or a log; process
memory is not a backup, and each instance builds its own.

The facts are built at the first report (streamed in household order, each household's
key unwrapped once) and kept current from the change feed (`report_change`): every write
that can change them appends its household's id in its own transaction, and before each
report the facts re-read the feed past what they last applied and reload, or drop, just
those households. So the next report reflects every committed change, whichever instance
made it; a destroyed household (its key gone) is dropped when the feed names it.

Ids from a sequence can commit out of order (PostgreSQL): a seq missing below the
highest applied one may belong to a transaction still running, so it is re-read on every
refresh until it appears or GAP_GRACE has passed (a rolled-back transaction leaves a
permanent gap). The eligibility rules (who is a child of the population, restriction,
objection, retention) stay in the reports' SQL; these facts only name a value per id.
"""

import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final
from uuid import UUID

from fastapi import Request
from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app.contacts.models import Contact
from app.contacts.schemas import ContactKind, ReviewOutcome
from app.people.models import FamilyKey, Person, SpecialCategoryRecord
from app.platform.crypto import FieldCipher, KeyRing, field_aad
from app.platform.identifiers import EthnicCategory
from app.policy.vocabulary import SubjectKind
from app.reports.models import ReportChange

ETHNIC_CODES: Final = tuple(code.value for code in EthnicCategory)
OUTCOME_CODES: Final = tuple(outcome.value for outcome in ReviewOutcome)
_ETHNIC_INDEX: Final = {code: i for i, code in enumerate(ETHNIC_CODES)}
_OUTCOME_INDEX: Final = {code: i for i, code in enumerate(OUTCOME_CODES)}

GAP_GRACE: Final = 3600.0
"""Seconds a missing seq is waited for: longer than any transaction the service runs."""
GAP_WINDOW: Final = 1000
"""At a build, the seqs this far below the highest that are missing are waited for."""
RELOAD_CHUNK: Final = 500
STREAM_BATCH: Final = 5000
REVIEW: Final = ContactKind.DEVELOPMENT_REVIEW.value


def decrypted(
    rows: Iterable[Any], keys: KeyRing, *, table: str, column: str, row_id: str
) -> Iterator[tuple[Any, str | None]]:
    """(row, plaintext) for rows in household order carrying `family_id`, `wrapped_key`, `kek_id`,
    the ciphertext in `token` and the id the value is bound to in `row_id`."""
    family: UUID | None = None
    cipher: FieldCipher | None = None
    for row in rows:
        if row.token is None or row.wrapped_key is None:
            yield row, None
            continue
        if row.family_id != family:
            family, cipher = row.family_id, keys.cipher_for(row.wrapped_key, row.kek_id)
        assert cipher is not None
        yield row, cipher.decrypt(row.token, aad=field_aad(table, column, getattr(row, row_id)))


class ReportFacts:
    """One process's decrypted report facts; `refresh` before every read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built = False
        self._applied = 0
        """The highest feed seq applied."""
        self._waiting: dict[int, float] = {}
        """Seqs below `_applied` not yet seen, with when they were first missed."""
        self._ethnicity: dict[UUID, int] = {}
        """Child id -> index in ETHNIC_CODES, for children with one recorded."""
        self._outcome: dict[UUID, int] = {}
        """Development-review contact id -> index in OUTCOME_CODES."""
        self._held: dict[UUID, tuple[tuple[UUID, ...], tuple[UUID, ...]]] = {}
        """Household -> (its children, its review contacts) held above, to drop them."""

    def ethnicity(self, child_id: UUID) -> str | None:
        code = self._ethnicity.get(child_id)
        return None if code is None else ETHNIC_CODES[code]

    def outcome(self, contact_id: UUID) -> str | None:
        code = self._outcome.get(contact_id)
        return None if code is None else OUTCOME_CODES[code]

    def refresh(self, session: Session, keys: KeyRing) -> None:
        """Bring the facts up to every change committed before this call."""
        connection = session.connection()
        with self._lock:
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
        self._ethnicity.clear()
        self._outcome.clear()
        self._held.clear()
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
            self._built = False
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
        for family_id in families:
            children, contacts = self._held.pop(family_id, ((), ()))
            for child_id in children:
                self._ethnicity.pop(child_id, None)
            for contact_id in contacts:
                self._outcome.pop(contact_id, None)
        ordered = sorted(families)
        for start in range(0, len(ordered), RELOAD_CHUNK):
            self._load(connection, keys, ordered[start : start + RELOAD_CHUNK])

    def _load(
        self, connection: Connection, keys: KeyRing, family_ids: Sequence[UUID] | None
    ) -> None:
        """Decrypt and hold the households' facts (every household's when None)."""
        children: defaultdict[UUID, list[UUID]] = defaultdict(list)
        contacts: defaultdict[UUID, list[UUID]] = defaultdict(list)
        for row, code in decrypted(
            _stream(connection, _ethnicities(family_ids)),
            keys,
            table="special_category",
            column="ethnicity",
            row_id="id",
        ):
            if code is not None:
                self._ethnicity[row.id] = _ETHNIC_INDEX[code]
                children[row.family_id].append(row.id)
        for row, outcome in decrypted(
            _stream(connection, _outcomes(family_ids)),
            keys,
            table="contact",
            column="outcome",
            row_id="id",
        ):
            if outcome is not None:
                self._outcome[row.id] = _OUTCOME_INDEX[outcome]
                contacts[row.family_id].append(row.id)
        for family_id in children.keys() | contacts.keys():
            self._held[family_id] = (
                tuple(children.get(family_id, ())),
                tuple(contacts.get(family_id, ())),
            )


def get_report_facts(request: Request) -> ReportFacts:
    """The app's facts (a FastAPI dependency): one per app, so one per process."""
    facts: ReportFacts = request.app.state.report_facts
    return facts


def _stream(connection: Connection, query: Select[*tuple[Any, ...]]) -> Iterator[Any]:
    yield from connection.execute(query, execution_options={"yield_per": STREAM_BATCH})


def _ethnicities(family_ids: Sequence[UUID] | None) -> Select[*tuple[Any, ...]]:
    query = (
        select(
            Person.id,
            Person.family_id,
            SpecialCategoryRecord.ethnicity.label("token"),
            FamilyKey.wrapped_key,
            FamilyKey.kek_id,
        )
        .join(SpecialCategoryRecord, SpecialCategoryRecord.person_id == Person.id)
        .join(FamilyKey, FamilyKey.family_id == Person.family_id)
        .where(Person.kind == SubjectKind.CHILD.value, SpecialCategoryRecord.ethnicity.is_not(None))
        .order_by(Person.family_id)
    )
    return query if family_ids is None else query.where(Person.family_id.in_(family_ids))


def _outcomes(family_ids: Sequence[UUID] | None) -> Select[*tuple[Any, ...]]:
    query = (
        select(
            Contact.id,
            Person.family_id,
            Contact.outcome.label("token"),
            FamilyKey.wrapped_key,
            FamilyKey.kek_id,
        )
        .join(Person, Person.id == Contact.person_id)
        .join(FamilyKey, FamilyKey.family_id == Person.family_id)
        .where(
            Person.kind == SubjectKind.CHILD.value,
            Contact.kind == REVIEW,
            Contact.outcome.is_not(None),
        )
        .order_by(Person.family_id)
    )
    return query if family_ids is None else query.where(Person.family_id.in_(family_ids))
