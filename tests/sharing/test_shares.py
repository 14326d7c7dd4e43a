"""Shares outside the service (POST /v1/shares) and the recipients (GET /v1/recipients)."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.people.models import Person
from app.sharing.models import Disclosure
from tests import factories

Headers = Callable[..., dict[str, str]]
CAMHS = ("camhs_clinician", "health_care")
FW = ("family_worker", "early_help")
PCPS = "pcps_information_sharing_and_video_recording"
JUSTIFICATION = "Injuries seen at today's home visit; referring to social care"
SPECIAL = {"ethnicity": "N", "health": {"allergies": "Peanut allergy"}}
EVERY_CATEGORY = (
    "identity",
    "contact",
    "household",
    "circumstances",
    "ethnicity",
    "health",
    "safeguarding",
    "education",
    "services",
)


def share(
    client: TestClient,
    headers: dict[str, str],
    subject: Person,
    recipient: str,
    *categories: str,
) -> Any:
    return client.post(
        "/v1/shares",
        json={
            "subject_id": str(subject.id),
            "recipient": recipient,
            "categories": list(categories or ("identity",)),
        },
        headers=headers,
    )


def pcps_form(session: Session, child: Person, *categories: str, withdrawn: bool = False) -> UUID:
    return factories.make_consent(
        session,
        child,
        consent_type=PCPS,
        recipient="ipinfa",
        categories=categories or ("identity", "health"),
        withdrawn=withdrawn,
    )


def disclosures(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Disclosure)).scalar_one())


def test_a_share_to_ipinfa_without_the_pcps_form_is_refused(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = share(client, headers(*CAMHS), child, "ipinfa", "identity", "health")
    assert response.status_code == 403
    assert response.json()["reason"] == "consent_required"
    assert disclosures(session) == 0


def test_a_share_to_ipinfa_with_the_pcps_form_is_allowed_on_consent(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    pcps_form(session, child)
    response = share(client, headers(*CAMHS), child, "ipinfa", "identity", "health")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["recipient"] == "ipinfa"
    assert body["basis"] == ["art6-1-a", "art9-2-a"]
    assert body["categories"] == ["identity", "health"]
    assert body["review_required"] is False
    assert body["decision_id"] == response.headers["X-Decision-Id"]
    assert response.headers["X-Lawful-Basis"] == "art6-1-a,art9-2-a"


def test_a_share_to_ipinfa_after_the_pcps_form_is_withdrawn_is_refused(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    consent_id = pcps_form(session, child)
    assert share(client, headers(*CAMHS), child, "ipinfa").status_code == 201
    withdrawn = client.post(f"/v1/consents/{consent_id}/withdraw", json={}, headers=headers(*CAMHS))
    assert withdrawn.status_code == 200
    response = share(client, headers(*CAMHS), child, "ipinfa")
    assert response.status_code == 403
    assert response.json()["reason"] == "consent_withdrawn"


def test_a_share_returns_only_the_categories_shared(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session, given_name="Amara")
    client.put(f"/v1/people/{child.id}/special-category", json=SPECIAL, headers=headers(*CAMHS))
    pcps_form(session, child, "identity", "contact", "ethnicity", "health")
    response = share(client, headers(*CAMHS), child, "ipinfa", "identity", "health")
    package = response.json()["package"]
    assert set(package) == {"person", "health"}
    assert package["person"]["given_name"] == "Amara"
    assert "address" not in package["person"]
    assert package["health"]["allergies"] == "Peanut allergy"


def test_a_share_is_recorded_as_a_disclosure_of_who_to_whom_what_when_and_basis(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    pcps_form(session, child)
    response = share(client, headers(*CAMHS), child, "ipinfa", "identity", "health")
    disclosure = session.get(Disclosure, UUID(response.json()["disclosure_id"]))
    assert disclosure is not None
    assert disclosure.decision_id == UUID(response.headers["X-Decision-Id"])
    assert disclosure.subject_id == child.id
    assert (disclosure.recipient, disclosure.categories, disclosure.purpose) == (
        "ipinfa",
        "identity,health",
        "health_care",
    )
    assert disclosure.bases == "art6-1-a,art9-2-a"
    assert (disclosure.actor_sub, disclosure.actor_role, disclosure.actor_org) == (
        "camhs_clinician-1",
        "camhs_clinician",
        "RNK",
    )
    assert disclosure.disclosed_at is not None


def test_the_disclosure_appears_in_the_access_log_with_the_recipient(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    pcps_form(session, child)
    shared = share(client, headers(*CAMHS), child, "ipinfa", "identity", "health")
    log = client.get(
        f"/v1/people/{child.id}/access-log",
        headers=headers("data_protection_officer", "subject_rights"),
    )
    assert log.status_code == 200, log.text
    (entry,) = [e for e in log.json()["items"] if e["decision_id"] == shared.json()["decision_id"]]
    assert (entry["action"], entry["recipient"], entry["purpose"]) == (
        "share",
        "ipinfa",
        "health_care",
    )
    assert entry["categories_granted"] == ["health", "identity"]
    assert entry["bases"] == ["art6-1-a", "art9-2-a"]


def test_a_refused_share_discloses_nothing_but_is_audited(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = share(client, headers(*CAMHS), child, "ipinfa")
    assert response.status_code == 403
    assert disclosures(session) == 0
    refused = session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(response.headers["X-Decision-Id"]))
    ).scalar_one()
    assert (refused.action, refused.allowed, refused.reason) == ("share", False, "consent_required")
    assert refused.detail == '{"recipient":"ipinfa"}'


def test_a_share_to_a_gp_practice_without_safeguarding_is_refused(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = share(client, headers("health_visitor", "health_care"), child, "gp_practice")
    assert response.status_code == 403
    assert response.json()["reason"] == "consent_required"


def test_a_safeguarding_share_without_a_justification_is_refused(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = share(client, headers("health_visitor", "safeguarding"), child, "police")
    assert response.status_code == 403
    assert response.json()["reason"] == "justification_required"
    assert disclosures(session) == 0


def test_a_safeguarding_share_with_a_justification_is_allowed_under_paragraph_18(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_safeguarding_record(session, child, summary="Bruising on the upper arm")
    session.commit()
    h = headers("health_visitor", "safeguarding", justification=JUSTIFICATION)
    response = share(client, h, child, "childrens_social_care", "identity", "safeguarding")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["basis"] == ["art6-1-e", "art9-2-g"]
    assert body["review_required"] is True
    (record,) = body["package"]["safeguarding"]
    assert record["summary"] == "Bruising on the upper arm"
    shared = session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(body["decision_id"]))
    ).scalar_one()
    assert shared.review_required is True
    # Police information may be in it: kept encrypted under the household's key.
    assert shared.justification is not None
    assert JUSTIFICATION not in shared.justification


def test_a_consent_for_ipinfa_never_permits_a_share_to_the_school_nurse(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    pcps_form(session, child, *EVERY_CATEGORY)
    response = share(client, headers(*CAMHS), child, "school_nurse")
    assert response.status_code == 403
    assert response.json()["reason"] == "consent_required"


def test_a_consent_covering_health_never_permits_sharing_safeguarding(
    client: TestClient, session: Session, headers: Headers
) -> None:
    # nursery_care reaches safeguarding: only the consent can refuse it here.
    nursery_id = factories.nursery_ids()[0]
    child = factories.make_child(session)
    factories.enrol(session, child, nursery_id)
    pcps_form(session, child, "identity", "health")
    h = headers("nursery_practitioner", "nursery_care", nursery_id=nursery_id)
    assert share(client, h, child, "ipinfa", "health").status_code == 201
    response = share(client, h, child, "ipinfa", "health", "safeguarding")
    assert response.status_code == 403
    assert response.json()["reason"] == "consent_required"


OTHER_RECIPIENTS = ("gp_practice", "school_nurse", "police", "childrens_social_care")


@pytest.mark.parametrize(
    ("recipient", "categories", "covered"),
    [
        *[(other, ("identity",), ("identity",)) for other in OTHER_RECIPIENTS],
        *[
            ("ipinfa", ("identity", category), ("identity",))
            for category in ("contact", "household", "ethnicity", "health", "services")
        ],
    ],
)
def test_a_consent_for_one_recipient_or_category_never_permits_another(
    client: TestClient,
    session: Session,
    headers: Headers,
    recipient: str,
    categories: tuple[str, ...],
    covered: tuple[str, ...],
) -> None:
    child = factories.make_child(session)
    pcps_form(session, child, *covered)
    assert share(client, headers(*CAMHS), child, "ipinfa", *covered).status_code == 201
    response = share(client, headers(*CAMHS), child, recipient, *categories)
    assert response.status_code == 403
    assert response.json()["reason"] == "consent_required"


def test_an_early_help_consent_never_permits_a_share(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_consent(session, child, categories=EVERY_CATEGORY)
    response = share(client, headers(*FW), child, "ipinfa")
    assert response.json()["reason"] == "consent_required"


def test_a_share_to_an_unknown_recipient_is_422(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = share(client, headers(*CAMHS), child, "a_newspaper")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "recipient"


def test_a_share_about_an_unknown_person_is_422(client: TestClient, headers: Headers) -> None:
    response = client.post(
        "/v1/shares",
        json={
            "subject_id": "00000000-0000-4000-8000-000000000000",
            "recipient": "ipinfa",
            "categories": ["identity"],
        },
        headers=headers(*CAMHS),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "subject_id"


def test_a_share_of_no_category_is_422(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        "/v1/shares",
        json={"subject_id": str(child.id), "recipient": "ipinfa", "categories": []},
        headers=headers(*CAMHS),
    )
    assert response.status_code == 422


def test_a_retried_share_with_the_same_idempotency_key_discloses_once(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    pcps_form(session, child)
    h = headers(*CAMHS, Idempotency_Key="share-1")
    first = share(client, h, child, "ipinfa", "identity", "health")
    second = share(client, h, child, "ipinfa", "identity", "health")
    assert first.status_code == second.status_code == 201
    assert first.json()["disclosure_id"] == second.json()["disclosure_id"]
    assert "package" not in second.json()
    assert disclosures(session) == 1


def test_a_carer_can_be_shared_about_on_their_own_consent(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    factories.make_consent(
        session, carer, consent_type=PCPS, recipient="ipinfa", categories=("identity",)
    )
    assert share(client, headers(*CAMHS), carer, "ipinfa").status_code == 201


def test_the_recipients_are_listed_with_the_consent_type_each_accepts(
    client: TestClient, headers: Headers
) -> None:
    response = client.get("/v1/recipients", headers=headers("nursery_practitioner"))
    assert response.status_code == 200
    listed = {item["code"]: item["consent_type"] for item in response.json()["items"]}
    assert listed == {
        "ipinfa": PCPS,
        "gp_practice": None,
        "school_nurse": None,
        "police": None,
        "childrens_social_care": None,
    }
    assert "X-Decision-Id" not in response.headers


def test_each_recipient_names_its_country_transfer_safeguard_and_how_it_is_told_of_changes(
    client: TestClient, headers: Headers
) -> None:
    response = client.get("/v1/recipients", headers=headers("health_visitor"))
    listed = {item["code"]: item for item in response.json()["items"]}
    # The notice does not state IPINFA's country or safeguard: the council confirms them.
    assert listed["ipinfa"]["country"] == "to be confirmed by the council"
    assert listed["ipinfa"]["transfer_safeguard"] == "to be confirmed by the council"
    assert listed["police"]["country"] == "United Kingdom"
    assert listed["police"]["transfer_safeguard"] is None
    # No recipient's endpoint is known yet: the officer tells each by hand.
    assert {item["notifies_electronically"] for item in listed.values()} == {False}


def test_the_recipients_are_paginated(client: TestClient, headers: Headers) -> None:
    h = headers("health_visitor")
    first = client.get("/v1/recipients", params={"limit": 3}, headers=h).json()
    rest = client.get(
        "/v1/recipients", params={"limit": 3, "cursor": first["next_cursor"]}, headers=h
    ).json()
    assert len(first["items"]) == 3
    assert rest["next_cursor"] is None
    assert len({i["code"] for i in first["items"] + rest["items"]}) == 5


def test_the_recipients_need_a_token(client: TestClient) -> None:
    assert client.get("/v1/recipients").status_code == 401
