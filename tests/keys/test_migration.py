"""Revision 0009: existing household keys get the id of the KEK that wrapped them, and
the key canary is written under the current key."""

from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import sqlalchemy as sa
from alembic import command

from app.people.models import Family
from app.platform.crypto import KeyRing, kek_id, load_kek
from tests.conftest import alembic_config
from tests.keys.deployment import Deployment, new_key

KEY_A, KEY_OLD = new_key(), new_key()
family_key_then = sa.table(
    "family_key",
    sa.column("family_id", sa.Uuid()),
    sa.column("wrapped_key", sa.LargeBinary()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _household_as_0008_stored_it(deployment: Deployment, key: str) -> UUID:
    family_id, now = uuid4(), datetime.now(UTC)
    engine = deployment.engine()
    with engine.begin() as connection:
        connection.execute(
            sa.insert(Family.__table__).values(
                id=family_id,
                address_line1="1 Test Street",
                postcode="NW1 7AA",
                family_worker_supported=False,
                destroy_on=date(2031, 1, 1),
                created_at=now,
                updated_at=now,
                version=1,
            )
        )
        wrapped = KeyRing(load_kek(key)).new_wrapped_key()
        connection.execute(
            sa.insert(family_key_then).values(
                family_id=family_id, wrapped_key=wrapped.wrapped, created_at=now
            )
        )
    engine.dispose()
    return family_id


def _stored_ids(deployment: Deployment) -> dict[UUID, str]:
    engine = deployment.engine()
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT family_id, kek_id FROM family_key")).all()
    engine.dispose()
    return {row[0] if isinstance(row[0], UUID) else UUID(row[0]): row[1] for row in rows}


def test_with_one_key_configured_every_existing_household_key_gets_its_id(
    deployment: Deployment,
) -> None:
    deployment.configure(KEY_A)
    deployment.migrate("0008")
    first, second = (_household_as_0008_stored_it(deployment, KEY_A) for _ in range(2))
    deployment.migrate()
    current = kek_id(load_kek(KEY_A))
    assert _stored_ids(deployment) == {first: current, second: current}
    assert deployment.client().get("/health/ready").status_code == 200


def test_with_previous_keys_configured_each_household_key_gets_the_id_of_its_own_kek(
    deployment: Deployment,
) -> None:
    deployment.configure(KEY_OLD)
    deployment.migrate("0008")
    old = _household_as_0008_stored_it(deployment, KEY_OLD)
    current = _household_as_0008_stored_it(deployment, KEY_A)
    deployment.configure(KEY_A, previous=KEY_OLD)
    deployment.migrate()
    assert _stored_ids(deployment) == {
        old: kek_id(load_kek(KEY_OLD)),
        current: kek_id(load_kek(KEY_A)),
    }
    assert deployment.client().get("/health/ready").status_code == 200


def test_the_downgrade_drops_the_kek_ids_and_the_canary(deployment: Deployment) -> None:
    deployment.configure(KEY_A)
    deployment.migrate("0009")
    command.downgrade(alembic_config(deployment.url), "0008")
    engine = deployment.engine()
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        columns = {c["name"] for c in inspector.get_columns("family_key")}
        tables = set(inspector.get_table_names())
    engine.dispose()
    assert "kek_id" not in columns
    assert "key_canary" not in tables
