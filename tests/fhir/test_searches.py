"""Searches under /fhir/R4: searchset Bundles with `total`, paging links and `_count`,
each person found decided as a read, each result set audited once."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.people.models import Family, Person
from tests import factories
from tests.fhir.helpers import HV, entries, event, valid

Headers = Callable[..., dict[str, str]]
NHS = "https://fhir.nhs.uk/Id/nhs-number"
JUSTIFICATION = "Police raised a concern about the child today"


def _search(client: TestClient, headers: Headers, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/fhir/R4/{path}", params=params, headers=headers(*HV))
    assert response.status_code == 200, response.text
    return valid(response)


def test_a_patient_is_found_by_nhs_number_in_a_searchset(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_child(session)
    bundle = _search(client, headers, "Patient", identifier=f"{NHS}|{child.nhs_number}")
    assert bundle["total"] == 1
    [patient] = entries(bundle)
    assert patient["id"] == str(child.id)
    assert bundle["entry"][0]["fullUrl"] == f"http://testserver/fhir/R4/Patient/{child.id}"


def test_patients_are_found_by_the_start_of_a_name_and_a_birth_date(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session, given_name="Zainab", family_name="Quirke")
    factories.make_child(
        session, given_name="Zainab", family_name="Quirke", born=factories.today() - timedelta(3)
    )
    bundle = _search(
        client, headers, "Patient", family="quir", given="ZAIN", birthdate=str(child.date_of_birth)
    )
    assert [p["id"] for p in entries(bundle)] == [str(child.id)]


def test_a_search_returns_only_the_people_a_read_would_allow(
    client: TestClient, session: Session, headers: Headers
) -> None:
    shown = factories.make_child(session, family_name="Ollerenshaw")
    hidden = factories.make_child(session, family_name="Ollerenshaw")
    session.execute(update(Person).where(Person.id == hidden.id).values(restricted=True))
    session.commit()
    bundle = _search(client, headers, "Patient", family="Ollerenshaw")
    assert bundle["total"] == 1
    assert [p["id"] for p in entries(bundle)] == [str(shown.id)]


def test_a_search_is_one_audit_event_naming_every_patient_returned(
    client: TestClient, session: Session, headers: Headers
) -> None:
    found = {str(factories.make_child(session, family_name="Achterberg").id) for _ in range(3)}
    before = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    response = client.get("/fhir/R4/Patient?family=Achterberg", headers=headers(*HV))
    after = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    assert after - before == 1
    audited = event(session, response)
    assert set((audited.related_ids or "").split()) == found
    assert audited.subject_id is None


def test_a_search_pages_by_count_and_follows_its_next_link(
    client: TestClient, session: Session, headers: Headers
) -> None:
    ids = sorted(str(factories.make_child(session, family_name="Vandermolen").id) for _ in range(3))
    first = _search(client, headers, "Patient", family="Vandermolen", _count=2)
    assert first["total"] == 3
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert set(links) == {"self", "next"}
    second = client.get(links["next"], headers=headers(*HV))
    following = valid(second)
    assert [link["relation"] for link in following["link"]] == ["self"]
    seen = [p["id"] for p in entries(first)] + [p["id"] for p in entries(following)]
    assert seen == ids


def test_a_search_that_finds_no_one_is_an_empty_searchset(
    client: TestClient, headers: Headers
) -> None:
    bundle = _search(client, headers, "Patient", family="Nobodyhasthisname")
    assert (bundle["total"], bundle["entry"]) == (0, [])


def test_a_search_whose_every_match_is_denied_is_403(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    session.execute(update(Person).where(Person.id == child.id).values(restricted=True))
    session.commit()
    response = client.get(
        "/fhir/R4/Patient", params={"identifier": f"{NHS}|{child.nhs_number}"}, headers=headers(*HV)
    )
    assert response.status_code == 403
    assert valid(response)["issue"][0]["details"]["coding"][0]["code"] == "processing_restricted"
    assert event(session, response).subject_id == child.id


def test_a_search_naming_a_patient_never_held_is_an_empty_searchset(
    client: TestClient, headers: Headers
) -> None:
    bundle = _search(
        client, headers, "Encounter", patient="Patient/00000000-0000-4000-8000-000000000001"
    )
    assert bundle["total"] == 0


def _contact(client: TestClient, headers: Headers, person: Person, **body: Any) -> str:
    response = client.post(
        f"/v1/people/{person.id}/contacts",
        json={"staff_role": "health_visitor", **body},
        headers=headers(*HV),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_encounters_are_a_patients_contacts_found_by_date(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    now = datetime.now(UTC)
    recent = _contact(client, headers, child, kind="home_visit", occurred_at=now.isoformat())
    _contact(
        client,
        headers,
        child,
        kind="call",
        occurred_at=(now - timedelta(days=40)).isoformat(),
    )
    since = (now - timedelta(days=7)).date().isoformat()
    bundle = _search(client, headers, "Encounter", patient=f"Patient/{child.id}", date=f"ge{since}")
    [encounter] = entries(bundle)
    assert encounter["id"] == recent
    assert encounter["subject"] == {"reference": f"Patient/{child.id}"}
    assert encounter["meta"]["profile"] == [
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Encounter"
    ]
    assert encounter["serviceProvider"]["identifier"] == {
        "system": "https://fhir.nhs.uk/Id/ods-organization-code",
        "value": "RV3",
    }


def test_an_encounter_never_carries_the_contacts_notes(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    _contact(
        client,
        headers,
        child,
        kind="home_visit",
        occurred_at=datetime.now(UTC).isoformat(),
        notes="Mother tired; discussed sleep",
    )
    bundle = _search(client, headers, "Encounter", patient=str(child.id))
    assert "discussed sleep" not in str(bundle)


def test_a_development_review_is_a_coded_observation_linked_to_its_encounter(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    contact_id = _contact(
        client,
        headers,
        child,
        kind="development_review",
        occurred_at=datetime.now(UTC).isoformat(),
        review="1_year",
        outcome="support_needed",
    )
    [observation] = entries(_search(client, headers, "Observation", patient=str(child.id)))
    assert observation["encounter"] == {"reference": f"Encounter/{contact_id}"}
    assert observation["code"]["coding"][-1] == {
        "system": "https://ieys.camden.gov.uk/fhir/CodeSystem/development-review",
        "code": "1_year",
        "display": "1 year review",
    }
    assert observation["valueCodeableConcept"]["coding"][0]["code"] == "support_needed"


def test_the_carers_of_a_child_are_its_related_persons(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    family = session.get(Family, child.family_id)
    carer = factories.make_carer(session, family=family, given_name="Grace")
    factories.make_person(session, family=family, kind="household_member")
    [related] = entries(_search(client, headers, "RelatedPerson", patient=str(child.id)))
    assert related["identifier"][0]["value"] == str(carer.id)
    assert related["patient"] == {"reference": f"Patient/{child.id}"}
    assert related["relationship"][0]["coding"][0]["code"] == "PRN"


def test_a_nursery_practitioner_reaches_no_carer_of_a_child_at_their_nursery(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    nursery = factories.nursery_ids()[0]
    factories.enrol(session, child, nursery)
    factories.make_carer(session, family=session.get(Family, child.family_id))
    sent = headers("nursery_practitioner", "nursery_care", nursery_id=nursery)
    response = client.get(f"/fhir/R4/RelatedPerson?patient={child.id}", headers=sent)
    assert response.status_code == 403
    assert valid(response)["issue"][0]["details"]["coding"][0]["code"] == "out_of_scope"
    assert client.get(f"/fhir/R4/Patient/{child.id}", headers=sent).status_code == 200


def test_a_withdrawn_consent_is_an_inactive_consent(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_consent(session, child, withdrawn=True)
    response = client.get(
        f"/fhir/R4/Consent?patient={child.id}", headers=headers("family_worker", "early_help")
    )
    assert response.status_code == 200, response.text
    [consent] = entries(valid(response))
    assert consent["status"] == "inactive"
    assert consent["provision"]["period"]["end"]


def test_an_active_child_protection_plan_is_a_flag_under_safeguarding(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    plan = factories.make_plan(session, child)
    factories.make_safeguarding_record(session, child, kind="risk_issue")
    factories.make_plan(session, child, start=factories.today() - timedelta(days=90),
                        end=factories.today() - timedelta(days=30))  # fmt: skip
    session.commit()
    sent = headers("health_visitor", "safeguarding", justification=JUSTIFICATION)
    response = client.get(f"/fhir/R4/Flag?patient={child.id}", headers=sent)
    assert response.status_code == 200, response.text
    [flag] = entries(valid(response))
    assert (flag["id"], flag["status"]) == (str(plan.id), "active")
    assert flag["code"]["coding"][0]["code"] == "child_protection_plan"
    assert event(session, response).review_required


def test_a_person_returned_by_a_search_sees_it_in_their_access_log(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session, family_name="Przybylski")
    factories.make_child(session, family_name="Przybylski")
    client.get("/fhir/R4/Patient?family=Przybylski", headers=headers(*HV))
    log = client.get(
        f"/v1/people/{child.id}/access-log",
        headers=headers("data_protection_officer", "subject_rights"),
    )
    assert log.status_code == 200, log.text
    reads = [e for e in log.json()["items"] if e["resource"] == "person"]
    assert [(e["purpose"], e["allowed"]) for e in reads] == [("health_care", True)]
