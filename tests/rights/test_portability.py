"""Portability (Art 20): the data processed on consent, as JSON and as a FHIR R4 Bundle
that a FHIR validator library accepts."""

from typing import Any

from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy.orm import Session

from app.people.models import Person
from tests import factories
from tests.rights.cases import OFFICER, Headers, decide, open_case

HV = ("health_visitor", "health_care")
FHIR = "application/fhir+json"


def _child_on_consent(
    client: TestClient, session: Session, headers: Headers
) -> tuple[Person, Person]:
    family = factories.make_family(session)
    carer = factories.make_carer(session, family=family, given_name="Ngozi")
    child = factories.make_child(session, family=family, given_name="Ife")
    factories.make_consent(
        session,
        child,
        given_by=carer,
        categories=("identity", "contact", "health", "services"),
    )
    client.put(
        f"/v1/people/{child.id}/special-category",
        json={"ethnicity": "M", "health": {"allergies": "Peanut allergy", "needs": "Speech"}},
        headers=headers(*HV),
    )
    client.put(
        f"/v1/people/{child.id}/circumstances",
        json={"accommodation": "temporary"},
        headers=headers("health_visitor", "needs_assessment"),
    )
    contact = client.post(
        f"/v1/people/{child.id}/contacts",
        json={
            "kind": "home_visit",
            "occurred_at": "2026-10-01T10:00:00+00:00",
            "staff_role": "health_visitor",
            "notes": "Family settled",
        },
        headers=headers(*HV),
    )
    assert contact.status_code == 201, contact.text
    return carer, child


def _portability(client: TestClient, headers: Headers, child: Person, carer: Person) -> str:
    case = open_case(client, headers, child.id, type="portability", requester_id=carer.id)
    decided = decide(client, headers, case["id"])
    assert decided.status_code == 200, decided.text
    return str(case["id"])


def test_portability_returns_only_what_is_processed_on_consent_as_json(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer, child = _child_on_consent(client, session, headers)
    case_id = _portability(client, headers, child, carer)
    response = client.get(f"/v1/subject-requests/{case_id}/export", headers=headers(*OFFICER))
    assert response.status_code == 200, response.text
    package: dict[str, Any] = response.json()
    record = package["people"][0]
    assert record["person"]["given_name"] == "Ife"
    assert record["special_category"]["health"]["allergies"] == "Peanut allergy"
    assert record["special_category"].get("ethnicity") is None, "not covered by the consent"
    assert record["circumstances"] is None, "not covered by the consent"
    assert record["contacts"][0]["kind"] == "home_visit"
    assert record["consents"][0]["given_by_id"] == str(carer.id)
    assert record["access_log"] == []
    assert package["processing"] == []


def test_portability_as_a_fhir_r4_bundle_validates(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer, child = _child_on_consent(client, session, headers)
    case_id = _portability(client, headers, child, carer)
    response = client.get(
        f"/v1/subject-requests/{case_id}/export", headers={**headers(*OFFICER), "Accept": FHIR}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == FHIR
    body = response.json()
    bundle = Bundle.model_validate(body)
    assert bundle.type == "collection"
    resources = {e["resource"]["resourceType"]: e["resource"] for e in body["entry"]}
    assert {"Patient", "RelatedPerson", "Consent", "AllergyIntolerance", "Encounter"} <= set(
        resources
    )
    patient = resources["Patient"]
    assert patient["id"] == str(child.id)
    assert patient["identifier"][0] == {
        "system": "https://fhir.nhs.uk/Id/nhs-number",
        "value": child.nhs_number,
    }
    assert patient["name"][0]["given"] == ["Ife"]
    assert "extension" not in patient, "ethnicity is not processed on consent here"
    related = resources["RelatedPerson"]
    assert related["patient"]["reference"] == f"urn:uuid:{child.id}"
    assert related["relationship"][0]["coding"][0]["code"] == "PRN"
    consent = resources["Consent"]
    assert consent["status"] == "active"
    assert consent["patient"]["reference"] == f"urn:uuid:{child.id}"
    assert consent["performer"][0]["reference"] == f"urn:uuid:{related['id']}"
    full_urls = {e["fullUrl"] for e in body["entry"]}
    assert related["patient"]["reference"] in full_urls


def test_portability_with_nothing_processed_on_consent_is_refused_not_fulfilled(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    case = open_case(client, headers, carer.id, type="portability")
    fulfilled = decide(client, headers, case["id"])
    assert fulfilled.status_code == 422
    refused = decide(
        client, headers, case["id"], outcome="refused", reason="Nothing is processed on consent"
    )
    assert refused.status_code == 200
