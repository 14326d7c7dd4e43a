"""The key ring at rest: the canary readiness opens, and `ieys rewrap`.

Every household's data key is stored wrapped, with the id of the key-encryption key
(KEK) that wrapped it. Rotation is: configure the new KEK as `IEYS_ENCRYPTION_KEY` with
the old one in `IEYS_ENCRYPTION_PREVIOUS_KEYS`, run `ieys rewrap` (every wrapped key
moves to the new KEK; the data each protects is untouched), then drop the old KEK.

Readiness checks that the configured ring opens the database: the canary (a constant
encrypted under a data key wrapped like a household's) opens, and no household's key
names a KEK the ring does not hold. A service that would answer every encrypted read
with a 500 says so before it takes traffic.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Final, cast
from uuid import UUID

from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine

from app.keys.models import KeyCanary
from app.people.models import FamilyKey
from app.platform.crypto import DecryptionFailed, FieldCipher, KeyRing, field_aad, new_data_key
from app.platform.db import utcnow

CANARY_ID: Final = 1
CANARY_TEXT: Final = "ieys key canary"
"""A constant, not a secret: what matters is that the configured keys open it."""
CANARY_AAD: Final = field_aad("key_canary", "sealed", str(CANARY_ID))

DEFAULT_BATCH: Final = 1000
"""Household keys rewrapped per transaction: each unwrap and wrap costs microseconds, so
a batch is bounded by how long its row locks should be held, not by the work."""

_family_key = cast(Table, FamilyKey.__table__)
_canary = cast(Table, KeyCanary.__table__)


def canary_values(keys: KeyRing) -> dict[str, Any]:
    """A canary row under the ring's current KEK."""
    dek = new_data_key()
    wrapped = keys.wrap(dek)
    return {
        "id": CANARY_ID,
        "wrapped_key": wrapped.wrapped,
        "kek_id": wrapped.kek_id,
        "sealed": FieldCipher(dek).encrypt(CANARY_TEXT, aad=CANARY_AAD),
        "created_at": utcnow(),
    }


def write_canary(connection: Connection, keys: KeyRing) -> None:
    """The canary, written afresh under the current KEK."""
    connection.execute(delete(_canary).where(_canary.c.id == CANARY_ID))
    connection.execute(insert(_canary).values(canary_values(keys)))


def not_among(column: Any, ids: Sequence[str]) -> Any:
    """`column NOT IN ids`, spelt as the ranges between them, so an index on the column
    answers it by a probe per range (nothing to read when every row is among them)."""
    ordered = sorted(set(ids))
    ranges = [column < ordered[0], column > ordered[-1]]
    ranges.extend(and_(column > low, column < high) for low, high in pairwise(ordered))
    return or_(*ranges)


NO_CANARY: Final = (
    "The database holds no key canary: run `ieys migrate`, or `ieys rewrap` to write one."
)
CANARY_KEK_UNKNOWN: Final = (
    "The key canary is wrapped under a key-encryption key that neither "
    "IEYS_ENCRYPTION_KEY nor IEYS_ENCRYPTION_PREVIOUS_KEYS holds."
)
CANARY_DOES_NOT_OPEN: Final = (
    "The configured key-encryption key does not open the key canary "
    "(IEYS_ENCRYPTION_KEY or IEYS_ENCRYPTION_PREVIOUS_KEYS is not the key it names)."
)
HOUSEHOLDS_KEK_UNKNOWN: Final = (
    "Households' data keys are wrapped under a key-encryption key that neither "
    "IEYS_ENCRYPTION_KEY nor IEYS_ENCRYPTION_PREVIOUS_KEYS holds."
)


