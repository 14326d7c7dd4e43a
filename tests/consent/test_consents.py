"""Recording, withdrawing and listing consents (POST /v1/consents, GET .../consents)."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.consent.models import Consent
from app.people.models import Family, Person
from tests import factories

Headers = Callable[..., dict[str, str]]
FW = ("family_worker", "early_help")
CAMHS = ("camhs_clinician", "health_care")
PCPS = "pcps_information_sharing_and_video_recording"


def consent_body(subject: Person, given_by: Person, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject_id": str(subject.id),
        "given_by_id": str(given_by.id),
        "type": "early_help_support",
        "categories": ["identity", "contact", "health"],
        "method": "signed_form",
        "evidence_ref": "EH-FORM-0001",
    }
    body.update(overrides)
    return body


def child_and_carer(session: Session, *, responsibility: bool = True) -> tuple[Person, Person]:
    child = factories.make_child(session)
    family = session.get(Family, child.family_id)
    carer = factories.make_carer(session, family=family, parental_responsibility=responsibility)
    return child, carer


def count_consents(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Consent)).scalar_one())


def event(session: Session, decision_id: str) -> AuditEvent:
    return session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(decision_id))
    ).scalar_one()


def test_a_carer_with_parental_responsibility_records_a_consent_for_a_child(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child, carer = child_and_carer(session)
    response = client.post("/v1/consents", json=consent_body(child, carer), headers=headers(*FW))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["subject_id"] == str(child.id)
    assert body["given_by_id"] == str(carer.id)
    assert body["type"] == "early_help_support"
    assert body["categories"] == ["identity", "contact", "health"]
    assert body["method"] == "signed_form"
    assert body["evidence_ref"] == "EH-FORM-0001"
    assert body["active"] is True
    assert body["withdrawn_at"] is None
    assert body["covers_also"] == []


def test_recording_a_consent_needs_no_consent_and_rests_on_a_legal_obligation(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child, carer = child_and_carer(session)
    response = client.post("/v1/consents", json=consent_body(child, carer), headers=headers(*FW))
    assert response.status_code == 201
    assert response.headers["X-Lawful-Basis"] == "art6-1-c"
    recorded = event(session, response.headers["X-Decision-Id"])
    assert (recorded.action, recorded.resource, recorded.subject_id) == (
        "record_consent",
        "consent",
        child.id,
    )


def test_a_carer_without_parental_responsibility_cannot_consent_for_a_child(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child, carer = child_and_carer(session, responsibility=False)
    response = client.post("/v1/consents", json=consent_body(child, carer), headers=headers(*FW))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "given_by_id"
    assert response.json()["detail"].startswith("given_by_id: ")
    assert count_consents(session) == 0


def test_a_carer_of_another_household_cannot_consent_for_a_child(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    stranger = factories.make_carer(session)
    response = client.post("/v1/consents", json=consent_body(child, stranger), headers=headers(*FW))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "given_by_id"


def test_an_older_sibling_cannot_consent_for_a_child(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    sibling = factories.make_person(
        session, family=session.get(Family, child.family_id), kind="household_member"
    )
    response = client.post("/v1/consents", json=consent_body(child, sibling), headers=headers(*FW))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "given_by_id"


def test_an_adult_gives_their_own_consent(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    response = client.post("/v1/consents", json=consent_body(carer, carer), headers=headers(*FW))
    assert response.status_code == 201, response.text


def test_no_one_else_consents_for_an_adult(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    partner = factories.make_carer(session, family=session.get(Family, carer.family_id))
    response = client.post("/v1/consents", json=consent_body(carer, partner), headers=headers(*FW))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "given_by_id"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"categories": []}, "categories"),
        ({"categories": ["identity", "gossip"]}, "categories.1"),
        ({"type": "newsletter"}, "type"),
        ({"method": "telepathy"}, "method"),
        ({"recipient": "ipinfa"}, "recipient"),
        ({"type": PCPS}, "recipient"),
        ({"type": PCPS, "recipient": "gp_practice"}, "recipient"),
        ({"type": PCPS, "recipient": "nobody_we_know"}, "recipient"),
        ({"given_by_id": "00000000-0000-4000-8000-000000000000"}, "given_by_id"),
        ({"subject_id": "00000000-0000-4000-8000-000000000000"}, "subject_id"),
    ],
)
def test_an_invalid_consent_is_422_naming_the_field_and_records_nothing(
    client: TestClient,
    session: Session,
    headers: Headers,
    overrides: dict[str, Any],
    field: str,
) -> None:
    child, carer = child_and_carer(session)
    response = client.post(
        "/v1/consents", json=consent_body(child, carer, **overrides), headers=headers(*CAMHS)
    )
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert count_consents(session) == 0


def test_the_pcps_form_is_recorded_naming_ipinfa(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child, carer = child_and_carer(session)
    body = consent_body(child, carer, type=PCPS, recipient="ipinfa")
    response = client.post("/v1/consents", json=body, headers=headers(*CAMHS))
    assert response.status_code == 201, response.text
    assert response.json()["recipient"] == "ipinfa"


def test_recording_a_consent_under_a_purpose_that_cannot_reach_it_is_refused(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child, carer = child_and_carer(session)
    response = client.post(
        "/v1/consents",
        json=consent_body(child, carer),
        headers=headers("childrens_centre_worker", "service_invitation"),
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "purpose_not_permitted"
    assert count_consents(session) == 0


def test_one_household_form_covers_several_children(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child, carer = child_and_carer(session)
    family = session.get(Family, child.family_id)
    twin = factories.make_child(session, family=family)
    body = consent_body(child, carer, also_covers=[str(twin.id)])
    response = client.post("/v1/consents", json=body, headers=headers(*FW))
    assert response.status_code == 201, response.text
    (twins_consent_id,) = response.json()["covers_also"]
    twins = session.get(Consent, UUID(twins_consent_id))
    assert twins is not None
    assert (twins.subject_id, twins.given_by_id, twins.evidence_ref) == (
        twin.id,
        carer.id,
        "EH-FORM-0001",
    )
    assert event(session, response.headers["X-Decision-Id"]).subject_id == child.id


def test_each_child_a_form_covers_is_decided_and_audited_on_its_own(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child, carer = child_and_carer(session)
    twin = factories.make_child(session, family=session.get(Family, child.family_id))
    body = consent_body(child, carer, also_covers=[str(twin.id)])
    client.post("/v1/consents", json=body, headers=headers(*FW))
    audited = session.execute(
        select(AuditEvent.subject_id).where(AuditEvent.action == "record_consent")
    ).scalars()
    assert set(audited) == {child.id, twin.id}


def test_a_form_naming_a_child_of_another_household_records_nothing(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child, carer = child_and_carer(session)
    elsewhere = factories.make_child(session)
    body = consent_body(child, carer, also_covers=[str(elsewhere.id)])
    response = client.post("/v1/consents", json=body, headers=headers(*FW))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "also_covers"
    assert count_consents(session) == 0


def test_a_form_is_refused_whole_when_one_child_it_covers_is_restricted(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child, carer = child_and_carer(session)
    twin = factories.make_child(session, family=session.get(Family, child.family_id))
    session.execute(Person.__table__.update().where(Person.id == twin.id).values(restricted=True))
    session.commit()
    body = consent_body(child, carer, also_covers=[str(twin.id)])
    response = client.post("/v1/consents", json=body, headers=headers(*FW))
    assert response.status_code == 403
    assert response.json()["reason"] == "processing_restricted"
    assert count_consents(session) == 0


def test_a_retried_consent_with_the_same_idempotency_key_records_one_consent(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child, carer = child_and_carer(session)
    h = headers(*FW, Idempotency_Key="consent-1")
    first = client.post("/v1/consents", json=consent_body(child, carer), headers=h)
    second = client.post("/v1/consents", json=consent_body(child, carer), headers=h)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert count_consents(session) == 1


def test_withdrawal_keeps_the_consent_with_when_and_why(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    consent_id = factories.make_consent(session, child)
    response = client.post(
        f"/v1/consents/{consent_id}/withdraw",
        json={"reason": "The family no longer wants support"},
        headers=headers(*FW),
    )
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert response.json()["withdrawal_reason"] == "The family no longer wants support"
    session.expire_all()
    kept = session.get(Consent, consent_id)
    assert kept is not None
    assert kept.withdrawn_at is not None
    assert kept.withdrawal_reason == "The family no longer wants support"


def test_withdrawing_needs_no_consent_and_rests_on_a_legal_obligation(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    consent_id = factories.make_consent(session, child)
    response = client.post(f"/v1/consents/{consent_id}/withdraw", json={}, headers=headers(*FW))
    assert response.headers["X-Lawful-Basis"] == "art6-1-c"
    assert event(session, response.headers["X-Decision-Id"]).action == "record_consent"


def test_the_consents_list_shows_active_and_withdrawn_consents(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    withdrawn = factories.make_consent(session, child, withdrawn=True)
    active = factories.make_consent(session, child, categories=("identity", "contact", "services"))
    response = client.get(f"/v1/people/{child.id}/consents", headers=headers(*CAMHS))
    assert response.status_code == 200, response.text
    listed = {item["id"]: item for item in response.json()["items"]}
    assert set(listed) == {str(withdrawn), str(active)}
    assert listed[str(withdrawn)]["active"] is False
    assert listed[str(withdrawn)]["withdrawn_at"] is not None
    assert listed[str(withdrawn)]["withdrawal_reason"] == "Changed their mind"
    assert listed[str(active)]["active"] is True


def test_the_consents_list_is_paginated(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    made = {str(factories.make_consent(session, child)) for _ in range(3)}
    url = f"/v1/people/{child.id}/consents"
    first = client.get(url, params={"limit": 2}, headers=headers(*CAMHS)).json()
    assert len(first["items"]) == 2
    rest = client.get(
        url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers(*CAMHS)
    ).json()
    assert rest["next_cursor"] is None
    assert {item["id"] for item in first["items"] + rest["items"]} == made


def test_withdrawing_a_withdrawn_consent_is_409(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    consent_id = factories.make_consent(session, child, withdrawn=True)
    response = client.post(f"/v1/consents/{consent_id}/withdraw", json={}, headers=headers(*FW))
    assert response.status_code == 409


def test_withdrawing_an_unknown_consent_is_404(client: TestClient, headers: Headers) -> None:
    response = client.post(
        "/v1/consents/00000000-0000-4000-8000-000000000000/withdraw",
        json={},
        headers=headers(*FW),
    )
    assert response.status_code == 404
