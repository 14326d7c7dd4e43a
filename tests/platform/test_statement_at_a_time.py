"""A person read on PostgreSQL runs statement at a time: no BEGIN and COMMIT round trips
around its SELECT and its one audit INSERT, and the pool gets the connection back as it
was."""

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.platform import db
from tests.conftest import configured_database_url

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
