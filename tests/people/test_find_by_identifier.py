"""GET /v1/people?nhs_number=… (or ?upn=…): a trust finds a child it knows by NHS
number, through the same decision and audit as a read of that person."""

from collections.abc import Callable
from uuid import UUID

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.people.models import Person
from tests import factories

Headers = Callable[..., dict[str, str]]
HV = ("health_visitor", "health_care")
UPN = "B801200005001"


def _event(session: Session, response: httpx.Response) -> AuditEvent:
    decision_id = UUID(response.headers["X-Decision-Id"])
    return session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == decision_id)
    ).scalar_one()


def test_a_child_is_found_by_nhs_number_and_the_read_is_audited_about_them(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.get(
        "/v1/people", params={"nhs_number": child.nhs_number}, headers=headers(*HV)
    )
    assert response.status_code == 200, response.text
    [found] = response.json()["items"]
    assert found["id"] == str(child.id)
    assert response.headers["X-Lawful-Basis"] == "art6-1-e"
    audited = _event(session, response)
    assert (audited.subject_id, audited.resource, audited.allowed) == (child.id, "person", True)


def test_a_child_is_found_by_unique_pupil_number(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    session.execute(update(Person).where(Person.id == child.id).values(upn=UPN))
    session.commit()
    response = client.get("/v1/people", params={"upn": UPN.lower()}, headers=headers(*HV))
    assert [p["id"] for p in response.json()["items"]] == [str(child.id)]


def test_an_identifier_no_one_has_is_an_empty_page_and_still_audited(
    client: TestClient, session: Session, headers: Headers
) -> None:
    response = client.get("/v1/people", params={"nhs_number": "9990000018"}, headers=headers(*HV))
    assert response.status_code == 200
    assert response.json()["items"] == []
    audited = _event(session, response)
    assert (audited.subject_id, audited.allowed, audited.reason) == (None, False, "not_found")


def test_a_nursery_practitioner_learns_nothing_of_a_child_not_at_their_nursery(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    practitioner = headers(
        "nursery_practitioner", "nursery_care", nursery_id=factories.nursery_ids()[0]
    )
    held = client.get("/v1/people", params={"nhs_number": child.nhs_number}, headers=practitioner)
    nobody = client.get("/v1/people", params={"nhs_number": "9990000018"}, headers=practitioner)
    assert (held.status_code, nobody.status_code) == (403, 403)
    assert held.json()["reason"] == nobody.json()["reason"] == "out_of_scope"


def test_a_restricted_child_found_by_nhs_number_is_refused(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    session.execute(update(Person).where(Person.id == child.id).values(restricted=True))
    session.commit()
    response = client.get(
        "/v1/people", params={"nhs_number": child.nhs_number}, headers=headers(*HV)
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "processing_restricted"


def test_exactly_one_valid_identifier_is_asked_for(client: TestClient, headers: Headers) -> None:
    neither = client.get("/v1/people", headers=headers(*HV))
    both = client.get(
        "/v1/people", params={"nhs_number": "9990000018", "upn": UPN}, headers=headers(*HV)
    )
    invalid = client.get("/v1/people", params={"nhs_number": "9990000000"}, headers=headers(*HV))
    assert (neither.status_code, both.status_code, invalid.status_code) == (422, 422, 422)


def test_creating_a_person_whose_nhs_number_is_recorded_names_the_existing_person(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        "/v1/people",
        json={
            "family_id": str(child.family_id),
            "kind": "child",
            "given_name": "Twin",
            "family_name": "Copy",
            "date_of_birth": str(factories.today()),
            "nhs_number": child.nhs_number,
        },
        headers=headers(*HV),
    )
    assert response.status_code == 409
    assert response.json()["existing_id"] == str(child.id)
