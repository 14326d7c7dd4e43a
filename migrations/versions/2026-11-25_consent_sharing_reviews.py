"""Disclosures (shares outside the service) and the officer's safeguarding reviews.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "disclosure",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("recipient", sa.String(length=40), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("bases", sa.Text(), nullable=False),
        sa.Column("actor_sub", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=40), nullable=False),
        sa.Column("actor_org", sa.String(length=20), nullable=False),
        sa.Column("disclosed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["audit_event.decision_id"],
            name=op.f("fk_disclosure_decision_id_audit_event"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_disclosure_decision_id")),
    )
    with op.batch_alter_table("disclosure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disclosure_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "safeguarding_review",
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=200), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["audit_event.decision_id"],
            name=op.f("fk_safeguarding_review_decision_id_audit_event"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_safeguarding_review")),
    )


def downgrade() -> None:
    op.drop_table("safeguarding_review")
    with op.batch_alter_table("disclosure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_subject_id"))
    op.drop_table("disclosure")
