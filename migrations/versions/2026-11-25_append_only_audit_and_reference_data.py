"""The audit trail refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL); reference data.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import json
import uuid
from collections.abc import Sequence
from importlib import resources

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_TABLES = ("audit_event", "audit_event_subject", "audit_seal")


def _seed(name: str) -> list[dict[str, object]]:
    text = resources.files("app.reference").joinpath("data", name).read_text("utf-8")
    rows: list[dict[str, object]] = json.loads(text)
    return rows


def _sqlite_triggers() -> None:
    for table in APPEND_ONLY_TABLES:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: "
                f"{operation} on {table} refused'); END"
            )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the audit trail is append-only: % on % refused',
                    TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'insufficient_privilege';
            END;
            $$
            """
        )
        for table in APPEND_ONLY_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
            )

    organisation = sa.table(
        "organisation",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("kind", sa.String),
        sa.column("roles", sa.Text),
    )
    op.bulk_insert(
        organisation,
        [
            {"code": o["code"], "name": o["name"], "kind": o["kind"],
             "roles": ",".join(o["roles"])}  # type: ignore[arg-type]
            for o in _seed("organisations.json")
        ],
    )
    nursery = sa.table(
        "nursery", sa.column("id", sa.Uuid), sa.column("name", sa.String),
        sa.column("org", sa.String),
    )

    op.bulk_insert(
        nursery,
        [
            {"id": uuid.UUID(str(n["id"])), "name": n["name"], "org": n["org"]}
            for n in _seed("nurseries.json")
        ],
    )
    recipient = sa.table(
        "recipient",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("consent_type", sa.String),
        sa.column("purpose", sa.Text),
    )
    # Only the columns this table has: the seed file carries more (country and transfer
    # safeguard, read from the file by app.reference.catalogue), which `alembic --sql`
    # could not render into this table.
    columns = [column.name for column in recipient.c]
    op.bulk_insert(
        recipient,
        [{name: row[name] for name in columns} for row in _seed("recipients.json")],
    )


def downgrade() -> None:
    op.execute("DELETE FROM recipient")
    op.execute("DELETE FROM nursery")
    op.execute("DELETE FROM organisation")
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_refuse_change()")
