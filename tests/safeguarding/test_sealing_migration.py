"""Revision 0006: safeguarding records written before it get their kind and dates sealed.

Run on a database of its own (a scratch SQLite file, or a scratch PostgreSQL database
beside the test one): the migration is taken down to 0004, a record is written there as
the service then wrote it (kind and dates plain, summary sealed), and brought up again.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from app.platform.crypto import FieldCipher, field_aad, get_key_ring
from app.platform.db import Base, make_engine
from app.safeguarding import service as safeguarding_service
from tests import factories
from tests.conftest import alembic_config, configured_database_url

BEFORE = "0004"
REVISION = "0006"
TABLE = "safeguarding_record"
SUMMARY = "Plan agreed at the initial child protection conference"

# The table as revision 0004 left it: kind and dates plain.
plain_record = sa.table(
    TABLE,
    sa.column("id", sa.Uuid()),
    sa.column("person_id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("summary", sa.Text()),
    sa.column("source", sa.Text()),
    sa.column("start_date", sa.Date()),
    sa.column("end_date", sa.Date()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    base = configured_database_url()
    if not base:
        yield f"sqlite:///{tmp_path}/sealing.db"
        return
    name = f"ieys_sealing_{uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def scratch(scratch_url: str) -> Iterator[Engine]:
    command.upgrade(alembic_config(scratch_url), BEFORE)
    engine = make_engine(scratch_url)
    yield engine
    engine.dispose()


def migration(url: str) -> ModuleType:
    script = ScriptDirectory.from_config(alembic_config(url)).get_revision(REVISION)
    assert script is not None
    return script.module


def _insert(connection: sa.Connection, name: str, values: dict[str, object]) -> None:
    """A row of `values`, in only the columns the table has at this revision (typed as
    the models type them now)."""
    now = Base.metadata.tables[name]
    there = {column["name"] for column in sa.inspect(connection).get_columns(name)}
    table = sa.table(name, *(sa.column(c.name, c.type) for c in now.c if c.name in there))
    connection.execute(sa.insert(table).values({k: v for k, v in values.items() if k in there}))


def write_plain_record(
    engine: Engine, *, kind: str, start: date, end: date | None
) -> tuple[UUID, UUID, UUID]:
    """A child and a record as the service wrote it before 0006; (family, child, record).
    The household is written as its tables then were (the models describe them now)."""
    family_id, child_id, record_id = uuid4(), uuid4(), uuid4()
    now, born = datetime.now(UTC), factories.today() - timedelta(days=400)
    wrapped = get_key_ring().new_wrapped_key()
    cipher = get_key_ring().cipher_for(*wrapped)
    common = {"created_at": now, "updated_at": now, "version": 1}
    with engine.begin() as connection:
        _insert(
            connection,
            "family",
            {
                "id": family_id,
                "address_line1": "1 Test Street",
                "postcode": "NW1 7AA",
                "family_worker_supported": False,
                "destroy_on": born + timedelta(days=5 * 366),
                **common,
            },
        )
        _insert(
            connection,
            "family_key",
            {"family_id": family_id, "wrapped_key": wrapped.wrapped, "created_at": now},
        )
        _insert(
            connection,
            "person",
            {
                "id": child_id,
                "family_id": family_id,
                "kind": "child",
                "given_name": "Test",
                "family_name": "Person",
                "date_of_birth": born,
                "has_parental_responsibility": False,
                "restricted": False,
                "objection_upheld": False,
                "destroy_on": born + timedelta(days=5 * 366),
                **common,
            },
        )
        connection.execute(
            sa.insert(plain_record).values(
                id=record_id,
                person_id=child_id,
                kind=kind,
                summary=cipher.encrypt(SUMMARY, aad=field_aad(TABLE, "summary", record_id)),
                source=None,
                start_date=start,
                end_date=end,
                created_at=factories.today(),
            )
        )
    return family_id, child_id, record_id


def household_cipher(engine: Engine, family_id: UUID) -> FieldCipher:
    """The household's cipher, from its key as this revision stores it (no KEK id yet)."""
    with engine.connect() as connection:
        wrapped = connection.execute(
            sa.text("SELECT wrapped_key FROM family_key WHERE family_id = :id"),
            {"id": family_id.hex if engine.dialect.name == "sqlite" else family_id},
        ).scalar_one()
    return get_key_ring().cipher_for(bytes(wrapped), None)


