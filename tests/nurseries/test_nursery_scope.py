"""DOMAIN.md step 3, end to end: a nursery practitioner reaches only children attending
their own nursery on the day, and no other person or family record."""

from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.people.models import Family
from tests import factories

Headers = Callable[..., dict[str, str]]


def event(session: Session, response: httpx.Response) -> AuditEvent:
    return session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(response.headers["X-Decision-Id"]))
    ).scalar_one()


def nurseries() -> tuple[UUID, UUID]:
    first, second, *_ = factories.nursery_ids()
    return first, second


def practitioner_at(headers: Headers, nursery: UUID) -> dict[str, str]:
    return headers("nursery_practitioner", "nursery_care", nursery_id=nursery)


def assert_out_of_scope(session: Session, response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["reason"] == "out_of_scope"
    assert response.json()["decision_id"] == response.headers["X-Decision-Id"]
    assert "X-Lawful-Basis" not in response.headers
    audited = event(session, response)
    assert not audited.allowed
    assert audited.reason == "out_of_scope"
    assert audited.actor_role == "nursery_practitioner"


def test_nursery_practitioner_reads_a_child_attending_their_nursery_today(
    client: TestClient, session: Session, headers: Headers
) -> None:
    a, _ = nurseries()
    child = factories.make_child(session, given_name="Ife")
    factories.enrol(session, child, a)
    response = client.get(f"/v1/people/{child.id}", headers=practitioner_at(headers, a))
    assert response.status_code == 200, response.text
    assert response.json()["given_name"] == "Ife"
    assert response.headers["X-Lawful-Basis"] == "art6-1-e"
    audited = event(session, response)
    assert audited.allowed
    assert audited.actor_nursery_id == a


def test_nursery_practitioner_reads_the_safeguarding_records_of_a_child_at_their_nursery(
    client: TestClient, session: Session, headers: Headers
) -> None:
    a, _ = nurseries()
    child = factories.make_child(session)
    factories.enrol(session, child, a)
    factories.make_plan(session, child)
    response = client.get(
        f"/v1/people/{child.id}/safeguarding", headers=practitioner_at(headers, a)
    )
    assert response.status_code == 200, response.text
    [plan] = response.json()["items"]
    assert plan["kind"] == "child_protection_plan"
    assert plan["active"] is True
    assert response.headers["X-Lawful-Basis"] == "art6-1-e,art9-2-g"
    assert event(session, response).allowed


def test_nursery_practitioner_reads_a_child_whose_enrolment_ends_today(
    client: TestClient, session: Session, headers: Headers
) -> None:
    a, _ = nurseries()
    child = factories.make_child(session)
    factories.enrol(session, child, a, end=factories.today())
    response = client.get(f"/v1/people/{child.id}", headers=practitioner_at(headers, a))
    assert response.status_code == 200, response.text


def test_nursery_practitioner_cannot_read_a_child_at_another_nursery(
    client: TestClient, session: Session, headers: Headers
) -> None:
    a, b = nurseries()
    child = factories.make_child(session)
    factories.enrol(session, child, b)
    response = client.get(f"/v1/people/{child.id}", headers=practitioner_at(headers, a))
    assert_out_of_scope(session, response)


def test_nursery_practitioner_cannot_read_safeguarding_of_a_child_at_another_nursery(
    client: TestClient, session: Session, headers: Headers
) -> None:
    a, b = nurseries()
    child = factories.make_child(session)
    factories.enrol(session, child, b)
    factories.make_plan(session, child)
    response = client.get(
        f"/v1/people/{child.id}/safeguarding", headers=practitioner_at(headers, a)
    )
    assert_out_of_scope(session, response)


def test_nursery_practitioner_cannot_read_a_child_whose_enrolment_ended_yesterday(
    client: TestClient, session: Session, headers: Headers
) -> None:
    a, _ = nurseries()
    child = factories.make_child(session)
    yesterday = factories.today() - timedelta(days=1)
    factories.enrol(session, child, a, start=yesterday - timedelta(days=90), end=yesterday)
    response = client.get(f"/v1/people/{child.id}", headers=practitioner_at(headers, a))
    assert_out_of_scope(session, response)


def test_nursery_practitioner_cannot_read_a_child_whose_enrolment_starts_tomorrow(
    client: TestClient, session: Session, headers: Headers
) -> None:
    a, _ = nurseries()
    child = factories.make_child(session)
    factories.enrol(session, child, a, start=factories.today() + timedelta(days=1))
    response = client.get(f"/v1/people/{child.id}", headers=practitioner_at(headers, a))
    assert_out_of_scope(session, response)


def test_nursery_practitioner_cannot_read_the_childs_carer(
    client: TestClient, session: Session, headers: Headers
) -> None:
    a, _ = nurseries()
    child = factories.make_child(session)
    factories.enrol(session, child, a)
    family = session.get(Family, child.family_id)
    carer = factories.make_carer(session, family=family)
    response = client.get(f"/v1/people/{carer.id}", headers=practitioner_at(headers, a))
    assert_out_of_scope(session, response)


def test_nursery_practitioner_cannot_read_the_family_record(
    client: TestClient, session: Session, headers: Headers
) -> None:
    a, _ = nurseries()
    child = factories.make_child(session)
    factories.enrol(session, child, a)
    response = client.get(f"/v1/families/{child.family_id}", headers=practitioner_at(headers, a))
    assert_out_of_scope(session, response)


def test_an_enrolment_recorded_through_the_api_brings_the_child_into_scope(
    client: TestClient, session: Session, headers: Headers
) -> None:
    a, _ = nurseries()
    child = factories.make_child(session)
    h = practitioner_at(headers, a)
    assert client.get(f"/v1/people/{child.id}", headers=h).status_code == 403
    enrolled = client.post(
        f"/v1/nurseries/{a}/enrolments",
        json={"child_id": str(child.id), "start_date": str(factories.today())},
        headers=h,
    )
    assert enrolled.status_code == 201, enrolled.text
    response = client.get(f"/v1/people/{child.id}", headers=h)
    assert response.status_code == 200, response.text
