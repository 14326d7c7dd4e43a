"""Idempotency records name the subject the first call created, so a replay is decided
about it as it stands now.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_record") as batch:
        batch.add_column(sa.Column("subject_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_record") as batch:
        batch.drop_column("subject_id")