def problem(connection: Connection, keys: KeyRing) -> str | None:
    """Why the configured ring cannot open this database, or None when it can. Names
    the cause and the settings, never a key or a value."""
    canary = connection.execute(
        select(_canary.c.wrapped_key, _canary.c.kek_id, _canary.c.sealed).where(
            _canary.c.id == CANARY_ID
        )
    ).one_or_none()
    if canary is None:
        return NO_CANARY
    if not keys.knows(canary.kek_id):
        return CANARY_KEK_UNKNOWN
    try:
        opened = keys.cipher_for(canary.wrapped_key, canary.kek_id).decrypt(
            canary.sealed, aad=CANARY_AAD
        )
    except DecryptionFailed:
        return CANARY_DOES_NOT_OPEN
    if opened != CANARY_TEXT:
        return CANARY_DOES_NOT_OPEN
    unknown = connection.execute(
        select(_family_key.c.family_id).where(not_among(_family_key.c.kek_id, keys.ids)).limit(1)
    ).first()
    if unknown is not None:
        return HOUSEHOLDS_KEK_UNKNOWN
    return None


def households_by_kek(connection: Connection) -> dict[str, int]:
    """How many household keys each KEK id wraps."""
    rows = connection.execute(
        select(_family_key.c.kek_id, func.count()).group_by(_family_key.c.kek_id)
    ).all()
    return {str(row[0]): int(row[1]) for row in rows}


@dataclass(slots=True)
class RewrapReport:
    current: str
    """The id of the KEK every key was moved to."""
    moved: int = 0
    """Household keys rewrapped in this run."""
    unknown: int = 0
    """Household keys under a KEK the ring does not hold: left as they are."""
    batches: int = 0
    canary: str = "current"
    """What became of the canary: `current` (already), `moved`, `written` (there was
    none) or `unknown` (under a KEK the ring does not hold: left)."""
    by_kek: dict[str, int] = field(default_factory=dict)
    """Household keys per KEK id after the run."""


def rewrap(
    engine: Engine,
    keys: KeyRing,
    *,
    batch: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> RewrapReport:
    """Move every household key (and the canary) to the ring's current KEK.

    A batch of keys per transaction, in household order; each row's wrapped key and its
    KEK id change in one statement, so at any moment (a kill included) every row is
    wrapped under the KEK it names, current or previous, and stays readable while that
    KEK is configured. A rerun takes whatever is not yet under the current KEK. A key
    changed meanwhile (destroyed, or moved by another run) is left to its new state.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    report = RewrapReport(current=keys.current_id)
    statement = (
        update(_family_key)
        .where(
            _family_key.c.family_id == bindparam("b_family"),
            _family_key.c.kek_id == bindparam("b_old"),
        )
        .values(wrapped_key=bindparam("b_wrapped"), kek_id=bindparam("b_new"))
    )
    after: UUID | None = None
    while True:
        with engine.begin() as connection:
            query = select(
                _family_key.c.family_id, _family_key.c.wrapped_key, _family_key.c.kek_id
            ).where(_family_key.c.kek_id != keys.current_id)
            if after is not None:
                query = query.where(_family_key.c.family_id > after)
            rows = connection.execute(query.order_by(_family_key.c.family_id).limit(batch)).all()
            if not rows:
                break
            changes = []
            for row in rows:
                if not keys.knows(row.kek_id):
                    report.unknown += 1
                    continue
                moved = keys.rewrap(row.wrapped_key, row.kek_id)
                changes.append(
                    {
                        "b_family": row.family_id,
                        "b_old": row.kek_id,
                        "b_wrapped": moved.wrapped,
                        "b_new": moved.kek_id,
                    }
                )
            if changes:
                connection.execute(statement, changes)
            after = rows[-1].family_id
        report.moved += len(changes)
        report.batches += 1
        if progress is not None:
            progress(len(rows))
    with engine.begin() as connection:
        report.canary = _rewrap_canary(connection, keys)
        report.by_kek = households_by_kek(connection)
    return report


def _rewrap_canary(connection: Connection, keys: KeyRing) -> str:
    canary = connection.execute(
        select(_canary.c.kek_id, _canary.c.wrapped_key).where(_canary.c.id == CANARY_ID)
    ).one_or_none()
    if canary is None:
        write_canary(connection, keys)
        return "written"
    if canary.kek_id == keys.current_id:
        return "current"
    if not keys.knows(canary.kek_id):
        return "unknown"
    moved = keys.rewrap(canary.wrapped_key, canary.kek_id)
    connection.execute(
        update(_canary)
        .where(_canary.c.id == CANARY_ID)
        .values(wrapped_key=moved.wrapped, kek_id=moved.kek_id)
    )
    return "moved"
