from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories

Headers = Callable[..., dict[str, str]]


def test_health_visitor_reads_a_child_for_health_care(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session, given_name="Amara")
    response = client.get(
        f"/v1/people/{child.id}", headers=headers("health_visitor", "health_care")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["given_name"] == "Amara"
    assert body["address"]["postcode"] == "NW1 7AA"
    assert response.headers["X-Lawful-Basis"] == "art6-1-e"
    assert "X-Decision-Id" in response.headers
    assert response.headers["ETag"] == '"1"'


def test_missing_purpose_is_400(client: TestClient, session: Session, headers: Headers) -> None:
    child = factories.make_child(session)
    response = client.get(f"/v1/people/{child.id}", headers=headers("health_visitor"))
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_camhs_clinician_cannot_declare_early_help(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.get(
        f"/v1/people/{child.id}", headers=headers("camhs_clinician", "early_help")
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "purpose_not_permitted"
    assert response.json()["decision_id"] == response.headers["X-Decision-Id"]


def test_create_family_and_person_over_http(client: TestClient, headers: Headers) -> None:
    h = headers("health_visitor", "health_care")
    family = client.post(
        "/v1/families", json={"address": {"line1": "2 Road", "postcode": "nw17aa"}}, headers=h
    )
    assert family.status_code == 201, family.text
    assert family.json()["address"]["postcode"] == "NW1 7AA"
    person = client.post(
        "/v1/people",
        json={
            "family_id": family.json()["id"],
            "kind": "child",
            "given_name": "Bo",
            "family_name": "Li",
            "date_of_birth": str(factories.today() - timedelta(days=30)),
            "nhs_number": "9990000018",
        },
        headers=h,
    )
    assert person.status_code == 201, person.text
    fam = client.get(f"/v1/families/{family.json()['id']}", headers=h)
    assert fam.status_code == 200, fam.text
    assert [m["given_name"] for m in fam.json()["members"]] == ["Bo"]
