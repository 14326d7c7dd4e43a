"""A server killed (SIGKILL) in the middle of an erasure that takes a household with it:
the household is still wholly there (its key, its member, the rows about them) and the
case still open; decided again on a new server, it is wholly gone with its key, logged
once per destroyed subject, nothing else lost, and the audit chain verifies.

The erasure runs in a real server process on a scratch PostgreSQL database. The test
holds a lock on `destruction_log`, which the erasure writes after its deletes in the
request's transaction, waits until the request is blocked on it and kills the server.
"""

import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.platform.db import make_engine
from app.rights.models import SubjectRequest
from tests import factories
from tests.conftest import alembic_config, configured_database_url
from tests.retention.destruction_state import (
    assert_whole,
    blocked_writer,
    destruction_log_locked,
    snapshot,
    wait_backend_gone,
)
from tests.servers import free_port, scratch_database, serve, wait_ready

pytestmark = pytest.mark.skipif(
    not configured_database_url(),
    reason="stops the erasure on a PostgreSQL lock to kill the server mid-transaction: "
    "runs when IEYS_TEST_DATABASE_URL is set",
)

CONTACTS = 5
TIMEOUT = 60


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Engine]:
    with scratch_database(tmp_path, "erasure_killed") as url:
        command.upgrade(alembic_config(url), "head")
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def _people(engine: Engine) -> tuple[UUID, UUID, UUID]:
    """A household of one carer (erasing them takes the household), and another
    household, of a carer and a child, that must not be touched."""
    with Session(engine, expire_on_commit=False) as session:
        alone = factories.make_carer(session)
        factories.make_safeguarding_record(session, alone)
        other = factories.make_family(session)
        factories.make_carer(session, family=other)
        child = factories.make_child(session, family=other)
        factories.make_safeguarding_record(session, child)
        return alone.id, alone.family_id, child.id


def test_an_erasure_killed_mid_transaction_leaves_the_household_whole_and_a_retry_erases_it(
    database: Engine, token: Callable[..., str], tmp_path: Path
) -> None:
    url = database.url.render_as_string(hide_password=False)
    subject, household, child = _people(database)
    officer = {
        "Authorization": f"Bearer {token('data_protection_officer')}",
        "X-Purpose": "subject_rights",
    }
    visitor = {"Authorization": f"Bearer {token('health_visitor')}", "X-Purpose": "health_care"}
    servers = []
    try:
        port = free_port()
        servers.append(serve(url, port, log=tmp_path / "first.log"))
        wait_ready(port)
        base = f"http://127.0.0.1:{port}/v1"
        for person in (subject, child):
            for _ in range(CONTACTS):
                contact = httpx.post(
                    f"{base}/people/{person}/contacts",
                    json={
                        "kind": "call",
                        "occurred_at": "2026-10-01T10:00:00+00:00",
                        "staff_role": "health_visitor",
                    },
                    headers=visitor,
                    timeout=TIMEOUT,
                )
                assert contact.status_code == 201, contact.text
        opened = httpx.post(
            f"{base}/subject-requests",
            json={"type": "erasure", "subject_id": str(subject), "requester_id": str(subject)},
            headers=officer,
            timeout=TIMEOUT,
        )
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["id"]
        decision = {"outcome": "fulfilled", "reason": "No ground to keep the record"}
        before = snapshot(database)
        planned = {household: {subject, household}}

        answered: list[Any] = []

        def decide() -> None:
            try:
                answered.append(
                    httpx.post(
                        f"{base}/subject-requests/{case_id}/decide",
                        json=decision,
                        headers=officer,
                        timeout=TIMEOUT,
                    )
                )
            except httpx.HTTPError as exc:
                answered.append(exc)

        with destruction_log_locked(database) as holder:
            request = threading.Thread(target=decide, daemon=True)
            request.start()
            pid = blocked_writer(holder)
            servers[0].send_signal(signal.SIGKILL)
            servers[0].wait(timeout=10)
        wait_backend_gone(database, pid)
        request.join(timeout=TIMEOUT)
        assert len(answered) == 1
        assert isinstance(answered[0], httpx.HTTPError), "the server died before answering"

        killed = snapshot(database)
        assert assert_whole(before, killed, planned) == set(), "the household is whole"
        assert killed.households[household].keyed
        with database.connect() as connection:
            status = connection.execute(
                select(SubjectRequest.status).where(SubjectRequest.id == UUID(case_id))
            ).scalar_one()
        assert status != "closed", "the case is still to decide"

        port = free_port()
        servers.append(serve(url, port, log=tmp_path / "second.log"))
        wait_ready(port)
        base = f"http://127.0.0.1:{port}/v1"
        retried = httpx.post(
            f"{base}/subject-requests/{case_id}/decide",
            json=decision,
            headers=officer,
            timeout=TIMEOUT,
        )
        assert retried.status_code == 200, retried.text
        after = snapshot(database)
        assert assert_whole(before, after, planned) == {household}
        assert set(after.logged) == {subject, household}
        assert after.logged[household] == "family"
        gone = httpx.get(f"{base}/people/{subject}", headers=visitor, timeout=TIMEOUT)
        assert gone.status_code == 410
        kept = httpx.get(f"{base}/people/{child}", headers=visitor, timeout=TIMEOUT)
        assert kept.status_code == 200

        verified = httpx.get(f"{base}/audit/verify", headers=officer, timeout=TIMEOUT)
        assert verified.status_code == 200
        assert verified.json()["ok"] is True
    finally:
        for server in servers:
            if server.poll() is None:
                server.kill()
            server.wait(timeout=10)
