"""Two server processes, many concurrent requests: the chain must not fork.

A single-process test cannot show a fork, so this one starts two uvicorn processes
on a database of its own (a scratch SQLite file, or a scratch PostgreSQL database
beside the test one) with the background sealer running in both.
"""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from alembic import command
from sqlalchemy import func, select

from app.audit.models import AuditEvent, AuditSeal
from app.people import schemas
from app.people import service as people_service
from app.platform.crypto import get_key_ring
from app.platform.db import make_engine
from tests.conftest import alembic_config
from tests.servers import instances, scratch_database

REQUESTS = 240
CLIENT_THREADS = 16


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    with scratch_database(tmp_path, "concurrency") as url:
        yield url


def test_two_instances_under_load_write_one_event_per_request_and_never_fork(
    scratch_url: str, token: Callable[..., str]
) -> None:
    command.upgrade(alembic_config(scratch_url), "head")
    engine = make_engine(scratch_url)
    with engine.begin() as connection:
        from sqlalchemy.orm import Session

        with Session(bind=connection) as session:
            family = people_service.create_family(
                session,
                schemas.FamilyCreate(address=schemas.Address(line1="1 Road", postcode="NW5 1TL")),
                get_key_ring(),
                family_id=uuid4(),
            )
            from tests.factories import today

            child = people_service.create_person(
                session,
                schemas.PersonCreate(
                    family_id=family.id,
                    kind=schemas.PersonKind.CHILD,
                    given_name="A",
                    family_name="B",
                    date_of_birth=today(),
                ),
                today(),
                person_id=uuid4(),
            )
            session.flush()
            child_id = child.id
    with instances(scratch_url) as ports:
        reader = {"Authorization": f"Bearer {token('health_visitor')}", "X-Purpose": "health_care"}

        def hit(i: int) -> int:
            port = ports[i % 2]
            r = httpx.get(
                f"http://127.0.0.1:{port}/v1/people/{child_id}", headers=reader, timeout=30
            )
            return r.status_code

        with ThreadPoolExecutor(CLIENT_THREADS) as pool:
            statuses = list(pool.map(hit, range(REQUESTS)))
        assert statuses.count(200) == REQUESTS
        officer = {
            "Authorization": f"Bearer {token('data_protection_officer')}",
            "X-Purpose": "subject_rights",
        }
        report = httpx.get(
            f"http://127.0.0.1:{ports[0]}/v1/audit/verify", headers=officer, timeout=60
        ).json()
    assert report["ok"] is True, report
    with engine.connect() as connection:
        reads = connection.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.resource == "person")
        ).scalar_one()
        seals = connection.execute(select(func.count()).select_from(AuditSeal)).scalar_one()
        links = connection.execute(
            select(func.count(func.distinct(AuditSeal.prev_hash)))
        ).scalar_one()
    engine.dispose()
    assert reads == REQUESTS
    # No two seals share a predecessor: the chain is a line, not a tree.
    assert links == seals
    assert report["events"] == seals + report["unsealed"]
