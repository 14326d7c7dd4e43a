"""What integrators may rely on besides the resources (API.md): no 500 under concurrent
retries, hostile input or a database that does not answer; bounded values; bodies
refused before any work; personal data never cached."""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.main import create_app
from app.people.models import Family, Person
from app.platform.db import get_session, make_engine, unit_of_work
from tests import factories
from tests.conftest import alembic_config
from tests.servers import instances, scratch_database

Headers = Callable[..., dict[str, str]]
HV = ("health_visitor", "health_care")
OFFICER = ("data_protection_officer", "subject_rights")
HOUSEHOLD = {"address": {"line1": "1 Retry Road", "postcode": "NW5 1TL"}}


def _event(session: Session, response: httpx.Response) -> AuditEvent:
    decision_id = UUID(response.headers["X-Decision-Id"])
    return session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == decision_id)
    ).scalar_one()


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    with scratch_database(tmp_path, "retries") as url:
        command.upgrade(alembic_config(url), "head")
        yield url


def test_thirty_simultaneous_creates_with_one_key_make_one_household_and_never_a_500(
    scratch_url: str, token: Callable[..., str]
) -> None:
    headers = {
        "Authorization": f"Bearer {token('health_visitor')}",
        "X-Purpose": "health_care",
        "Idempotency-Key": "one-household-please",
    }
    with instances(scratch_url) as ports:

        def create(i: int) -> httpx.Response:
            url = f"http://127.0.0.1:{ports[i % 2]}/v1/families"
            return httpx.post(url, json=HOUSEHOLD, headers=headers, timeout=60)

        with ThreadPoolExecutor(30) as pool:
            answers = list(pool.map(create, range(30)))
    statuses = sorted({answer.status_code for answer in answers})
    assert set(statuses) <= {201, 409}, statuses
    created = {answer.json()["id"] for answer in answers if answer.status_code == 201}
    assert len(created) == 1
    for answer in answers:
        if answer.status_code == 409:
            assert answer.headers["Content-Type"] == "application/problem+json"
            assert int(answer.headers["Retry-After"]) >= 1
    engine = make_engine(scratch_url)
    with engine.connect() as connection:
        households = connection.execute(select(func.count()).select_from(Family)).scalar_one()
    engine.dispose()
    assert households == 1


def test_a_token_whose_subject_is_longer_than_the_trail_keeps_is_refused(
    client: TestClient, session: Session, token: Callable[..., str]
) -> None:
    child = factories.make_child(session)
    response = client.get(
        f"/v1/people/{child.id}",
        headers={
            "Authorization": f"Bearer {token('health_visitor', sub='x' * 300)}",
            "X-Purpose": "health_care",
        },
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_request_id_is_echoed_and_recorded_with_the_decision(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.get(
        f"/v1/people/{child.id}", headers=headers(*HV, X_Request_Id="trust-7f3a.42")
    )
    assert response.status_code == 200
    assert response.headers["X-Request-Id"] == "trust-7f3a.42"
    assert _event(session, response).request_id == "trust-7f3a.42"


@pytest.mark.parametrize("sent", ["r" * 200, "has spaces in it", "semi;colon"])
def test_a_request_id_that_cannot_be_kept_is_replaced_by_one_that_can(
    client: TestClient, session: Session, headers: Headers, sent: str
) -> None:
    child = factories.make_child(session)
    response = client.get(f"/v1/people/{child.id}", headers=headers(*HV, X_Request_Id=sent))
    assert response.status_code == 200
    echoed = response.headers["X-Request-Id"]
    assert echoed != sent
    assert 1 <= len(echoed) <= 64
    assert _event(session, response).request_id == echoed


def test_a_request_without_a_request_id_gets_one(client: TestClient) -> None:
    response = client.get("/health/live")
    assert len(response.headers["X-Request-Id"]) == 32


def test_a_nul_character_in_a_field_is_422_and_nothing_is_created(
    client: TestClient, session: Session, headers: Headers
) -> None:
    family = factories.make_family(session)
    before = session.execute(select(func.count()).select_from(Person)).scalar_one()
    response = client.post(
        "/v1/people",
        json={
            "family_id": str(family.id),
            "kind": "child",
            "given_name": "Ad\x00a",
            "family_name": "Lovelace",
            "date_of_birth": str(factories.today()),
        },
        headers=headers(*HV),
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["given_name"]
    assert "Ad" not in response.text
    after = session.execute(select(func.count()).select_from(Person)).scalar_one()
    assert after == before


def test_a_nul_character_in_the_query_is_400(client: TestClient, headers: Headers) -> None:
    response = client.get("/v1/audit?actor_sub=a%00b", headers=headers(*OFFICER))
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"


def test_a_body_over_the_limit_is_413_before_the_token_is_read(client: TestClient) -> None:
    response = client.post(
        "/v1/families",
        content=b'{"address": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"


def test_a_streamed_body_over_the_limit_is_413(client: TestClient, headers: Headers) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield b"x" * 65536

    response = client.post(
        "/v1/families",
        content=chunks(),
        headers={**headers(*HV), "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_personal_data_is_never_cached(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.get(f"/v1/people/{child.id}", headers=headers(*HV))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    denied = client.get(f"/v1/people/{child.id}", headers=headers("health_visitor"))
    assert denied.headers["Cache-Control"] == "no-store"


def test_a_database_that_does_not_answer_is_503_with_retry_after(
    session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    unreachable = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    app = create_app()

    def _session() -> Iterator[Session]:
        with Session(bind=unreachable) as down:
            yield from unit_of_work(down)

    app.dependency_overrides[get_session] = _session
    client = TestClient(app, raise_server_exceptions=False)
    response = client.get(f"/v1/people/{child.id}", headers=headers(*HV))
    unreachable.dispose()
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert int(response.headers["Retry-After"]) >= 1
    # Answered inside the application, so it passes the edge like any other answer.
    assert len(response.headers["X-Request-Id"]) == 32
    assert response.headers["Cache-Control"] == "no-store"
