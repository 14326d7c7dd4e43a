"""GET /v1/nurseries (reference data) and POST /v1/nurseries/{id}/enrolments."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.nurseries.models import Enrolment
from tests import factories

Headers = Callable[..., dict[str, str]]


def event(session: Session, response: httpx.Response) -> AuditEvent:
    return session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(response.headers["X-Decision-Id"]))
    ).scalar_one()


def held(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Enrolment)).scalar_one()


def enrolment(child_id: UUID, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"child_id": str(child_id), "start_date": str(factories.today())}
    body.update(overrides)
    return body


def health_care(headers: Headers, **extra: str) -> dict[str, str]:
    return headers("health_visitor", "health_care", **extra)


def own_nursery(headers: Headers, **extra: str) -> dict[str, str]:
    """A practitioner of the first nursery, the one the enrolment tests enrol at."""
    return headers(
        "nursery_practitioner", "nursery_care", nursery_id=factories.nursery_ids()[0], **extra
    )


def errors(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [e["field"] for e in response.json()["errors"]]


# --- the nurseries ---------------------------------------------------------------------


def test_any_caller_lists_the_nine_maintained_nurseries_without_a_purpose(
    client: TestClient, headers: Headers
) -> None:
    response = client.get("/v1/nurseries", headers=headers("public_health_analyst"))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert len(items) == 9
    assert {UUID(i["id"]) for i in items} == set(factories.nursery_ids())
    assert [i["name"] for i in items] == sorted(i["name"] for i in items)
    assert response.json()["next_cursor"] is None
    assert "X-Decision-Id" not in response.headers


def test_listing_the_nurseries_needs_a_token(client: TestClient) -> None:
    response = client.get("/v1/nurseries")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_nursery_list_pages_with_next_cursor(client: TestClient, headers: Headers) -> None:
    h = headers("health_visitor")
    first = client.get("/v1/nurseries", params={"limit": 5}, headers=h).json()
    second = client.get(
        "/v1/nurseries", params={"limit": 5, "cursor": first["next_cursor"]}, headers=h
    ).json()
    assert len(first["items"]) == 5
    assert len(second["items"]) == 4
    assert second["next_cursor"] is None
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert len(set(ids)) == 9


# --- enrolments ------------------------------------------------------------------------


def test_a_practitioner_of_the_nursery_enrols_a_child_there(
    client: TestClient, session: Session, headers: Headers
) -> None:
    nursery = factories.nursery_ids()[0]
    child = factories.make_child(session)
    response = client.post(
        f"/v1/nurseries/{nursery}/enrolments",
        json=enrolment(child.id, end_date=str(factories.today() + timedelta(days=300))),
        headers=own_nursery(headers),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["nursery_id"], body["child_id"]) == (str(nursery), str(child.id))
    assert body["start_date"] == str(factories.today())
    assert response.headers["X-Lawful-Basis"] == "art6-1-e"
    audited = event(session, response)
    assert audited.allowed
    assert (audited.action, audited.resource) == ("write", "enrolment")
    assert audited.subject_id == child.id
    assert audited.categories_asked == "identity"
    assert held(session) == 1


def test_enrolling_at_an_unknown_nursery_is_404(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/nurseries/{uuid4()}/enrolments",
        json=enrolment(child.id),
        headers=own_nursery(headers),
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert held(session) == 0


def test_enrolling_a_carer_is_rejected_naming_child_id(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    response = client.post(
        f"/v1/nurseries/{factories.nursery_ids()[0]}/enrolments",
        json=enrolment(carer.id),
        headers=own_nursery(headers),
    )
    assert errors(response) == ["child_id"]
    assert held(session) == 0


def test_enrolling_someone_unknown_is_rejected_naming_child_id(
    client: TestClient, session: Session, headers: Headers
) -> None:
    response = client.post(
        f"/v1/nurseries/{factories.nursery_ids()[0]}/enrolments",
        json=enrolment(uuid4()),
        headers=own_nursery(headers),
    )
    assert errors(response) == ["child_id"]
    assert held(session) == 0


def test_an_enrolment_ending_before_it_starts_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/nurseries/{factories.nursery_ids()[0]}/enrolments",
        json=enrolment(child.id, end_date=str(factories.today() - timedelta(days=1))),
        headers=own_nursery(headers),
    )
    assert errors(response) == ["end_date"]
    assert held(session) == 0


def test_an_enrolment_needs_a_purpose(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/nurseries/{factories.nursery_ids()[0]}/enrolments",
        json=enrolment(child.id),
        headers=headers("health_visitor"),
    )
    assert response.status_code == 400
    assert held(session) == 0


def test_a_nursery_practitioner_cannot_enrol_a_child_at_another_nursery(
    client: TestClient, session: Session, headers: Headers
) -> None:
    mine, theirs = factories.nursery_ids()[:2]
    child = factories.make_child(session)
    response = client.post(
        f"/v1/nurseries/{theirs}/enrolments",
        json=enrolment(child.id),
        headers=headers("nursery_practitioner", "nursery_care", nursery_id=mine),
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "out_of_scope"
    assert event(session, response).reason == "out_of_scope"
    assert held(session) == 0


@pytest.mark.parametrize(
    ("role", "purpose"),
    [
        ("health_visitor", "health_care"),
        ("childrens_centre_worker", "service_invitation"),
        ("family_worker", "early_help"),
    ],
)
def test_only_a_practitioner_of_the_nursery_may_enrol_a_child(
    client: TestClient, session: Session, headers: Headers, role: str, purpose: str
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/nurseries/{factories.nursery_ids()[0]}/enrolments",
        json=enrolment(child.id),
        headers=headers(role, purpose),
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "purpose_not_permitted"
    assert event(session, response).reason == "purpose_not_permitted"
    assert held(session) == 0


def test_a_retry_with_the_same_idempotency_key_returns_the_first_enrolment(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    url = f"/v1/nurseries/{factories.nursery_ids()[0]}/enrolments"
    h = own_nursery(headers, Idempotency_Key="enrol-retry-1")
    first = client.post(url, json=enrolment(child.id), headers=h)
    retry = client.post(url, json=enrolment(child.id), headers=h)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert held(session) == 1


def test_the_same_idempotency_key_with_a_different_body_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    url = f"/v1/nurseries/{factories.nursery_ids()[0]}/enrolments"
    h = own_nursery(headers, Idempotency_Key="enrol-retry-2")
    client.post(url, json=enrolment(child.id), headers=h)
    response = client.post(
        url,
        json=enrolment(child.id, start_date=str(factories.today() - timedelta(days=1))),
        headers=h,
    )
    assert errors(response) == ["Idempotency-Key"]
    assert held(session) == 1
