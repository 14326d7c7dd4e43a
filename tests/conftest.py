"""Fixtures: SQLite by default, PostgreSQL when IEYS_TEST_DATABASE_URL is set.

The schema is built by the migrations (so every run tests them too); each test runs
in an outer transaction that is rolled back, with the app's session joined to it.
"""

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

os.environ.setdefault("IEYS_AUDIT_SEAL_INTERVAL_SECONDS", "0")
# Tests build the report facts in their own transaction, at the first report.
os.environ.setdefault("IEYS_REPORT_FACTS_AT_START", "0")

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import Engine, create_engine, make_url
from sqlalchemy.orm import Session

from app.auth.tokens import mint_token
from app.main import create_app
from app.platform.db import get_session, unit_of_work
from app.platform.schema import alembic_config
from app.platform.settings import get_settings
from app.policy.vocabulary import Role

ROOT = Path(__file__).resolve().parent.parent


def configured_database_url() -> str | None:
    return os.environ.get("IEYS_TEST_DATABASE_URL") or None


def reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _sqlite_savepoint_recipe(engine: Engine) -> None:
    """pysqlite's own transaction handling defeats SAVEPOINT; SQLAlchemy's recipe."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own beside the configured
    one (`test_gw0`, ...), created when missing: workers never reset each other's."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if exists is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = configured_database_url()
    if url:
        url = worker_database(url)
        reset_postgres(url)
        command.upgrade(alembic_config(url), "head")
        yield url
        return
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/test.db"
        command.upgrade(alembic_config(url), "head")
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"check_same_thread": False})
        _sqlite_savepoint_recipe(engine)
    else:
        engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    with Session(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
    ) as session:
        yield session


@pytest.fixture
def client(session: Session) -> Iterator[TestClient]:
    app = create_app()

    def _session() -> Iterator[Session]:
        yield from unit_of_work(session)

    app.dependency_overrides[get_session] = _session
    yield TestClient(app, raise_server_exceptions=False)
    app.dependency_overrides.clear()


@pytest.fixture
def token() -> Callable[..., str]:
    def make(
        role: Role | str,
        *,
        nursery_id: UUID | None = None,
        org: str | None = None,
        sub: str | None = None,
    ) -> str:
        role = Role(role)
        return mint_token(
            get_settings(),
            role=role,
            org=org,
            sub=sub or f"{role.value}-1",
            nursery_id=nursery_id,
        )

    return make


@pytest.fixture
def headers(token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """Request headers for a role and purpose: `headers("health_visitor", "health_care")`."""

    def make(
        role: Role | str,
        purpose: str | None = None,
        *,
        justification: str | None = None,
        nursery_id: UUID | None = None,
        **extra: str,
    ) -> dict[str, str]:
        out = {"Authorization": f"Bearer {token(role, nursery_id=nursery_id)}"}
        if purpose:
            out["X-Purpose"] = purpose
        if justification:
            out["X-Justification"] = justification
        out.update({k.replace("_", "-"): v for k, v in extra.items()})
        return out

    return make
