"""Restriction (Art 18) and objection (Art 21) walked as cases: states the engine honours
(DOMAIN.md steps 5 and 6) until the officer lifts them, and the lifting is recorded."""

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.people.models import Family
from tests import factories
from tests.rights.cases import OFFICER, Headers, decide, open_case

JUSTIFIED = ("health_visitor", "safeguarding")
WHY = "Bruising seen at the home visit; referring to social care today"


def _lift(client: TestClient, headers: Headers, case_id: str) -> int:
    response = client.post(
        f"/v1/subject-requests/{case_id}/lift",
        json={"reason": "Accuracy confirmed; the subject was told before lifting"},
        headers=headers(*OFFICER),
    )
    return response.status_code


def test_a_fulfilled_restriction_stops_all_but_subject_rights_legal_claims_and_safeguarding(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    url = f"/v1/people/{carer.id}"
    case = open_case(client, headers, carer.id, type="restriction", details="My address is wrong")
    assert decide(client, headers, case["id"], reason="Accuracy contested").status_code == 200
    denied = client.get(url, headers=headers("health_visitor", "health_care"))
    assert denied.status_code == 403
    assert denied.json()["reason"] == "processing_restricted"
    assert client.get(url, headers=headers(*JUSTIFIED, justification=WHY)).status_code == 200
    assert client.get(url, headers=headers(*OFFICER)).status_code == 200
    legal = client.get(url, headers=headers("data_protection_officer", "legal_claims"))
    assert legal.status_code == 200
    assert _lift(client, headers, case["id"]) == 200
    again = client.get(url, headers=headers("health_visitor", "health_care"))
    assert again.status_code == 200
    read = client.get(f"/v1/subject-requests/{case['id']}", headers=headers(*OFFICER)).json()
    assert read["lifted_at"] is not None
    assert [h["kind"] for h in read["history"]][-1] == "lifted"
    assert _lift(client, headers, case["id"]) == 409


def test_an_upheld_objection_stops_invitations_and_outreach_but_not_care(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    url = f"/v1/people/{child.id}"
    carer = factories.make_carer(session, family=session.get(Family, child.family_id))
    case = open_case(client, headers, child.id, type="objection", requester_id=carer.id)
    assert decide(client, headers, case["id"], reason="No compelling grounds").status_code == 200
    for purpose in ("service_invitation", "needs_assessment"):
        denied = client.get(url, headers=headers("childrens_centre_worker", purpose))
        assert denied.status_code == 403, purpose
        assert denied.json()["reason"] == "objection_upheld"
    assert client.get(url, headers=headers("health_visitor", "health_care")).status_code == 200
    assert client.get(url, headers=headers(*JUSTIFIED, justification=WHY)).status_code == 200
    assert _lift(client, headers, case["id"]) == 200
    invited = client.get(url, headers=headers("childrens_centre_worker", "service_invitation"))
    assert invited.status_code == 200


def test_a_refused_restriction_or_objection_changes_nothing_and_cannot_be_lifted(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    for kind in ("restriction", "objection"):
        case = open_case(client, headers, carer.id, type=kind)
        refused = decide(
            client, headers, case["id"], outcome="refused", reason="Compelling grounds"
        )
        assert refused.status_code == 200
        assert _lift(client, headers, case["id"]) == 409
    ok = client.get(
        f"/v1/people/{carer.id}", headers=headers("childrens_centre_worker", "service_invitation")
    )
    assert ok.status_code == 200


def test_a_restriction_is_fulfilled_or_refused_never_partly(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    case = open_case(client, headers, carer.id, type="restriction")
    partly = decide(client, headers, case["id"], outcome="partially_fulfilled", exempt=["contact"])
    assert partly.status_code == 422


def test_only_a_restriction_or_objection_is_lifted(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    case = open_case(client, headers, carer.id)
    decide(client, headers, case["id"])
    assert _lift(client, headers, case["id"]) == 409
