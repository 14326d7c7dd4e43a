"""The destruction log kept apart from the database's backups, and replayed onto a
restore (DOMAIN.md, "Retention": "logged in a destruction log that names no one").

A backup taken before a destruction still holds what was destroyed; restoring it
brings the subjects back, and with them the household keys that open their encrypted
fields. The log lives in the database too, so a restore would lose it: `ieys
export-destructions` writes it to a file kept where the backups are not (JSON lines,
one entry a line: opaque id, kind, rule, dates; never a name), merged with what the
file already holds, so an export never forgets an entry, even one taken from a restored
database. `ieys replay-destructions` destroys again, on the restored database, every
subject the file names that is there (the household's key with its household), and
restores the log's own rows; the subjects' closed cases, released holds and stored
replies go as they went the first time. The audit tables are not touched: events name
subjects by opaque id only, so the chain still verifies.
"""

import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, cast
from uuid import UUID

import orjson
from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.people.models import Family, Person
from app.platform import idempotency
from app.platform.db import as_utc
from app.policy.vocabulary import SubjectKind
from app.retention import rules
from app.retention import service as retention_service
from app.retention.models import DestructionLog
from app.rights import service as rights_service

DEFAULT_BATCH: Final = 500
_log = cast(Table, DestructionLog.__table__)


class LogFileRefused(ValueError):
    """The file is not a destruction log this service wrote: says where, never a value."""


