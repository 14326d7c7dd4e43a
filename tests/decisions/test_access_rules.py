"""The declared access layer, end to end: what a user relies on when a request is
decided (DOMAIN.md "How a decision is made", "Who may record what", "Consent",
"Sharing"): the status, the `reason`, the headers and the audit event."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.people import service as people_service
from app.people.models import Family, Person
from tests import factories

Headers = Callable[..., dict[str, str]]
HV = ("health_visitor", "health_care")
FW = ("family_worker", "early_help")
OFFICER = ("data_protection_officer", "subject_rights")
PCPS = "pcps_information_sharing_and_video_recording"
JUSTIFICATION = "Bruising seen at nursery today; discussed with the safeguarding lead"
HOUSEHOLD_CONSENT = ("identity", "contact", "household")


# --- helpers -------------------------------------------------------------------------


def event(session: Session, response: httpx.Response) -> AuditEvent:
    return session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(response.headers["X-Decision-Id"]))
    ).scalar_one()


def assert_denied(session: Session, response: httpx.Response, reason: str) -> AuditEvent:
    assert response.status_code == 403, response.text
    assert response.json()["reason"] == reason
    assert response.json()["decision_id"] == response.headers["X-Decision-Id"]
    assert "X-Lawful-Basis" not in response.headers
    audited = event(session, response)
    assert (audited.allowed, audited.reason) == (False, reason)
    return audited


def restrict(session: Session, *people: Person) -> None:
    for person in people:
        session.execute(update(Person).where(Person.id == person.id).values(restricted=True))
    session.commit()


def household(session: Session) -> tuple[Family, Person, Person]:
    """A household of a child and a carer with parental responsibility."""
    child = factories.make_child(session, given_name="Amara")
    family = session.get(Family, child.family_id)
    assert family is not None
    carer = factories.make_carer(session, family=family, given_name="Grace")
    return family, child, carer


def contact_body() -> dict[str, Any]:
    return {
        "kind": "home_visit",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "staff_role": "health_visitor",
        "service": "health_visiting",
    }


def safeguarding_body(kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "summary": "Recorded for the test",
        "start_date": factories.today().isoformat(),
        "source": "Children's social care",
    }


def support_body() -> dict[str, Any]:
    return {"started_on": factories.today().isoformat()}


def access_log(client: TestClient, headers: Headers, person: Person) -> list[dict[str, Any]]:
    response = client.get(f"/v1/people/{person.id}/access-log", headers=headers(*OFFICER))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def share(
    client: TestClient, headers: dict[str, str], subject: Person, *categories: str
) -> httpx.Response:
    return client.post(
        "/v1/shares",
        json={
            "subject_id": str(subject.id),
            "recipient": "ipinfa",
            "categories": list(categories or ("identity",)),
        },
        headers=headers,
    )


# --- 1. a replayed Idempotency-Key is decided first ----------------------------------


def test_a_replay_about_a_person_restricted_since_is_refused_not_answered(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    body = contact_body()
    sent = headers(*HV, Idempotency_Key="contact-restricted-1")
    first = client.post(f"/v1/people/{child.id}/contacts", json=body, headers=sent)
    assert first.status_code == 201, first.text
    restrict(session, child)

    replay = client.post(f"/v1/people/{child.id}/contacts", json=body, headers=sent)

    audited = assert_denied(session, replay, "processing_restricted")
    assert "Idempotent-Replayed" not in replay.headers
    assert first.json()["id"] not in replay.text
    assert audited.subject_id == child.id
    assert (audited.action, audited.resource) == ("write", "contact")


def test_a_replay_under_a_purpose_the_role_may_not_use_for_the_data_is_refused(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    body = contact_body()
    key = "contact-purpose-1"
    first = client.post(
        f"/v1/people/{child.id}/contacts",
        json=body,
        headers=headers(*HV, Idempotency_Key=key),
    )
    assert first.status_code == 201, first.text

    replay = client.post(
        f"/v1/people/{child.id}/contacts",
        json=body,
        headers=headers("health_visitor", "service_invitation", Idempotency_Key=key),
    )

    assert_denied(session, replay, "purpose_not_permitted")
    assert "Idempotent-Replayed" not in replay.headers
    assert first.json()["id"] not in replay.text


def test_a_plain_replay_returns_the_first_contact_and_is_audited_as_a_decision_of_its_own(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    body = contact_body()
    sent = headers(*HV, Idempotency_Key="contact-replay-1")
    first = client.post(f"/v1/people/{child.id}/contacts", json=body, headers=sent)
    assert first.status_code == 201, first.text

    replay = client.post(f"/v1/people/{child.id}/contacts", json=body, headers=sent)

    assert replay.status_code == 201, replay.text
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]
    assert replay.headers["X-Decision-Id"] != first.headers["X-Decision-Id"]
    assert event(session, replay).allowed
    decisions = session.execute(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.subject_id == child.id,
            AuditEvent.resource == "contact",
            AuditEvent.action == "write",
        )
    ).scalar_one()
    assert decisions == 2


# --- 2. the household read -----------------------------------------------------------


def test_a_household_read_under_early_help_returns_members_who_all_consented(
    client: TestClient, session: Session, headers: Headers
) -> None:
    family, child, carer = household(session)
    factories.make_consent(session, child, given_by=carer, categories=HOUSEHOLD_CONSENT)
    factories.make_consent(session, carer, categories=HOUSEHOLD_CONSENT)

    response = client.get(f"/v1/families/{family.id}", headers=headers(*FW))

    assert response.status_code == 200, response.text
    body = response.json()
    assert {m["id"] for m in body["members"]} == {str(child.id), str(carer.id)}
    assert body["address"]["line1"] == "1 Test Street"
    assert body["members_withheld"] == 0
    assert response.headers["X-Lawful-Basis"] == "art6-1-a"
    assert event(session, response).allowed


def test_a_household_whose_every_member_is_restricted_is_refused_without_its_address(
    client: TestClient, session: Session, headers: Headers
) -> None:
    family, child, carer = household(session)
    restrict(session, child, carer)

    response = client.get(f"/v1/families/{family.id}", headers=headers(*HV))

    assert_denied(session, response, "processing_restricted")
    assert "address" not in response.json()
    assert "1 Test Street" not in response.text
    assert family.postcode not in response.text


def test_a_household_read_shows_in_the_access_log_of_every_member_returned_or_denied(
    client: TestClient, session: Session, headers: Headers
) -> None:
    family, child, carer = household(session)
    factories.make_consent(session, child, given_by=carer, categories=HOUSEHOLD_CONSENT)

    response = client.get(f"/v1/families/{family.id}", headers=headers(*FW))

    assert response.status_code == 200, response.text
    assert [m["id"] for m in response.json()["members"]] == [str(child.id)]
    assert response.json()["members_withheld"] == 1
    returned = [e for e in access_log(client, headers, child) if e["resource"] == "family"]
    assert [(e["allowed"], e["purpose"], e["action"]) for e in returned] == [
        (True, "early_help", "read")
    ]
    assert returned[0]["decision_id"] == response.headers["X-Decision-Id"]
    denied = [e for e in access_log(client, headers, carer) if e["resource"] == "family"]
    assert [(e["allowed"], e["reason"], e["purpose"]) for e in denied] == [
        (False, "consent_required", "early_help")
    ]


def test_a_nursery_practitioner_never_reads_a_household_even_of_a_child_they_care_for(
    client: TestClient, session: Session, headers: Headers
) -> None:
    family, child, _carer = household(session)
    nursery = factories.nursery_ids()[0]
    factories.enrol(session, child, nursery)

    response = client.get(
        f"/v1/families/{family.id}",
        headers=headers("nursery_practitioner", "nursery_care", nursery_id=nursery),
    )

    audited = assert_denied(session, response, "out_of_scope")
    assert audited.actor_role == "nursery_practitioner"
    assert "1 Test Street" not in response.text


# --- 3. a child protection plan covers the household ---------------------------------


def test_a_plan_for_one_child_lets_early_help_read_the_carer_on_public_task_without_consent(
    client: TestClient, session: Session, headers: Headers
) -> None:
    _family, child, carer = household(session)
    factories.make_plan(session, child)

    response = client.get(f"/v1/people/{carer.id}", headers=headers(*FW))

    assert response.status_code == 200, response.text
    assert response.json()["given_name"] == "Grace"
    bases = response.headers["X-Lawful-Basis"].split(",")
    assert "art6-1-e" in bases
    assert "art6-1-a" not in bases
    audited = event(session, response)
    assert (audited.allowed, audited.subject_id) == (True, carer.id)


# --- 4. who may record what ----------------------------------------------------------


def test_a_camhs_clinician_may_not_record_family_worker_support(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/family-worker-support",
        json=support_body(),
        headers=headers("camhs_clinician", "health_care"),
    )
    audited = assert_denied(session, response, "purpose_not_permitted")
    assert (audited.subject_id, audited.resource) == (child.id, "family_worker_support")


def test_a_health_visitor_may_not_record_family_worker_support(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/family-worker-support",
        json=support_body(),
        headers=headers(*HV),
    )
    audited = assert_denied(session, response, "purpose_not_permitted")
    assert audited.actor_role == "health_visitor"


def test_a_nursery_practitioner_may_not_record_a_child_protection_plan(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    nursery = factories.nursery_ids()[0]
    factories.enrol(session, child, nursery)
    response = client.post(
        f"/v1/people/{child.id}/safeguarding",
        json=safeguarding_body("child_protection_plan"),
        headers=headers(
            "nursery_practitioner", "safeguarding", justification=JUSTIFICATION, nursery_id=nursery
        ),
    )
    audited = assert_denied(session, response, "purpose_not_permitted")
    assert (audited.subject_id, audited.resource) == (child.id, "safeguarding")


def test_a_nursery_practitioner_may_record_a_risk_issue_about_their_own_child(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    nursery = factories.nursery_ids()[0]
    factories.enrol(session, child, nursery)
    response = client.post(
        f"/v1/people/{child.id}/safeguarding",
        json=safeguarding_body("risk_issue"),
        headers=headers(
            "nursery_practitioner", "safeguarding", justification=JUSTIFICATION, nursery_id=nursery
        ),
    )
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "risk_issue"
    audited = event(session, response)
    assert (audited.allowed, audited.review_required) == (True, True)


def test_a_family_worker_may_record_a_child_protection_plan_under_safeguarding(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/safeguarding",
        json=safeguarding_body("child_protection_plan"),
        headers=headers("family_worker", "safeguarding", justification=JUSTIFICATION),
    )
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "child_protection_plan"
    assert event(session, response).allowed


def test_a_family_worker_may_not_record_a_development_review(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_consent(session, child, categories=("identity", "services", "health"))
    body = {
        **contact_body(),
        "kind": "development_review",
        "staff_role": "family_worker",
        "review": "1_year",
        "outcome": "no_concerns",
    }
    response = client.post(f"/v1/people/{child.id}/contacts", json=body, headers=headers(*FW))
    audited = assert_denied(session, response, "purpose_not_permitted")
    assert (audited.subject_id, audited.resource) == (child.id, "contact")


# --- 5. consent, sharing, cases and the trail -----------------------------------------


def test_early_help_reads_consent_records_when_none_is_held_on_a_legal_obligation(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.get(f"/v1/people/{child.id}/consents", headers=headers(*FW))
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
    assert response.headers["X-Lawful-Basis"] == "art6-1-c"
    assert event(session, response).allowed


def test_a_restricted_persons_consent_can_still_be_withdrawn(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    consent_id = factories.make_consent(session, child)
    restrict(session, child)
    response = client.post(
        f"/v1/consents/{consent_id}/withdraw",
        json={"reason": "The family no longer wants early help"},
        headers=headers(*FW),
    )
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert response.json()["withdrawn_at"] is not None
    assert event(session, response).allowed


def test_an_early_help_share_to_ipinfa_with_only_the_pcps_form_is_refused(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_consent(
        session, child, consent_type=PCPS, recipient="ipinfa", categories=("identity", "health")
    )
    response = share(client, headers(*FW), child, "identity")
    assert_denied(session, response, "consent_required")


def test_an_early_help_share_to_ipinfa_with_both_consents_is_allowed(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_consent(
        session, child, consent_type=PCPS, recipient="ipinfa", categories=("identity", "health")
    )
    factories.make_consent(session, child, categories=("identity", "contact"))
    response = share(client, headers(*FW), child, "identity")
    assert response.status_code == 201, response.text
    assert response.json()["recipient"] == "ipinfa"
    assert response.headers["X-Lawful-Basis"] == "art6-1-a"
    assert event(session, response).allowed


def test_a_decision_about_no_one_subject_is_audited_with_no_subject_kind(
    client: TestClient, session: Session, headers: Headers
) -> None:
    response = client.get("/v1/reviews/safeguarding", headers=headers(*OFFICER))
    assert response.status_code == 200, response.text
    audited = event(session, response)
    assert audited.allowed
    assert audited.subject_id is None
    assert audited.subject_kind is None


def test_a_caller_who_may_not_read_cases_gets_403_for_an_unknown_case_and_is_audited(
    client: TestClient, session: Session, headers: Headers
) -> None:
    unknown = uuid4()
    response = client.get(f"/v1/subject-requests/{unknown}", headers=headers(*HV))
    audited = assert_denied(session, response, "purpose_not_permitted")
    assert audited.actor_role == "health_visitor"
    assert audited.resource == "subject_request"


def test_the_officer_gets_404_for_an_unknown_case(
    client: TestClient, session: Session, headers: Headers
) -> None:
    response = client.get(f"/v1/subject-requests/{uuid4()}", headers=headers(*OFFICER))
    assert response.status_code == 404, response.text


def test_a_rectification_naming_a_case_by_a_caller_out_of_scope_is_403_not_422(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    first, second, *_ = factories.nursery_ids()
    factories.enrol(session, child, first)
    view = people_service.find(session, child.id)
    assert view is not None
    response = client.patch(
        f"/v1/people/{child.id}",
        json={"given_name": "Renamed"},
        headers=headers(
            "nursery_practitioner",
            "nursery_care",
            nursery_id=second,
            If_Match=view.etag,
            X_Subject_Request_Id=str(uuid4()),
        ),
    )
    audited = assert_denied(session, response, "out_of_scope")
    assert audited.subject_id == child.id
    refreshed = people_service.find(session, child.id)
    assert refreshed is not None
    assert refreshed.row.given_name != "Renamed"


# --- 6. the policy lists each operation's purposes -----------------------------------


def test_the_policy_lists_the_purposes_each_operation_serves(
    client: TestClient, headers: Headers
) -> None:
    response = client.get("/v1/policy", headers=headers("family_worker"))
    assert response.status_code == 200, response.text
    operations = {op["operation"]: op for op in response.json()["operations"]}
    assert operations["record_family_worker_support"]["purposes"] == [
        "early_help",
        "safeguarding",
    ]
    assert operations["take_up_report"]["purposes"] == ["take_up_monitoring"]