def stored(engine: Engine, record_id: UUID) -> dict[str, str | None]:
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT kind, start_date, end_date, summary FROM safeguarding_record WHERE id = :id"
            ),
            {"id": record_id.hex if engine.dialect.name == "sqlite" else record_id},
        ).one()
    return {key: None if value is None else str(value) for key, value in row._mapping.items()}


def test_the_migration_seals_the_kind_and_dates_of_a_record_written_before_it(
    scratch: Engine, scratch_url: str
) -> None:
    start, end = date(2026, 3, 2), date(2026, 9, 30)
    family_id, _, record_id = write_plain_record(
        scratch, kind="child_protection_plan", start=start, end=end
    )
    command.upgrade(alembic_config(scratch_url), REVISION)
    sealed = stored(scratch, record_id)
    plain = {"kind": "child_protection_plan", "start_date": "2026-03-02", "end_date": "2026-09-30"}
    for column, value in plain.items():
        token = sealed[column]
        assert token is not None
        assert token.startswith("v1.")
        assert value not in token
    cipher = household_cipher(scratch, family_id)
    for column, value in plain.items():
        opened = cipher.decrypt(str(sealed[column]), aad=field_aad(TABLE, column, record_id))
        assert opened == value


def test_the_service_reads_a_record_the_migration_sealed(scratch: Engine, scratch_url: str) -> None:
    start = factories.today() - timedelta(days=30)
    family_id, _, _ = write_plain_record(
        scratch, kind="child_protection_plan", start=start, end=None
    )
    # The service as it is now reads the schema at head (0006 runs on the way).
    command.upgrade(alembic_config(scratch_url), "head")
    with Session(bind=scratch) as session:
        active = safeguarding_service.household_plan_active(
            session, family_id, factories.today(), get_key_ring()
        )
        before = safeguarding_service.household_plan_active(
            session, family_id, start - timedelta(days=1), get_key_ring()
        )
    assert (active, before) == (True, False)


def test_a_record_sealed_already_is_left_as_it_is(scratch: Engine, scratch_url: str) -> None:
    _, _, record_id = write_plain_record(
        scratch, kind="risk_issue", start=date(2026, 1, 5), end=None
    )
    command.upgrade(alembic_config(scratch_url), REVISION)
    first = stored(scratch, record_id)
    with scratch.begin() as connection:
        changed = migration(scratch_url).seal_rows(connection, get_key_ring())
    assert changed == 0
    assert stored(scratch, record_id) == first


def test_the_downgrade_restores_the_plain_kind_and_dates(scratch: Engine, scratch_url: str) -> None:
    _, _, ended = write_plain_record(
        scratch, kind="looked_after", start=date(2025, 12, 1), end=date(2026, 6, 1)
    )
    _, _, open_ended = write_plain_record(
        scratch, kind="assessment", start=date(2026, 2, 14), end=None
    )
    command.upgrade(alembic_config(scratch_url), REVISION)
    command.downgrade(alembic_config(scratch_url), BEFORE)
    with scratch.connect() as connection:
        rows = {
            row.id: (row.kind, row.start_date, row.end_date)
            for row in connection.execute(
                sa.select(
                    plain_record.c.id,
                    plain_record.c.kind,
                    plain_record.c.start_date,
                    plain_record.c.end_date,
                )
            )
        }
    assert rows == {
        ended: ("looked_after", date(2025, 12, 1), date(2026, 6, 1)),
        open_ended: ("assessment", date(2026, 2, 14), None),
    }