@dataclass(frozen=True, slots=True)
class Entry:
    subject_id: UUID
    subject_kind: SubjectKind
    rule: str
    destroyed_on: date
    logged_at: datetime

    def line(self) -> bytes:
        return orjson.dumps(
            {
                "subject_id": str(self.subject_id),
                "subject_kind": self.subject_kind.value,
                "rule": self.rule,
                "destroyed_on": self.destroyed_on.isoformat(),
                "logged_at": as_utc(self.logged_at).isoformat(),
            }
        )

    @classmethod
    def parse(cls, text: str, where: str) -> "Entry":
        try:
            raw = orjson.loads(text)
            return cls(
                subject_id=UUID(raw["subject_id"]),
                subject_kind=SubjectKind(raw["subject_kind"]),
                rule=str(raw["rule"]),
                destroyed_on=date.fromisoformat(raw["destroyed_on"]),
                logged_at=datetime.fromisoformat(raw["logged_at"]),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise LogFileRefused(f"{where}: not a destruction log entry") from None


def logged(connection: Connection) -> Iterator[Entry]:
    """The database's destruction log, oldest first."""
    for row in connection.execute(
        select(_log).order_by(_log.c.logged_at, _log.c.subject_id)
    ).mappings():
        yield Entry(
            subject_id=row["subject_id"],
            subject_kind=SubjectKind(row["subject_kind"]),
            rule=row["rule"],
            destroyed_on=row["destroyed_on"],
            logged_at=as_utc(row["logged_at"]),
        )


def read(paths: Iterable[Path]) -> list[Entry]:
    """Every entry of the files, each subject once (its first entry), in file order."""
    entries: dict[UUID, Entry] = {}
    for path in paths:
        with path.open(encoding="utf-8") as lines:
            for number, text in enumerate(lines, start=1):
                if text.strip():
                    entry = Entry.parse(text, f"{path.name}, line {number}")
                    entries.setdefault(entry.subject_id, entry)
    return list(entries.values())


def export(connection: Connection, path: Path) -> tuple[int, int]:
    """Write the log to `path`, merged with the entries the file holds already (an
    export from a restored database loses nothing). Written to a temporary file beside
    it and renamed over it, so a failed export leaves the old file whole.
    Returns (entries in the file, entries the file did not have before)."""
    before = read([path]) if path.exists() else []
    known = {entry.subject_id for entry in before}
    added = [entry for entry in logged(connection) if entry.subject_id not in known]
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as out:
            _write(out, [*before, *added])
            out.flush()
            os.fsync(out.fileno())
        Path(name).replace(path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return len(before) + len(added), len(added)


def _write(out: Any, entries: Sequence[Entry]) -> None:
    for entry in entries:
        out.write(entry.line() + b"\n")


@dataclass(slots=True)
class ReplayReport:
    entries: int = 0
    destroyed: Counter[str] = field(default_factory=Counter)
    """Subjects the restore held and the replay destroyed again, by kind."""
    already_gone: int = 0
    """Entries naming a subject the restore did not hold (destroyed before the backup,
    or never restored)."""
    log_restored: int = 0
    """Entries the restored database's own log lacked, written back."""
    kept: list[UUID] = field(default_factory=list)
    """Households the file names that still have a member it does not: left, for the
    operator to look at (a household is only ever destroyed with its last member)."""

    @property
    def subjects(self) -> int:
        return sum(self.destroyed.values())


def replay(
    engine: Engine,
    entries: Sequence[Entry],
    *,
    batch: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    """Destroy again every subject `entries` names that the database holds, a batch of
    entries per transaction; a rerun finds nothing more to do."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    report = ReplayReport(entries=len(entries))
    for start in range(0, len(entries), batch):
        chunk = entries[start : start + batch]
        with Session(engine, expire_on_commit=False, autoflush=False) as session:
            _replay_batch(session, chunk, report)
            session.commit()
        if progress is not None:
            progress(len(chunk))
    return report


def _replay_batch(session: Session, entries: Sequence[Entry], report: ReplayReport) -> None:
    connection = session.connection()
    ids = [entry.subject_id for entry in entries]
    by_id = {entry.subject_id: entry for entry in entries}
    people = session.execute(select(Person.id, Person.family_id).where(Person.id.in_(ids))).all()
    families = set(session.execute(select(Family.id).where(Family.id.in_(ids))).scalars())
    in_log = set(
        session.execute(
            select(DestructionLog.subject_id).where(DestructionLog.subject_id.in_(ids))
        ).scalars()
    )
    person_ids = [row.id for row in people]
    erased = [p for p in person_ids if by_id[p].rule == rules.RULE_ERASURE]
    swept = [p for p in person_ids if by_id[p].rule != rules.RULE_ERASURE]
    # As the first time: retention forgets the subjects' cases; an erasure keeps its
    # case, by opaque id, as the record that the right was answered, without the words.
    retention_service.forget_cases(connection, swept)
    if erased:
        rights_service.forget_words(session, erased)
    retention_service.delete_people(connection, person_ids)
    for row in people:
        report.destroyed[by_id[row.id].subject_kind.value] += 1
    touched = {row.family_id for row in people} - families
    for family_id in touched:
        remaining = session.execute(
            select(Person.id, Person.kind, Person.destroy_on).where(Person.family_id == family_id)
        ).all()
        if remaining:
            rights_service.refresh_household(session, family_id, remaining)
    doomed: list[UUID] = []
    for family_id in sorted(families):
        member = session.execute(
            select(Person.id).where(Person.family_id == family_id).limit(1)
        ).first()
        if member is not None:
            report.kept.append(family_id)
            continue
        doomed.append(family_id)
    retention_service.delete_families(connection, doomed)
    retention_service.forget_cases(
        connection, [f for f in doomed if by_id[f].rule != rules.RULE_ERASURE]
    )
    retention_service.forget_released_holds(connection, [*person_ids, *doomed])
    if doomed:
        report.destroyed[SubjectKind.FAMILY.value] += len(doomed)
    gone = set(person_ids) | set(doomed) | set(report.kept)
    report.already_gone += sum(1 for i in ids if i not in gone)
    idempotency.forget_subjects(connection, [*person_ids, *doomed])
    kept = set(report.kept)
    missing = [e for e in entries if e.subject_id not in in_log and e.subject_id not in kept]
    if missing:
        connection.execute(
            insert(_log),
            [
                {
                    "subject_id": entry.subject_id,
                    "subject_kind": entry.subject_kind.value,
                    "rule": entry.rule,
                    "destroyed_on": entry.destroyed_on,
                    "logged_at": entry.logged_at,
                }
                for entry in missing
            ],
        )
    report.log_restored += len(missing)
