"""GET and POST /v1/people/{id}/contacts: visits, calls and development reviews."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.contacts.models import Contact
from tests import factories

Headers = Callable[..., dict[str, str]]


def event(session: Session, response: httpx.Response) -> AuditEvent:
    return session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(response.headers["X-Decision-Id"]))
    ).scalar_one()


def held(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Contact)).scalar_one()


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def review(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "development_review",
        "occurred_at": ago(hours=2),
        "staff_role": "health_visitor",
        "review": "1_year",
        "outcome": "support_needed",
        "notes": "Speech a little behind; referred to the Chatterbox group",
    }
    body.update(overrides)
    return body


def visit(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "home_visit",
        "occurred_at": ago(hours=3),
        "staff_role": "family_worker",
        "service": "Early help",
        "notes": "Mum finding the nights hard",
    }
    body.update(overrides)
    return body


def health_care(headers: Headers, **extra: str) -> dict[str, str]:
    return headers("health_visitor", "health_care", **extra)


def errors(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [e["field"] for e in response.json()["errors"]]


# --- recording -------------------------------------------------------------------------


def test_a_health_visitor_records_a_development_review_under_health_care(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/contacts", json=review(), headers=health_care(headers)
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["kind"], body["review"], body["outcome"]) == (
        "development_review",
        "1_year",
        "support_needed",
    )
    assert body["notes"] == "Speech a little behind; referred to the Chatterbox group"
    assert body["person_id"] == str(child.id)
    assert response.headers["X-Lawful-Basis"] == "art6-1-e,art9-2-h"
    audited = event(session, response)
    assert audited.allowed
    assert (audited.action, audited.resource) == ("write", "contact")
    assert audited.categories_asked == "health,services"
    assert held(session) == 1


def test_a_home_visit_is_decided_on_services_alone(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/contacts", json=visit(), headers=health_care(headers)
    )
    assert response.status_code == 201, response.text
    assert "outcome" not in response.json()
    assert response.headers["X-Lawful-Basis"] == "art6-1-e"
    assert event(session, response).categories_asked == "services"


def test_a_childrens_centre_worker_records_a_centre_contact_on_early_help_consent(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.give_early_help_consent(session, child, categories=("identity", "services"))
    response = client.post(
        f"/v1/people/{child.id}/contacts",
        json=visit(kind="centre_contact", staff_role="childrens_centre_worker"),
        headers=headers("childrens_centre_worker", "early_help"),
    )
    assert response.status_code == 201, response.text
    assert response.headers["X-Lawful-Basis"] == "art6-1-a"
    assert event(session, response).allowed


def test_early_help_without_consent_cannot_record_a_contact(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/contacts",
        json=visit(),
        headers=headers("family_worker", "early_help"),
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "consent_required"
    assert "X-Lawful-Basis" not in response.headers
    assert event(session, response).reason == "consent_required"
    assert held(session) == 0


def test_a_development_review_is_recorded_only_under_health_care(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.give_early_help_consent(session, child)
    response = client.post(
        f"/v1/people/{child.id}/contacts",
        json=review(),
        headers=headers("health_visitor", "early_help"),
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "purpose_not_permitted"
    assert held(session) == 0


# --- validation ------------------------------------------------------------------------


def test_a_development_review_without_a_review_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    body = review()
    del body["review"]
    response = client.post(
        f"/v1/people/{child.id}/contacts", json=body, headers=health_care(headers)
    )
    assert errors(response) == ["review"]
    assert held(session) == 0


def test_a_development_review_without_an_outcome_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/contacts",
        json=review(outcome=None),
        headers=health_care(headers),
    )
    assert errors(response) == ["outcome"]
    assert held(session) == 0


def test_a_home_visit_with_an_outcome_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/contacts",
        json=visit(outcome="no_concerns"),
        headers=health_care(headers),
    )
    assert errors(response) == ["outcome"]
    assert held(session) == 0


def test_a_call_naming_a_review_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/contacts",
        json=visit(kind="call", review="6_8_week"),
        headers=health_care(headers),
    )
    assert errors(response) == ["review"]
    assert held(session) == 0


def test_an_unknown_review_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/contacts",
        json=review(review="3_year"),
        headers=health_care(headers),
    )
    assert errors(response) == ["review"]
    assert held(session) == 0


def test_a_contact_in_the_future_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/contacts",
        json=visit(occurred_at=ago(hours=-1)),
        headers=health_care(headers),
    )
    assert errors(response) == ["occurred_at"]
    assert held(session) == 0


def test_a_contact_within_five_minutes_of_clock_skew_is_accepted(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/contacts",
        json=visit(occurred_at=ago(minutes=-2)),
        headers=health_care(headers),
    )
    assert response.status_code == 201, response.text


def test_an_occurred_at_without_an_offset_is_taken_as_utc(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/contacts",
        json=visit(occurred_at="2025-06-02T10:30:00"),
        headers=health_care(headers),
    )
    assert response.status_code == 201, response.text
    assert response.json()["occurred_at"] == "2025-06-02T10:30:00Z"


def test_an_occurred_at_with_an_offset_is_kept_as_the_same_instant_in_utc(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    client.post(
        f"/v1/people/{child.id}/contacts",
        json=visit(occurred_at="2025-06-02T10:30:00+01:00"),
        headers=health_care(headers),
    )
    response = client.get(f"/v1/people/{child.id}/contacts", headers=health_care(headers))
    assert response.json()["items"][0]["occurred_at"] == "2025-06-02T09:30:00Z"


def test_a_staff_role_that_is_not_a_role_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/contacts",
        json=visit(staff_role="social_worker"),
        headers=health_care(headers),
    )
    assert errors(response) == ["staff_role"]
    assert held(session) == 0


# --- reading ---------------------------------------------------------------------------


def test_health_care_reads_contacts_with_their_outcome(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    client.post(f"/v1/people/{child.id}/contacts", json=review(), headers=health_care(headers))
    response = client.get(f"/v1/people/{child.id}/contacts", headers=health_care(headers))
    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert item["outcome"] == "support_needed"
    assert item["notes"] == "Speech a little behind; referred to the Chatterbox group"
    assert "X-Withheld-Categories" not in response.headers
    assert response.headers["X-Lawful-Basis"] == "art6-1-e,art9-2-h"
    audited = event(session, response)
    assert (audited.action, audited.resource) == ("read", "contact")
    assert audited.categories_granted == "health,services"


def test_a_read_whose_consent_does_not_reach_health_gets_contacts_without_outcome(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    client.post(f"/v1/people/{child.id}/contacts", json=review(), headers=health_care(headers))
    factories.give_early_help_consent(session, child, categories=("identity", "services"))
    response = client.get(
        f"/v1/people/{child.id}/contacts", headers=headers("family_worker", "early_help")
    )
    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert "outcome" not in item
    assert item["review"] == "1_year"
    assert response.headers["X-Withheld-Categories"] == "health"
    assert response.headers["X-Lawful-Basis"] == "art6-1-a"
    assert event(session, response).categories_granted == "services"


def test_service_invitation_cannot_read_contacts(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    client.post(f"/v1/people/{child.id}/contacts", json=review(), headers=health_care(headers))
    response = client.get(
        f"/v1/people/{child.id}/contacts",
        headers=headers("childrens_centre_worker", "service_invitation"),
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "purpose_not_permitted"
    assert "X-Lawful-Basis" not in response.headers
    assert not event(session, response).allowed


def test_contacts_are_listed_most_recent_first(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    for hours, service in [(30, "oldest"), (1, "newest"), (5, "middle")]:
        client.post(
            f"/v1/people/{child.id}/contacts",
            json=visit(occurred_at=ago(hours=hours), service=service),
            headers=health_care(headers),
        )
    response = client.get(f"/v1/people/{child.id}/contacts", headers=health_care(headers))
    assert [i["service"] for i in response.json()["items"]] == ["newest", "middle", "oldest"]


def test_the_contact_list_pages_with_next_cursor(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    for hours in (1, 2, 3):
        client.post(
            f"/v1/people/{child.id}/contacts",
            json=visit(occurred_at=ago(hours=hours), service=f"{hours}h"),
            headers=health_care(headers),
        )
    url = f"/v1/people/{child.id}/contacts"
    first = client.get(url, params={"limit": 2}, headers=health_care(headers))
    assert [i["service"] for i in first.json()["items"]] == ["1h", "2h"]
    cursor = first.json()["next_cursor"]
    assert cursor
    second = client.get(url, params={"limit": 2, "cursor": cursor}, headers=health_care(headers))
    assert second.status_code == 200, second.text
    assert [i["service"] for i in second.json()["items"]] == ["3h"]
    assert second.json()["next_cursor"] is None


def test_contacts_at_the_same_moment_page_without_loss_or_repeat(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    moment = ago(hours=1)
    made = {
        client.post(
            f"/v1/people/{child.id}/contacts",
            json=visit(occurred_at=moment, service=f"group {n}"),
            headers=health_care(headers),
        ).json()["id"]
        for n in range(5)
    }
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(
            f"/v1/people/{child.id}/contacts", params=params, headers=health_care(headers)
        ).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)


def test_a_limit_above_200_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.get(
        f"/v1/people/{child.id}/contacts", params={"limit": 201}, headers=health_care(headers)
    )
    assert errors(response) == ["query.limit"]


# --- idempotency -----------------------------------------------------------------------


def test_a_retry_with_the_same_idempotency_key_returns_the_first_contact(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    h = health_care(headers, Idempotency_Key="contact-retry-1")
    body = review()
    first = client.post(f"/v1/people/{child.id}/contacts", json=body, headers=h)
    retry = client.post(f"/v1/people/{child.id}/contacts", json=body, headers=h)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert held(session) == 1


def test_the_same_idempotency_key_with_a_different_body_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    h = health_care(headers, Idempotency_Key="contact-retry-2")
    client.post(f"/v1/people/{child.id}/contacts", json=review(), headers=h)
    response = client.post(
        f"/v1/people/{child.id}/contacts", json=review(outcome="referred"), headers=h
    )
    assert errors(response) == ["Idempotency-Key"]
    assert held(session) == 1


# --- at rest ---------------------------------------------------------------------------


def test_notes_and_outcome_are_stored_encrypted(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/contacts",
        json=review(notes="Bruise on the left arm, explanation consistent"),
        headers=health_care(headers),
    )
    notes, outcome = session.execute(
        text("SELECT notes, outcome FROM contact WHERE person_id = :p"),
        {"p": _uuid_param(session, child.id)},
    ).one()
    assert response.status_code == 201
    assert "Bruise" not in notes
    assert "support_needed" not in outcome
    assert notes.startswith("v1.")
    assert outcome.startswith("v1.")


def test_the_idempotency_record_keeps_no_notes_or_outcome(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    client.post(
        f"/v1/people/{child.id}/contacts",
        json=review(notes="Bruise on the left arm, explanation consistent"),
        headers=health_care(headers, Idempotency_Key="contact-at-rest"),
    )
    [body] = session.execute(
        text("SELECT body FROM idempotency_record WHERE key = 'contact-at-rest'")
    ).scalars()
    assert b"Bruise" not in bytes(body)
    assert b"support_needed" not in bytes(body)


def _uuid_param(session: Session, value: UUID) -> str | UUID:
    """A raw query binds ids as the dialect stores them (SQLite: 32 hex characters)."""
    return value.hex if session.get_bind().dialect.name == "sqlite" else value
