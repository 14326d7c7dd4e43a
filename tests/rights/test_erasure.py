"""Erasure (Art 17) walked as a case: real deletion, 410 afterwards, the household's data
key destroyed with its last member, Art 17(3)(b) keeping, and an intact audit chain."""

from uuid import UUID

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.consent.models import Consent
from app.contacts.models import Contact
from app.people.models import (
    CircumstancesRecord,
    Family,
    FamilyKey,
    Person,
    SpecialCategoryRecord,
)
from app.retention.models import DestructionLog
from app.rights.models import SubjectRequest
from app.safeguarding.models import SafeguardingRecord
from tests import factories
from tests.rights.cases import OFFICER, Headers, decide, open_case

HV = ("health_visitor", "health_care")


def _count(session: Session, model: type, **where: object) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return int(session.execute(query).scalar_one())


def _records(client: TestClient, session: Session, headers: Headers, person: Person) -> None:
    client.put(
        f"/v1/people/{person.id}/special-category",
        json={"health": {"wellbeing": "Low mood"}},
        headers=headers(*HV),
    )
    client.put(
        f"/v1/people/{person.id}/circumstances",
        json={"work_status": "unemployed"},
        headers=headers("health_visitor", "needs_assessment"),
    )
    client.post(
        f"/v1/people/{person.id}/contacts",
        json={
            "kind": "call",
            "occurred_at": "2026-10-01T10:00:00+00:00",
            "staff_role": "health_visitor",
        },
        headers=headers(*HV),
    )
    factories.make_safeguarding_record(session, person)
    session.commit()


def test_an_erased_child_answers_410_and_nothing_of_them_is_left(
    client: TestClient, session: Session, headers: Headers
) -> None:
    family = factories.make_family(session)
    carer = factories.make_carer(session, family=family)
    child = factories.make_child(session, family=family)
    factories.make_consent(session, child, given_by=carer)
    _records(client, session, headers, child)
    child_id, carer_id = child.id, carer.id
    case = open_case(client, headers, child_id, type="erasure", requester_id=carer_id)
    decided = decide(client, headers, case["id"], reason="Consent withdrawn; no other ground")
    assert decided.status_code == 200, decided.text
    gone = client.get(f"/v1/people/{child_id}", headers=headers(*HV))
    assert gone.status_code == 410
    assert "X-Decision-Id" in gone.headers
    for model, column in [
        (Person, "id"),
        (SpecialCategoryRecord, "person_id"),
        (CircumstancesRecord, "person_id"),
        (Contact, "person_id"),
        (SafeguardingRecord, "person_id"),
        (Consent, "subject_id"),
    ]:
        assert _count(session, model, **{column: child_id}) == 0, model.__name__
    log = session.get(DestructionLog, child_id)
    assert log is not None
    assert (log.subject_kind, log.rule) == ("child", "erasure_art17")
    assert client.get(f"/v1/people/{carer_id}", headers=headers(*HV)).status_code == 200
    assert decided.json()["history"][-1]["detail"]["erased"] == [str(child_id)]


def test_a_carers_erasure_ends_the_consents_they_gave_and_the_case_says_which(
    client: TestClient, session: Session, headers: Headers
) -> None:
    family = factories.make_family(session)
    carer = factories.make_carer(session, family=family)
    child = factories.make_child(session, family=family)
    consent_id = factories.make_consent(session, child, given_by=carer)
    child_id = child.id
    case = open_case(client, headers, carer.id, type="erasure")
    decided = decide(client, headers, case["id"], reason="No legal duty to keep the data")
    assert decided.status_code == 200, decided.text
    detail = decided.json()["history"][-1]["detail"]
    assert detail["consents_ended"] == [str(consent_id)]
    assert session.get(Consent, consent_id) is None
    assert client.get(f"/v1/people/{child_id}", headers=headers(*HV)).status_code == 200
    early_help = client.get(
        f"/v1/people/{child_id}", headers=headers("family_worker", "early_help")
    )
    assert early_help.json()["reason"] == "consent_required"


