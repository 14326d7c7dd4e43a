"""A report's decision is committed before it counts: a long report holds no write lock,
so reads and writes of every other request go on (SQLite has a single writer)."""

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.main import create_app
from app.platform.db import get_session, make_engine, unit_of_work
from app.platform.idempotency import IdempotencyRecord
from app.reports import service as reports_service
from tests import factories
from tests.conftest import alembic_config
from tests.servers import scratch_database

Headers = Callable[..., dict[str, str]]


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """The app's engine on a database of its own, and an impatient second writer."""
    with scratch_database(tmp_path, "report_locks") as url:
        command.upgrade(alembic_config(url), "head")
        app_engine = make_engine(url)
        options = {"connect_args": {"timeout": 0.2}} if url.startswith("sqlite") else {}
        other = create_engine(url, **options)
        yield app_engine, other
        app_engine.dispose()
        other.dispose()


def _write_now(engine: Engine) -> bool:
    """Whether a write can start at once (within 0.2 s on SQLite)."""
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SET lock_timeout = '200ms'"))
            connection.execute(
                insert(IdempotencyRecord.__table__).values(  # type: ignore[arg-type]
                    caller_sub="probe",
                    key="probe",
                    method="POST",
                    path="/probe",
                    request_hash="0" * 64,
                    status_code=201,
                    body=b"",
                )
            )
            connection.rollback()
    except OperationalError:
        return False
    return True


@pytest.mark.parametrize(
    ("path", "purpose", "computes"),
    [
        ("/v1/reports/take-up", "take_up_monitoring", "take_up"),
        ("/v1/reports/impact", "impact_evaluation", "impact"),
    ],
)
def test_a_report_holds_no_write_lock_while_it_counts(
    scratch: tuple[Engine, Engine],
    headers: Headers,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    purpose: str,
    computes: str,
) -> None:
    app_engine, other = scratch
    app = create_app()

    def _session() -> Iterator[Session]:
        with Session(bind=app_engine, expire_on_commit=False) as session:
            yield from unit_of_work(session)

    app.dependency_overrides[get_session] = _session
    writes: list[bool] = []
    counted = getattr(reports_service, computes)

    def counting(*args: Any, **kwargs: Any) -> Any:
        writes.append(_write_now(other))
        return counted(*args, **kwargs)

    monkeypatch.setattr(reports_service, computes, counting)
    last = factories.today() - timedelta(days=1)
    response = TestClient(app).get(
        path,
        params={"from": (last - timedelta(days=90)).isoformat(), "to": last.isoformat()},
        headers=headers("public_health_analyst", purpose),
    )
    assert response.status_code == 200, response.text
    assert writes == [True]
