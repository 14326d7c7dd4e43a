"""GET /fhir/R4/Patient/{id} and the CapabilityStatement: what a FHIR client reads first."""

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from tests import factories
from tests.fhir.helpers import HV, REDACTED, event, valid

Headers = Callable[..., dict[str, str]]


def test_the_capability_statement_needs_no_token_and_names_every_resource_served(
    client: TestClient,
) -> None:
    response = client.get("/fhir/R4/metadata")
    assert response.status_code == 200
    statement = valid(response)
    [rest] = statement["rest"]
    served = {r["type"]: [i["code"] for i in r["interaction"]] for r in rest["resource"]}
    assert served == {
        "Patient": ["read", "search-type"],
        "RelatedPerson": ["search-type"],
        "Encounter": ["search-type"],
        "Observation": ["search-type"],
        "Consent": ["search-type"],
        "Flag": ["search-type"],
    }
    assert statement["fhirVersion"] == "4.0.1"


def test_a_patient_is_a_uk_core_patient_with_its_nhs_number(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session, given_name="Ife", family_name="Adeyemi")
    response = client.get(f"/fhir/R4/Patient/{child.id}", headers=headers(*HV))
    assert response.status_code == 200, response.text
    patient = valid(response)
    assert patient["meta"]["profile"] == [
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"
    ]
    assert patient["identifier"] == [
        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": child.nhs_number}
    ]
    assert patient["name"] == [{"use": "official", "family": "Adeyemi", "given": ["Ife"]}]
    assert patient["birthDate"] == child.date_of_birth.isoformat()


def test_a_patient_carries_its_version_as_etag_and_meta_version_id(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.get(f"/fhir/R4/Patient/{child.id}", headers=headers(*HV))
    assert response.headers["ETag"] == 'W/"1"'
    assert response.json()["meta"]["versionId"] == "1"


def test_a_patient_read_names_its_bases_with_the_art_9_condition_for_ethnicity(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.get(f"/fhir/R4/Patient/{child.id}", headers=headers(*HV))
    assert response.headers["X-Lawful-Basis"] == "art6-1-e,art9-2-h"
    assert response.headers["Cache-Control"] == "no-store"
    assert "X-Withheld-Categories" not in response.headers


def test_a_patient_read_is_one_audit_event_about_the_patient(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.get(f"/fhir/R4/Patient/{child.id}", headers=headers(*HV))
    audited = event(session, response)
    assert (audited.subject_id, audited.resource, audited.allowed) == (child.id, "person", True)
    count = session.execute(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.subject_id == child.id)
    ).scalar_one()
    assert count == 1


def test_ethnicity_held_is_the_uk_core_ethnic_category_extension(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    recorded = client.put(
        f"/v1/people/{child.id}/special-category", json={"ethnicity": "N"}, headers=headers(*HV)
    )
    assert recorded.status_code == 200, recorded.text
    patient = valid(client.get(f"/fhir/R4/Patient/{child.id}", headers=headers(*HV)))
    [extension] = patient["extension"]
    assert extension["url"] == (
        "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
    )
    assert extension["valueCodeableConcept"]["coding"][0]["code"] == "N"


def test_a_patient_without_ethnicity_recorded_has_no_extension(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    patient = valid(client.get(f"/fhir/R4/Patient/{child.id}", headers=headers(*HV)))
    assert "extension" not in patient
    assert "security" not in patient["meta"]


def test_a_category_withheld_is_left_out_and_the_patient_is_marked_redacted(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    client.put(
        f"/v1/people/{child.id}/special-category", json={"ethnicity": "N"}, headers=headers(*HV)
    )
    response = client.get(
        f"/fhir/R4/Patient/{child.id}", headers=headers("health_visitor", "service_invitation")
    )
    assert response.status_code == 200, response.text
    patient = valid(response)
    assert response.headers["X-Withheld-Categories"] == "ethnicity"
    assert "extension" not in patient
    assert patient["meta"]["security"] == [REDACTED]
    assert patient["identifier"][0]["value"] == child.nhs_number
