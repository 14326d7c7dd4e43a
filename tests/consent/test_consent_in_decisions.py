"""Consent in the decision (DOMAIN.md step 8), over HTTP: early help rests on consent,
except under an active child protection plan; withdrawal takes effect at once."""

from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.people.models import Family, Person
from tests import factories

Headers = Callable[..., dict[str, str]]
FW = ("family_worker", "early_help")


def record_consent(
    client: TestClient,
    session: Session,
    headers: Headers,
    child: Person,
    *categories: str,
) -> str:
    """An early_help_support consent recorded over HTTP, as a family worker would."""
    carer = factories.make_carer(session, family=session.get(Family, child.family_id))
    response = client.post(
        "/v1/consents",
        json={
            "subject_id": str(child.id),
            "given_by_id": str(carer.id),
            "type": "early_help_support",
            "categories": list(categories or ("identity", "contact")),
            "method": "verbal",
        },
        headers=headers(*FW),
    )
    assert response.status_code == 201, response.text
    consent_id: str = response.json()["id"]
    return consent_id


def test_early_help_with_no_consent_is_refused_consent_required(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.get(f"/v1/people/{child.id}", headers=headers(*FW))
    assert response.status_code == 403
    assert response.json()["reason"] == "consent_required"
    assert "X-Lawful-Basis" not in response.headers


def test_early_help_with_consent_is_allowed_on_article_6_1_a(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    record_consent(client, session, headers, child)
    response = client.get(f"/v1/people/{child.id}", headers=headers(*FW))
    assert response.status_code == 200, response.text
    assert response.headers["X-Lawful-Basis"] == "art6-1-a"


def test_early_help_reading_special_categories_on_consent_names_article_9_2_a(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    record_consent(client, session, headers, child, "identity", "ethnicity", "health")
    response = client.get(f"/v1/people/{child.id}/special-category", headers=headers(*FW))
    assert response.status_code == 200, response.text
    assert response.headers["X-Lawful-Basis"] == "art6-1-a,art9-2-a"


def test_early_help_after_withdrawal_is_refused_consent_withdrawn(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    consent_id = record_consent(client, session, headers, child)
    withdrawn = client.post(
        f"/v1/consents/{consent_id}/withdraw", json={"reason": "No longer"}, headers=headers(*FW)
    )
    assert withdrawn.status_code == 200, withdrawn.text
    response = client.get(f"/v1/people/{child.id}", headers=headers(*FW))
    assert response.status_code == 403
    assert response.json()["reason"] == "consent_withdrawn"


def test_withdrawal_takes_effect_at_once_and_leaves_earlier_decisions_as_they_were(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    consent_id = record_consent(client, session, headers, child)
    before = client.get(f"/v1/people/{child.id}", headers=headers(*FW))
    assert before.status_code == 200
    client.post(f"/v1/consents/{consent_id}/withdraw", json={}, headers=headers(*FW))
    after = client.get(f"/v1/people/{child.id}", headers=headers(*FW))
    assert after.status_code == 403
    earlier = session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(before.headers["X-Decision-Id"]))
    ).scalar_one()
    assert (earlier.allowed, earlier.bases) == (True, "art6-1-a")


def test_an_active_child_protection_plan_lets_early_help_proceed_without_consent(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_plan(session, child)
    response = client.get(f"/v1/people/{child.id}/special-category", headers=headers(*FW))
    assert response.status_code == 200, response.text
    assert response.headers["X-Lawful-Basis"] == "art6-1-e,art9-2-g"


def test_an_ended_child_protection_plan_no_longer_lifts_the_need_for_consent(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    today = factories.today()
    factories.make_plan(
        session, child, start=today - timedelta(days=100), end=today - timedelta(days=1)
    )
    response = client.get(f"/v1/people/{child.id}", headers=headers(*FW))
    assert response.json()["reason"] == "consent_required"


def test_a_consent_for_identity_and_contact_does_not_let_early_help_read_special_category(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    record_consent(client, session, headers, child, "identity", "contact")
    person = client.get(f"/v1/people/{child.id}", headers=headers(*FW))
    assert person.status_code == 200
    special = client.get(f"/v1/people/{child.id}/special-category", headers=headers(*FW))
    assert special.status_code == 403
    assert special.json()["reason"] == "consent_required"


def test_an_early_help_read_names_the_categories_the_consent_does_not_cover_as_withheld(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    record_consent(client, session, headers, child, "identity")
    response = client.get(f"/v1/people/{child.id}", headers=headers(*FW))
    assert response.status_code == 200
    assert response.headers["X-Withheld-Categories"] == "contact"
    assert "address" not in response.json()
    assert response.json()["given_name"] == "Test"


def test_a_consent_about_one_child_does_not_cover_a_brother_or_sister(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    sister = factories.make_child(session, family=session.get(Family, child.family_id))
    record_consent(client, session, headers, child)
    response = client.get(f"/v1/people/{sister.id}", headers=headers(*FW))
    assert response.json()["reason"] == "consent_required"
