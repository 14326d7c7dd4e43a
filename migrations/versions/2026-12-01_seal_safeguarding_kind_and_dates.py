"""Seal the kind and dates of safeguarding records.

DOMAIN.md ("Identifiers and validation"): for a safeguarding record every column that
says anything about the child is stored encrypted, its kind and dates as much as its
summary and source: even "a plan started on this date" is safeguarding data. `kind`,
`start_date` and `end_date` become text holding the FieldCipher token of the kind's
value and of the ISO date, under the household's data key, bound to the column and row
(`field_aad`), exactly as `app.safeguarding.service.sealed` writes them. Any index on
them goes: a ciphertext cannot be searched, and an index on it would only order noise.

The family keys are unwrapped with the running service's KEKs (`IEYS_ENCRYPTION_KEY`,
and any in `IEYS_ENCRYPTION_PREVIOUS_KEYS`: keys name no KEK before revision 0009, so
each configured one is tried). The conversion is `seal_rows` (and `open_rows` back), here rather than in the
service, so this revision keeps doing what it did whatever the service becomes.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from alembic import op

from app.platform.crypto import TOKEN_PREFIX, FieldCipher, KeyRing, field_aad
from app.platform.settings import get_settings

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "safeguarding_record"
SEALED = ("kind", "start_date", "end_date")
BATCH = 1000

# The tables as this revision sees them: only the columns it reads or writes, as text.
_record = sa.table(
    TABLE,
    sa.column("id", sa.Uuid()),
    sa.column("person_id", sa.Uuid()),
    *(sa.column(name, sa.Text()) for name in SEALED),
)
_person = sa.table("person", sa.column("id", sa.Uuid()), sa.column("family_id", sa.Uuid()))
_family_key = sa.table(
    "family_key", sa.column("family_id", sa.Uuid()), sa.column("wrapped_key", sa.LargeBinary())
)


def _is_sealed(value: str | None) -> bool:
    return value is not None and value.startswith(TOKEN_PREFIX)


def _plain_date(value: str | None) -> str | None:
    # A date as the old column handed it over: PostgreSQL through to_char, SQLite as stored.
    return None if value is None else date.fromisoformat(value).isoformat()


def _convert(
    connection: sa.Connection,
    keys: KeyRing,
    change: Callable[[FieldCipher, UUID, str, str | None], str | None],
) -> int:
    """Apply `change` to every sealed column of every record, under its household's
    key, and write back the rows it changed; returns how many."""
    rows = connection.execute(
        sa.select(_record.c.id, *(_record.c[n] for n in SEALED), _family_key.c.wrapped_key)
        .select_from(
            _record.join(_person, _person.c.id == _record.c.person_id).outerjoin(
                _family_key, _family_key.c.family_id == _person.c.family_id
            )
        )
        .order_by(_person.c.family_id)
    ).all()
    wrapped: bytes | None = None
    cipher: FieldCipher | None = None
    changed: list[dict[str, Any]] = []
    for row in rows:
        if row.wrapped_key is None:
            # Never leave a record unconverted: the operator must look at it.
            raise RuntimeError(f"safeguarding record {row.id} has no household data key")
        # Rows come a household at a time: one key unwrapped per household.
        if cipher is None or row.wrapped_key != wrapped:
            wrapped, cipher = row.wrapped_key, keys.cipher_for(row.wrapped_key, None)
        values = {name: change(cipher, row.id, name, getattr(row, name)) for name in SEALED}
        if any(values[name] != getattr(row, name) for name in SEALED):
            changed.append({"b_id": row.id, **{f"b_{name}": values[name] for name in SEALED}})
    statement = (
        sa.update(_record)
        .where(_record.c.id == sa.bindparam("b_id"))
        .values({name: sa.bindparam(f"b_{name}") for name in SEALED})
    )
    for start in range(0, len(changed), BATCH):
        connection.execute(statement, changed[start : start + BATCH])
    return len(changed)


def _seal(cipher: FieldCipher, record_id: UUID, column: str, value: str | None) -> str | None:
    if value is None or _is_sealed(value):
        return value
    plain = value if column == "kind" else _plain_date(value)
    return cipher.encrypt_optional(plain, aad=field_aad(TABLE, column, record_id))


def _open(cipher: FieldCipher, record_id: UUID, column: str, value: str | None) -> str | None:
    if not _is_sealed(value):
        return value
    return cipher.decrypt_optional(value, aad=field_aad(TABLE, column, record_id))


def seal_rows(connection: sa.Connection, keys: KeyRing) -> int:
    """Encrypt every plain kind and date; a value already sealed is left as it is, so a
    run that stopped half way can be run again. Returns the rows changed."""
    return _convert(connection, keys, _seal)


def open_rows(connection: sa.Connection, keys: KeyRing) -> int:
    """Decrypt every sealed kind and date back to its plain text (for the downgrade)."""
    return _convert(connection, keys, _open)


def _keys() -> KeyRing:
    return KeyRing.from_settings(get_settings())


def _indexes_on_sealed_columns(connection: sa.Connection) -> list[str]:
    return [
        str(index["name"])
        for index in sa.inspect(connection).get_indexes(TABLE)
        if set(index.get("column_names") or ()) & set(SEALED)
    ]


def upgrade() -> None:
    connection = op.get_bind()
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for name in _indexes_on_sealed_columns(connection):
            batch_op.drop_index(name)
        batch_op.alter_column(
            "kind", existing_type=sa.String(length=30), type_=sa.Text(), existing_nullable=False
        )
        # SQLite keeps a date as its ISO text already; PostgreSQL is told to write it so
        # whatever the session's DateStyle.
        batch_op.alter_column(
            "start_date",
            existing_type=sa.Date(),
            type_=sa.Text(),
            existing_nullable=False,
            postgresql_using="to_char(start_date, 'YYYY-MM-DD')",
        )
        batch_op.alter_column(
            "end_date",
            existing_type=sa.Date(),
            type_=sa.Text(),
            existing_nullable=True,
            postgresql_using="to_char(end_date, 'YYYY-MM-DD')",
        )
    if connection.execute(sa.select(_record.c.id).limit(1)).first() is not None:
        seal_rows(connection, _keys())


def downgrade() -> None:
    connection = op.get_bind()
    if connection.execute(sa.select(_record.c.id).limit(1)).first() is not None:
        open_rows(connection, _keys())
    plain = connection.execute(sa.select(_record.c.id, *(_record.c[n] for n in SEALED))).all()
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.alter_column(
            "kind", existing_type=sa.Text(), type_=sa.String(length=30), existing_nullable=False
        )
        batch_op.alter_column(
            "start_date",
            existing_type=sa.Text(),
            type_=sa.Date(),
            existing_nullable=False,
            postgresql_using="start_date::date",
        )
        batch_op.alter_column(
            "end_date",
            existing_type=sa.Text(),
            type_=sa.Date(),
            existing_nullable=True,
            postgresql_using="end_date::date",
        )
    if connection.dialect.name == "sqlite" and plain:
        # SQLite's batch copy casts the text to DATE, a NUMERIC affinity that keeps only
        # the year ('2026-11-01' becomes 2026): write the dates again as dates.
        dated = sa.table(
            TABLE,
            sa.column("id", sa.Uuid()),
            sa.column("start_date", sa.Date()),
            sa.column("end_date", sa.Date()),
        )
        statement = (
            sa.update(dated)
            .where(dated.c.id == sa.bindparam("b_id"))
            .values(start_date=sa.bindparam("b_start"), end_date=sa.bindparam("b_end"))
        )
        rows = [
            {
                "b_id": row.id,
                "b_start": date.fromisoformat(row.start_date),
                "b_end": None if row.end_date is None else date.fromisoformat(row.end_date),
            }
            for row in plain
        ]
        for start in range(0, len(rows), BATCH):
            connection.execute(statement, rows[start : start + BATCH])