def test_erasing_the_last_member_destroys_the_household_and_its_data_key(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    family_id, carer_id = carer.family_id, carer.id
    case = open_case(client, headers, carer_id, type="erasure", details="Please delete me")
    assert decide(client, headers, case["id"]).status_code == 200
    session.expire_all()
    assert session.get(Family, family_id) is None
    assert session.get(FamilyKey, family_id) is None
    assert session.get(DestructionLog, family_id) is not None
    household = client.get(f"/v1/families/{family_id}", headers=headers(*HV))
    assert household.status_code == 410
    kept = session.get(SubjectRequest, UUID(case["id"]))
    assert kept is not None
    assert kept.details is None, "the requester's words go with them"
    read = client.get(f"/v1/subject-requests/{case['id']}", headers=headers(*OFFICER))
    assert read.status_code == 200
    assert read.json()["outcome"] == "fulfilled"


def test_a_partial_erasure_keeps_what_a_legal_duty_needs_and_erases_the_rest(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_consent(session, child)
    _records(client, session, headers, child)
    carer_id = session.execute(
        select(Person.id).where(Person.family_id == child.family_id, Person.kind == "carer")
    ).scalar_one()
    case = open_case(client, headers, child.id, type="erasure", requester_id=carer_id)
    decided = decide(
        client,
        headers,
        case["id"],
        outcome="partially_fulfilled",
        reason="Safeguarding record kept: Children Act 1989 duty (Art 17(3)(b))",
        exempt=["identity", "safeguarding"],
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["exempt_categories"] == ["identity", "safeguarding"]
    assert _count(session, SafeguardingRecord, person_id=child.id) == 1
    for model, column in [
        (SpecialCategoryRecord, "person_id"),
        (CircumstancesRecord, "person_id"),
        (Contact, "person_id"),
        (Consent, "subject_id"),
    ]:
        assert _count(session, model, **{column: child.id}) == 0, model.__name__
    assert client.get(f"/v1/people/{child.id}", headers=headers(*OFFICER)).status_code == 200
    detail = decided.json()["history"][-1]["detail"]
    assert "consents" in detail["erased_categories"]


def test_a_partial_erasure_must_keep_identity_and_only_public_task_data(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    case = open_case(client, headers, carer.id, type="erasure")
    for exempt in (["safeguarding"], ["identity", "education"], []):
        response = decide(client, headers, case["id"], outcome="partially_fulfilled", exempt=exempt)
        assert response.status_code == 422, exempt
        assert response.json()["errors"][0]["field"] == "exempt_categories"


def test_a_subject_under_a_legal_hold_is_not_erased_whole(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    hold = client.post(
        "/v1/legal-holds",
        json={"subject_id": str(carer.id), "reason": "Pending claim against the council"},
        headers=headers("data_protection_officer", "legal_claims"),
    )
    assert hold.status_code == 201, hold.text
    case = open_case(client, headers, carer.id, type="erasure")
    assert decide(client, headers, case["id"]).status_code == 409
    assert client.get(f"/v1/people/{carer.id}", headers=headers(*HV)).status_code == 200


def test_the_audit_chain_verifies_after_an_erasure(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    carer_id = carer.id
    client.get(f"/v1/people/{carer_id}", headers=headers(*HV))
    client.get("/v1/audit/verify", headers=headers(*OFFICER))
    case = open_case(client, headers, carer_id, type="erasure")
    assert decide(client, headers, case["id"]).status_code == 200
    verified = client.get("/v1/audit/verify", headers=headers(*OFFICER))
    assert verified.json()["ok"] is True, verified.json()
    trail = client.get(f"/v1/audit?subject_id={carer_id}", headers=headers(*OFFICER))
    assert len(trail.json()["items"]) >= 2, "nothing in the trail is deleted"
    assert (
        orjson.loads(
            client.get(f"/v1/subject-requests/{case['id']}", headers=headers(*OFFICER)).content
        )["status"]
        == "closed"
    )


def test_deciding_an_erasure_of_someone_already_gone_is_410(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer_id = factories.make_carer(session).id
    first = open_case(client, headers, carer_id, type="erasure")
    second = open_case(client, headers, carer_id, type="erasure")
    assert decide(client, headers, first["id"]).status_code == 200
    assert decide(client, headers, second["id"]).status_code == 410
    refused = decide(client, headers, second["id"], outcome="refused", reason="Already erased")
    assert refused.status_code == 200
