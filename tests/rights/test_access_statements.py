"""The access package states what Art 15(1) and (2) require beside the data: the rights,
the right to complain to the ICO, where data not collected from the subject came from,
that no automated decision-making is used, and the safeguard of any transfer outside
the UK; in the JSON package and, from the same statements, in the FHIR Bundle."""

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy.orm import Session

from app.people.models import Person
from tests import factories
from tests.documents import files
from tests.rights.cases import OFFICER, Headers, decide, open_case

WHY = "Bruising seen at the home visit; referring to social care today"
FHIR = "application/fhir+json"


def _child(client: TestClient, session: Session, headers: Headers) -> Person:
    """A child with a safeguarding record told by the police, a document from the GP
    practice, and data shared with `recipient`s under safeguarding."""
    child = factories.make_child(session)
    session.commit()
    h = headers("health_visitor", "safeguarding", justification=WHY)
    recorded = client.post(
        f"/v1/people/{child.id}/safeguarding",
        json={
            "kind": "risk_issue",
            "summary": "Domestic abuse incident at the home",
            "start_date": str(factories.today() - timedelta(days=3)),
            "source": "Metropolitan Police (MASH notification)",
        },
        headers=h,
    )
    assert recorded.status_code == 201, recorded.text
    uploaded = client.post(
        f"/v1/people/{child.id}/documents",
        data={"kind": "report", "category": "health", "source": "GP practice"},
        files={"file": ("report.pdf", files.PDF, "application/pdf")},
        headers=h,
    )
    assert uploaded.status_code == 201, uploaded.text
    return child


def _share(client: TestClient, headers: Headers, child: Person, recipient: str) -> None:
    shared = client.post(
        "/v1/shares",
        json={"subject_id": str(child.id), "recipient": recipient, "categories": ["identity"]},
        headers=headers("health_visitor", "safeguarding", justification=WHY),
    )
    assert shared.status_code == 201, shared.text


def _access(
    client: TestClient, headers: Headers, child: Person, accept: str = "application/json", **kw: Any
) -> Any:
    case = open_case(client, headers, child.id)
    decided = decide(client, headers, case["id"], **kw)
    assert decided.status_code == 200, decided.text
    exported = client.get(
        f"/v1/subject-requests/{case['id']}/export", headers={**headers(*OFFICER), "Accept": accept}
    )
    assert exported.status_code == 200, exported.text
    return exported.json()


@pytest.fixture
def statements(client: TestClient, session: Session, headers: Headers) -> dict[str, Any]:
    child = _child(client, session, headers)
    _share(client, headers, child, "police")
    found: dict[str, Any] = _access(client, headers, child)["statements"]
    return found


def test_the_access_package_states_the_rights_to_rectification_erasure_restriction_and_objection(
    statements: dict[str, Any],
) -> None:
    rights = {r["right"]: r for r in statements["rights"]}
    assert {"rectification", "erasure", "restriction", "objection"} <= set(rights)
    assert rights["rectification"]["article"] == "UK GDPR Art 16"
    assert rights["objection"]["article"] == "UK GDPR Art 21"
    assert rights["erasure"]["request_type"] == "erasure"
    assert "rectify, erase or restrict processing of your data" in statements["rights_notice"]


def test_the_access_package_states_the_right_to_complain_to_the_information_commissioner(
    statements: dict[str, Any],
) -> None:
    complaint = statements["complaint"]
    assert complaint["authority"] == "Information Commissioner's Office"
    assert complaint["website"] == "ico.org.uk"
    assert complaint["telephone"] == "0303 123 1113"
    assert "complain to the Information Commissioner's Office" in complaint["notice"]


def test_the_access_package_states_that_no_automated_decision_making_is_used(
    statements: dict[str, Any],
) -> None:
    automated = statements["automated_decision_making"]
    assert automated["used"] is False
    assert automated["notice"] == "We are not using Automated Decision Making for this service."


def test_the_access_package_lists_where_data_not_collected_from_the_subject_came_from(
    statements: dict[str, Any],
) -> None:
    sources = statements["sources"]
    assert sources["safeguarding"] == ["Metropolitan Police (MASH notification)"]
    assert sources["documents"] == ["GP practice"]
    assert "other organisations (e.g. GP, school nurse, Police)" in sources["notice"]


def test_a_source_of_a_withheld_category_is_not_listed(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = _child(client, session, headers)
    package = _access(
        client, headers, child, outcome="partially_fulfilled", exempt=["safeguarding"]
    )
    assert package["statements"]["sources"]["safeguarding"] == []
    assert "MASH" not in str(package)


def test_a_subject_whose_data_went_only_to_uk_recipients_is_told_nothing_was_transferred(
    statements: dict[str, Any],
) -> None:
    transfers = statements["transfers"]
    assert transfers["recipients"] == []
    assert transfers["statement"] == "None of the data in this package was sent outside the UK."


def test_a_subject_whose_data_was_disclosed_to_ipinfa_sees_the_transfer_and_its_safeguard(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = _child(client, session, headers)
    _share(client, headers, child, "police")
    _share(client, headers, child, "ipinfa")
    [transfer] = _access(client, headers, child)["statements"]["transfers"]["recipients"]
    assert transfer["recipient"] == "ipinfa"
    assert transfer["name"] == "Instituto Psicologico De Infancia Y Familia (IPINFA)"
    assert transfer["safeguard"] == "to be confirmed by the council"
    assert transfer["country"] == "to be confirmed by the council"
    assert transfer["categories"] == ["identity"]


def test_a_portability_package_carries_no_statements(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_consent(session, child, categories=("identity",))
    session.commit()
    case = open_case(client, headers, child.id, type="portability")
    assert decide(client, headers, case["id"]).status_code == 200
    exported = client.get(f"/v1/subject-requests/{case['id']}/export", headers=headers(*OFFICER))
    assert exported.json()["statements"] is None


def test_the_fhir_export_of_an_access_package_states_the_same_as_a_composition_that_validates(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = _child(client, session, headers)
    _share(client, headers, child, "ipinfa")
    document = _access(client, headers, child, FHIR)
    bundle = Bundle.model_validate(document)
    [composition] = [
        entry.resource
        for entry in bundle.entry or []
        if entry.resource.get_resource_type() == "Composition"
    ]
    assert composition.subject.reference == f"urn:uuid:{child.id}"
    sections = {s.code.coding[0].code: s.text.div for s in composition.section}
    assert set(sections) == {
        "rights",
        "complaint",
        "sources",
        "automated-decision-making",
        "transfers",
    }
    assert "UK GDPR Art 21" in sections["rights"]
    assert "ico.org.uk" in sections["complaint"]
    assert "0303 123 1113" in sections["complaint"]
    assert "Metropolitan Police (MASH notification)" in sections["sources"]
    assert "We are not using Automated Decision Making" in sections["automated-decision-making"]
    assert "to be confirmed by the council" in sections["transfers"]
