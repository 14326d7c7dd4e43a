"""The access and portability packages carry education, relationships and documents,
as JSON and as a FHIR R4 Bundle the FHIR models accept."""

from typing import Any

from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy.orm import Session

from app.people.models import Family, Person
from tests import factories
from tests.documents import files
from tests.rights.cases import OFFICER, Headers, decide, open_case

WHY = "Concerns raised at the strategy meeting this morning"
FHIR = "application/fhir+json"
EDUCATION = {
    "attendance_percent": 93.0,
    "exclusions": [{"from": "2026-09-01", "to": "2026-09-02", "reason": "Biting"}],
    "behaviour": "no_concerns",
    "attainment": "expected",
}


def _child_with_records(
    client: TestClient, session: Session, headers: Headers
) -> tuple[Person, Person, str]:
    family = factories.make_family(session)
    carer = factories.make_carer(session, family=family)
    child = factories.make_child(session, family=family)
    factories.enrol(session, child, factories.nursery_ids()[0])
    factories.make_consent(
        session, child, given_by=carer, categories=("identity", "education", "household")
    )
    h = headers("health_visitor", "safeguarding", justification=WHY)
    put = client.put(f"/v1/people/{child.id}/education", json=EDUCATION, headers=h)
    assert put.status_code == 200, put.text
    for body in (
        {"kind": "parent", "to_person_id": str(carer.id), "in_household": True},
        {"kind": "grandparent", "to_name": "Hortensia Vell", "in_household": False},
    ):
        created = client.post(f"/v1/people/{child.id}/relationships", json=body, headers=h)
        assert created.status_code == 201, created.text
    uploaded = client.post(
        f"/v1/people/{child.id}/documents",
        data={"kind": "report", "category": "health", "source": "GP practice"},
        files={"file": ("report.pdf", files.PDF, "application/pdf")},
        headers=h,
    )
    assert uploaded.status_code == 201, uploaded.text
    return carer, child, str(uploaded.json()["id"])


def _export(client: TestClient, headers: Headers, case_id: str, accept: str) -> Any:
    response = client.get(
        f"/v1/subject-requests/{case_id}/export", headers={**headers(*OFFICER), "Accept": accept}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_the_access_package_lists_education_relationships_and_documents(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer, _, document_id = _child_with_records(client, session, headers)
    case = open_case(client, headers, carer.id)
    assert decide(client, headers, case["id"]).status_code == 200
    package = _export(client, headers, case["id"], "application/json")
    kid = next(r for r in package["people"] if r["relationship"] == "child")
    assert kid["education"] == EDUCATION
    assert {"education", "household", "health"} <= set(kid["categories"])
    assert [d["id"] for d in kid["documents"]] == [document_id]
    assert kid["documents"][0]["category"] == "health"
    kinds = {r["kind"]: r for r in kid["relationships"]}
    assert kinds["parent"]["to_person_id"] == str(carer.id), "the requester is named"
    assert kinds["grandparent"]["to_name"] is None, "someone else is not"
    assert "Hortensia" not in str(package)
    bundle = Bundle.model_validate(_export(client, headers, case["id"], FHIR))
    resources = [entry.resource for entry in bundle.entry or []]
    types = [r.get_resource_type() for r in resources]
    assert "DocumentReference" in types
    education = [
        r
        for r in resources
        if r.get_resource_type() == "Observation"
        and any(c.code == "education" for cat in r.category or [] for c in cat.coding or [])
    ]
    assert {o.code.coding[0].code for o in education} == {
        "attendance_percent",
        "behaviour",
        "attainment",
        "exclusion:0",
    }


def test_portability_exports_the_education_and_relationships_processed_on_consent(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer, child, _ = _child_with_records(client, session, headers)
    case = open_case(client, headers, child.id, type="portability", requester_id=carer.id)
    assert decide(client, headers, case["id"]).status_code == 200
    package = _export(client, headers, case["id"], "application/json")
    [record] = package["people"]
    assert record["education"]["attainment"] == "expected"
    assert len(record["relationships"]) == 2
    assert record["documents"] == [], "the health document is not processed on consent"
    bundle = Bundle.model_validate(_export(client, headers, case["id"], FHIR))
    types = [entry.resource.get_resource_type() for entry in bundle.entry or []]
    assert types.count("RelatedPerson") >= 2
    assert session.get(Family, child.family_id) is not None
