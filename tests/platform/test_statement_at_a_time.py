"""A person read on PostgreSQL runs statement at a time: no BEGIN and COMMIT round trips
around its SELECT and its one audit INSERT, and the pool gets the connection back as it
was."""

from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from app.platform import db
from tests.conftest import configured_database_url
from tests.servers import child_over_http, free_port, scratch_database, serve, wait_ready

URL = configured_database_url()
pytestmark = pytest.mark.skipif(
    not (URL and URL.startswith("postgresql")), reason="PostgreSQL's isolation levels"
)


def test_a_session_made_statement_at_a_time_commits_each_statement_and_resets_after() -> None:
    assert URL is not None
    engine = create_engine(URL, pool_size=1, max_overflow=0)
    try:
        with Session(engine) as session:
            db.statement_at_a_time(session)
            connection = session.connection()
            assert connection.get_execution_options()["isolation_level"] == "AUTOCOMMIT"
            assert connection.connection.dbapi_connection.autocommit is True  # type: ignore[union-attr]
        with engine.connect() as again:
            # The one pooled connection, back in a transaction of its own.
            assert "isolation_level" not in again.get_execution_options()
            assert again.connection.dbapi_connection.autocommit is False  # type: ignore[union-attr]
    finally:
        engine.dispose()


def test_a_session_already_in_a_transaction_is_left_as_it_is() -> None:
    assert URL is not None
    engine = create_engine(URL)
    try:
        with Session(engine) as session:
            session.connection()
            db.statement_at_a_time(session)
            dbapi = session.connection().connection.dbapi_connection
            assert dbapi.autocommit is False  # type: ignore[union-attr]
    finally:
        engine.dispose()


def test_a_refused_read_on_a_real_server_keeps_one_event_with_the_status_sent(
    tmp_path: Path,
) -> None:
    """The read's event is written once, when the answer is known: a refusal's event
    names the status the caller got, and no second copy is attempted."""
    from app.auth.tokens import mint_token
    from app.platform.schema import alembic_config
    from app.platform.settings import get_settings
    from app.policy.vocabulary import Role

    log = tmp_path / "server.log"
    with scratch_database(tmp_path, "one_statement") as url:
        command.upgrade(alembic_config(url), "head")
        port = free_port()
        server = serve(url, port, log=log)
        try:
            wait_ready(port, process=server)
            token = mint_token(get_settings(), role=Role.HEALTH_VISITOR, sub="hv-one")
            base = f"http://127.0.0.1:{port}"
            asked = {"Authorization": f"Bearer {token}"}
            missing = httpx.get(
                f"{base}/v1/people/{uuid4()}", headers={**asked, "X-Purpose": "health_care"}
            )
            child = child_over_http(
                base, {**asked, "X-Purpose": "health_care"}, family_name="Status"
            )
            denied = httpx.get(
                f"{base}/v1/people/{child['id']}", headers={**asked, "X-Purpose": "nursery_care"}
            )
        finally:
            server.terminate()
            server.wait(timeout=20)
        assert missing.status_code == 404
        assert denied.status_code == 403
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                statuses = {
                    str(row.decision_id): (row.status, row.outcome)
                    for row in connection.execute(
                        text("SELECT decision_id, status, outcome FROM audit_event")
                    )
                }
        finally:
            engine.dispose()
    assert statuses[missing.headers["X-Decision-Id"]] == (404, "denied")
    assert statuses[denied.headers["X-Decision-Id"]] == (403, "denied")
    assert "could not keep" not in log.read_text()
