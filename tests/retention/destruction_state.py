"""What a test needs to show destruction is all or nothing per household when the process
doing it is killed: a snapshot of households, their keys, members and the rows about
each member, the destruction log, and a way to stop destruction mid-transaction.

The stop is a `SHARE` lock on `destruction_log`, held by the test: destruction writes
the log after its deletes, in the same transaction, so a destroyer blocked on it has
deleted and not committed. Then the test kills it.
"""

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import Connection, func, select, text
from sqlalchemy.engine import Engine

from app.people.models import Family, FamilyKey, Person
from app.retention.models import DestructionLog
from app.retention.service import PERSON_ROWS


@dataclass(frozen=True, slots=True)
class Household:
    keyed: bool
    members: frozenset[UUID]


@dataclass(frozen=True, slots=True)
class State:
    households: dict[UUID, Household]
    records: dict[UUID, int]
    """Rows about each person, over every table that points at a person."""
    logged: dict[UUID, str]
    """The destruction log: subject id -> kind."""
    orphan_keys: frozenset[UUID]
    """Data keys whose household is gone (there must be none)."""


def snapshot(engine: Engine) -> State:
    with engine.connect() as connection:
        keyed = set(connection.execute(select(FamilyKey.family_id)).scalars())
        members: dict[UUID, set[UUID]] = {
            family_id: set() for family_id in connection.execute(select(Family.id)).scalars()
        }
        records: Counter[UUID] = Counter()
        for person_id, family_id in connection.execute(select(Person.id, Person.family_id)):
            members[family_id].add(person_id)
            records[person_id] += 0
        for column in PERSON_ROWS:
            for person_id, rows in connection.execute(
                select(column, func.count()).group_by(column)
            ):
                records[person_id] += rows
        logged = dict(
            connection.execute(select(DestructionLog.subject_id, DestructionLog.subject_kind)).all()
        )
    return State(
        households={
            family_id: Household(family_id in keyed, frozenset(people))
            for family_id, people in members.items()
        },
        records=dict(records),
        logged=logged,
        orphan_keys=frozenset(keyed - set(members)),
    )


def destroyed_since(before: State, after: State) -> set[UUID]:
    """Every subject (person or household) in `before` that `after` no longer holds."""
    people = {p for h in before.households.values() for p in h.members}
    left = {p for h in after.households.values() for p in h.members}
    return (set(before.households) - set(after.households)) | (people - left)


def assert_whole(before: State, after: State, planned: dict[UUID, set[UUID]]) -> set[UUID]:
    """Each household either untouched, or with everything planned for it destroyed and
    logged (its key with it when the household goes); nothing unplanned touched; one log
    entry per destroyed subject. Returns the households whose destruction committed."""
    assert after.orphan_keys == frozenset(), "a data key outlived its household"
    gone = destroyed_since(before, after)
    new_log = set(after.logged) - set(before.logged)
    assert gone == new_log, "the destruction log names exactly what was destroyed"
    done: set[UUID] = set()
    for family_id, household in before.households.items():
        due = planned.get(family_id, set())
        destroyed = due & gone
        assert destroyed in (set(), due), f"household {family_id} half-destroyed"
        untouched = household.members - destroyed
        if destroyed:
            done.add(family_id)
        if family_id in destroyed:
            assert untouched == set()
            assert family_id not in after.households
        else:
            assert after.households[family_id] == Household(household.keyed, untouched)
        for person_id in untouched:
            assert after.records[person_id] == before.records[person_id], (
                f"rows about {person_id} were lost"
            )
    assert gone <= {s for due in planned.values() for s in due}, "nothing unplanned destroyed"
    return done


@contextmanager
def destruction_log_locked(engine: Engine) -> Iterator[Connection]:
    """Hold a `SHARE` lock on `destruction_log` (reads go on, writes wait) until the
    block ends; the connection holding it."""
    with engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(text("LOCK TABLE destruction_log IN SHARE MODE"))
        try:
            yield connection
        finally:
            transaction.rollback()


def blocked_writer(holder: Connection, seconds: float = 60) -> int:
    """The backend waiting for the holder's lock to write the destruction log: its pid."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        # pg_stat_activity is read once per transaction unless told to read it again.
        holder.execute(text("SELECT pg_stat_clear_snapshot()"))
        pid = holder.execute(
            text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid)) "
                "AND query ILIKE 'INSERT INTO destruction_log%'"
            )
        ).scalar()
        if pid is not None:
            return int(pid)
        time.sleep(0.05)
    raise AssertionError("nothing came to write the destruction log")


def wait_backend_gone(engine: Engine, pid: int, seconds: float = 30) -> None:
    """The killed client's backend has rolled back and exited."""
    deadline = time.monotonic() + seconds
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            alive = connection.execute(
                text("SELECT 1 FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).first()
            if alive is None:
                return
            connection.rollback()
            time.sleep(0.05)
    raise AssertionError(f"backend {pid} is still there")
