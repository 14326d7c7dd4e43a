"""Wrapped household keys name the key-encryption key (KEK) that wrapped them, and a key
canary lets readiness check that the configured keys open the database.

`family_key.kek_id` is the id of the KEK (`app.platform.crypto.kek_id`: a fingerprint,
never the key). Existing rows were wrapped under the KEK configured when they were
written; they get the id of the key configured now: with one key configured, every row
at once; with older keys in `IEYS_ENCRYPTION_PREVIOUS_KEYS` too, each row the id of the
configured key that unwraps it (a row none unwraps gets the current key's id: it was
unreadable before and stays so, and nothing here can tell which key it needed).

`key_canary` holds one row: a fresh data key wrapped under the current KEK, with its
id, and a constant encrypted under it, written the way the service writes a
household's key and fields. Its constant and binding are spelt here, so this revision
keeps writing what it wrote whatever the service becomes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from app.platform.crypto import DecryptionFailed, FieldCipher, KeyRing, new_data_key
from app.platform.settings import get_settings

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
CANARY_TEXT = "ieys key canary"
CANARY_AAD = "key_canary.sealed.1"

_family_key = sa.table(
    "family_key",
    sa.column("family_id", sa.Uuid()),
    sa.column("wrapped_key", sa.LargeBinary()),
    sa.column("kek_id", sa.String()),
)
_canary = sa.table(
    "key_canary",
    sa.column("id", sa.Integer()),
    sa.column("wrapped_key", sa.LargeBinary()),
    sa.column("kek_id", sa.String()),
    sa.column("sealed", sa.Text()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def backfill(connection: sa.Connection, keys: KeyRing) -> None:
    """Every row without a KEK id gets the id of the configured KEK that wrapped it."""
    if len(keys.ids) == 1:
        connection.execute(
            sa.update(_family_key)
            .where(_family_key.c.kek_id.is_(None))
            .values(kek_id=keys.current_id)
        )
        return
    rows = connection.execute(
        sa.select(_family_key.c.family_id, _family_key.c.wrapped_key).where(
            _family_key.c.kek_id.is_(None)
        )
    ).all()
    named = []
    for row in rows:
        found = keys.current_id
        for candidate in keys.ids:
            try:
                keys.unwrap(row.wrapped_key, candidate)
            except DecryptionFailed:
                continue
            found = candidate
            break
        named.append({"b_family": row.family_id, "b_kek": found})
    statement = (
        sa.update(_family_key)
        .where(_family_key.c.family_id == sa.bindparam("b_family"))
        .values(kek_id=sa.bindparam("b_kek"))
    )
    for start in range(0, len(named), BATCH):
        connection.execute(statement, named[start : start + BATCH])


def write_canary(connection: sa.Connection, keys: KeyRing) -> None:
    dek = new_data_key()
    wrapped = keys.wrap(dek)
    connection.execute(
        sa.insert(_canary).values(
            id=1,
            wrapped_key=wrapped.wrapped,
            kek_id=wrapped.kek_id,
            sealed=FieldCipher(dek).encrypt(CANARY_TEXT, aad=CANARY_AAD),
            created_at=datetime.now(UTC),
        )
    )


def upgrade() -> None:
    connection = op.get_bind()
    keys = KeyRing.from_settings(get_settings())
    with op.batch_alter_table("family_key") as batch:
        batch.add_column(sa.Column("kek_id", sa.String(length=16), nullable=True))
    backfill(connection, keys)
    with op.batch_alter_table("family_key") as batch:
        batch.alter_column("kek_id", existing_type=sa.String(length=16), nullable=False)
        batch.create_index(batch.f("ix_family_key_kek_id"), ["kek_id"], unique=False)
    op.create_table(
        "key_canary",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("kek_id", sa.String(length=16), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_canary")),
    )
    write_canary(connection, keys)


def downgrade() -> None:
    op.drop_table("key_canary")
    with op.batch_alter_table("family_key") as batch:
        batch.drop_index(batch.f("ix_family_key_kek_id"))
        batch.drop_column("kek_id")
