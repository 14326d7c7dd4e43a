"""Children's centres and their areas; each household's centre; indexes for invitations
and reports.

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.centres import catalogue as centres_catalogue
from app.centres import service as centres_service

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "centre",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_centre")),
    )
    op.create_table(
        "centre_area",
        sa.Column("area", sa.String(length=8), nullable=False),
        sa.Column("centre_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["centre_code"],
            ["centre.code"],
            name=op.f("fk_centre_area_centre_code_centre"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("area", name=op.f("pk_centre_area")),
    )
    with op.batch_alter_table("centre_area", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_centre_area_centre_code"), ["centre_code"], unique=False
        )

    # Plain ADD COLUMN (no batch): SQLite would otherwise rebuild `family` and `person`,
    # which other tables of an existing database point at.
    op.add_column("family", sa.Column("centre_code", sa.String(length=40), nullable=True))
    op.create_index(op.f("ix_family_centre_code"), "family", ["centre_code"], unique=False)
    op.add_column("person", sa.Column("centre_code", sa.String(length=40), nullable=True))
    child = sa.text("kind = 'child'")
    op.create_index(
        "ix_person_child_centre_born",
        "person",
        ["centre_code", "date_of_birth"],
        postgresql_where=child,
        sqlite_where=child,
    )
    op.create_index(
        "ix_person_child_report",
        "person",
        ["date_of_birth"],
        postgresql_include=["id", "centre_code", "restricted", "objection_upheld", "destroy_on"],
        postgresql_where=child,
        sqlite_where=child,
    )

    # Invitations leave out children already seen for the review: one probe per child.
    op.create_index("ix_contact_person_id_kind_review", "contact", ["person_id", "kind", "review"])
    # Reports count a period's contacts: a range on occurred_at, read from the index.
    op.create_index("ix_contact_occurred_at_person_id", "contact", ["occurred_at", "person_id"])

    centres = centres_catalogue.parse(centres_catalogue.load_rows())
    op.bulk_insert(
        sa.table("centre", sa.column("code", sa.String), sa.column("name", sa.String)),
        [{"code": c.code, "name": c.name} for c in centres],
    )
    op.bulk_insert(
        sa.table("centre_area", sa.column("area", sa.String), sa.column("centre_code", sa.String)),
        [{"area": area, "centre_code": c.code} for c in centres for area in c.areas],
    )
    centres_service.assign_all(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_contact_occurred_at_person_id", table_name="contact")
    op.drop_index("ix_contact_person_id_kind_review", table_name="contact")
    op.drop_index("ix_person_child_report", table_name="person")
    op.drop_index("ix_person_child_centre_born", table_name="person")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("centre_code")
    op.drop_index(op.f("ix_family_centre_code"), table_name="family")
    with op.batch_alter_table("family", schema=None) as batch_op:
        batch_op.drop_column("centre_code")
    with op.batch_alter_table("centre_area", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_centre_area_centre_code"))
    op.drop_table("centre_area")
    op.drop_table("centre")
