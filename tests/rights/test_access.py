"""Access (Art 15) walked as a case: everything held about the subject and their
children, and nothing of anyone else."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.people.models import Family, Person
from app.rights.models import SubjectRequestPackage
from tests import factories
from tests.rights.cases import OFFICER, Headers, decide, open_case

HV = ("health_visitor", "health_care")
JUSTIFIED = "Bruising seen at the home visit; referring to social care today"


def _household(client: TestClient, session: Session, headers: Headers) -> dict[str, Person]:
    """A carer with parental responsibility, their child with a record, another adult."""
    family = factories.make_family(session)
    carer = factories.make_carer(session, family=family, given_name="Adaeze")
    other = factories.make_carer(session, family=family, given_name="Tobenna")
    child = factories.make_child(session, family=family, given_name="Chidi")
    factories.make_consent(
        session, child, given_by=other, categories=("identity", "contact", "services")
    )
    factories.make_consent(session, carer, categories=("identity", "services"))
    factories.make_safeguarding_record(session, child, summary="Referral from the GP practice")
    session.commit()
    put = client.put(
        f"/v1/people/{child.id}/special-category",
        json={"ethnicity": "N", "health": {"allergies": "Egg allergy"}},
        headers=headers(*HV),
    )
    assert put.status_code == 200, put.text
    read = client.get(f"/v1/people/{child.id}", headers=headers(*HV))
    assert read.status_code == 200
    share = client.post(
        "/v1/shares",
        json={"subject_id": str(child.id), "recipient": "police", "categories": ["identity"]},
        headers=headers("health_visitor", "safeguarding", justification=JUSTIFIED),
    )
    assert share.status_code == 201, share.text
    return {"carer": carer, "other": other, "child": child}


def _fulfilled_access(
    client: TestClient, headers: Headers, subject: Person, requester: Person, **kw: Any
) -> dict[str, Any]:
    case = open_case(client, headers, subject.id, requester_id=requester.id)
    decided = decide(client, headers, case["id"], **kw)
    assert decided.status_code == 200, decided.text
    assert decided.json()["package_available"] is True
    exported = client.get(f"/v1/subject-requests/{case['id']}/export", headers=headers(*OFFICER))
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("application/json")
    assert "X-Decision-Id" in exported.headers
    package: dict[str, Any] = exported.json()
    return package


def test_a_parents_access_request_returns_their_data_and_their_childs_but_no_other_adults(
    client: TestClient, session: Session, headers: Headers
) -> None:
    people = _household(client, session, headers)
    carer, other, child = people["carer"], people["other"], people["child"]
    package = _fulfilled_access(client, headers, carer, carer)
    records = {r["relationship"]: r for r in package["people"]}
    assert records["subject"]["person"]["id"] == str(carer.id)
    assert records["child"]["person"]["given_name"] == "Chidi"
    assert len(package["people"]) == 2
    text = str(package)
    assert "Tobenna" not in text
    assert str(other.id) not in text, "another adult's id is their data"
    kid = records["child"]
    assert kid["special_category"]["health"]["allergies"] == "Egg allergy"
    assert kid["safeguarding"][0]["summary"] == "Referral from the GP practice"
    assert kid["consents"][0]["given_by_id"] is None
    assert kid["retention"]["destroy_on"] == str(child.destroy_on)
    assert kid["retention"]["rule"] == "fifth_birthday"
    assert {"identity", "health", "ethnicity", "safeguarding", "services"} <= set(kid["categories"])
    assert [d["recipient"] for d in kid["disclosures"]] == ["police"]
    assert kid["disclosures"][0]["bases"]
    log = kid["access_log"]
    assert {(e["actor_role"], e["purpose"]) for e in log} >= {
        ("health_visitor", "health_care"),
        ("health_visitor", "safeguarding"),
    }
    assert all("actor_sub" not in e for e in log), "staff appear by role and organisation"
    assert "health_visitor-1" not in text
    assert ("health_visitor", "RV3", "special_category") in {
        (s["actor_role"], s["actor_org"], s["resource"]) for s in kid["sources"]
    }
    purposes = {p["purpose"]: p for p in package["processing"]}
    assert purposes["health_care"]["bases"] == ["art6-1-e", "art9-2-h"]
    assert purposes["early_help"]["consent_type"] == "early_help_support"
    recipients = {r["code"]: r["within_service"] for r in package["recipients"]}
    assert recipients["RV3"] is True
    assert recipients["police"] is False
    assert records["subject"]["consents"][0]["given_by_id"] == str(carer.id)


def test_a_childs_access_request_by_a_parent_is_about_the_child_only(
    client: TestClient, session: Session, headers: Headers
) -> None:
    people = _household(client, session, headers)
    package = _fulfilled_access(client, headers, people["child"], people["carer"])
    assert [r["relationship"] for r in package["people"]] == ["subject"]
    assert "Adaeze" not in str(package)


def test_an_exemption_withholds_a_category_and_says_why(
    client: TestClient, session: Session, headers: Headers
) -> None:
    people = _household(client, session, headers)
    package = _fulfilled_access(
        client,
        headers,
        people["child"],
        people["carer"],
        outcome="partially_fulfilled",
        reason="Safeguarding information withheld: DPA 2018 Sch 3 para 7 (serious harm)",
        exempt=["safeguarding"],
    )
    assert package["people"][0]["safeguarding"] == []
    assert package["withheld_categories"] == ["safeguarding"]
    assert "serious harm" in package["withheld_reason"]
    assert "GP practice" not in str(package)


def test_the_stored_package_is_encrypted_under_the_households_key(
    client: TestClient, session: Session, headers: Headers
) -> None:
    people = _household(client, session, headers)
    _fulfilled_access(client, headers, people["carer"], people["carer"])
    stored = session.execute(select(SubjectRequestPackage.body)).scalars().all()
    assert stored
    assert all(body.startswith("v1.") and "Chidi" not in body for body in stored)


def test_there_is_no_package_before_the_request_is_fulfilled_or_when_refused(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    case = open_case(client, headers, carer.id)
    url = f"/v1/subject-requests/{case['id']}/export"
    assert client.get(url, headers=headers(*OFFICER)).status_code == 409
    decide(client, headers, case["id"], outcome="refused", reason="Manifestly unfounded")
    assert client.get(url, headers=headers(*OFFICER)).status_code == 409


def test_only_the_officer_exports(client: TestClient, session: Session, headers: Headers) -> None:
    carer = factories.make_carer(session)
    case = open_case(client, headers, carer.id)
    decide(client, headers, case["id"])
    response = client.get(
        f"/v1/subject-requests/{case['id']}/export",
        headers=headers("health_visitor", "health_care"),
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "purpose_not_permitted"


def test_an_access_package_is_available_as_a_fhir_bundle_too(
    client: TestClient, session: Session, headers: Headers
) -> None:
    from fhir.resources.R4B.bundle import Bundle

    people = _household(client, session, headers)
    case = open_case(client, headers, people["carer"].id)
    decide(client, headers, case["id"])
    response = client.get(
        f"/v1/subject-requests/{case['id']}/export",
        headers={**headers(*OFFICER), "Accept": "application/fhir+json"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    bundle = Bundle.model_validate(response.json())
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry or []]
    assert kinds.count("Patient") == 2
    assert "RelatedPerson" in kinds
    assert "Flag" in kinds
    assert session.get(Family, people["carer"].family_id) is not None
