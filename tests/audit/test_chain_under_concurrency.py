"""Two server processes, many concurrent requests: the chain must not fork.

A single-process test cannot show a fork, so this one starts two uvicorn processes
on a database of its own (a scratch SQLite file, or a scratch PostgreSQL database
beside the test one) with the background sealer running in both.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from alembic import command
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from app.audit.models import AuditEvent, AuditSeal
from app.people import schemas
from app.people import service as people_service
from app.platform.crypto import get_key_ring
from app.platform.db import make_engine
from tests.conftest import ROOT, alembic_config, configured_database_url

REQUESTS = 240
CLIENT_THREADS = 16


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    base = configured_database_url()
    if not base:
        yield f"sqlite:///{tmp_path}/concurrency.db"
        return
    name = f"ieys_concurrency_{uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "IEYS_DATABASE_URL": url,
        "IEYS_AUDIT_SEAL_INTERVAL_SECONDS": "0.05",
        "IEYS_DB_POOL_SIZE": "8",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become ready")


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
    ports = [_free_port(), _free_port()]
    servers = [_serve(scratch_url, port) for port in ports]
    try:
        for port in ports:
            _wait_ready(port)
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
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=10)
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
