"""The safeguarding override's review queue (GET/POST /v1/reviews/safeguarding)."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.people.models import Person
from app.reviews.models import SafeguardingReview
from tests import factories

Headers = Callable[..., dict[str, str]]
OFFICER = ("data_protection_officer", "subject_rights")
JUSTIFICATION = "Police report of domestic abuse in the household last night"
QUEUE = "/v1/reviews/safeguarding"


def safeguarding_share(client: TestClient, headers: Headers, child: Person) -> Any:
    response = client.post(
        "/v1/shares",
        json={"subject_id": str(child.id), "recipient": "police", "categories": ["identity"]},
        headers=headers("health_visitor", "safeguarding", justification=JUSTIFICATION),
    )
    assert response.status_code == 201, response.text
    return response


def queued(client: TestClient, headers: Headers) -> dict[str, dict[str, Any]]:
    response = client.get(QUEUE, params={"limit": 500}, headers=headers(*OFFICER))
    assert response.status_code == 200, response.text
    return {item["decision_id"]: item for item in response.json()["items"]}


def test_a_safeguarding_share_is_listed_for_review_with_who_whom_why_and_recipient(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    decision_id = safeguarding_share(client, headers, child).headers["X-Decision-Id"]
    item = queued(client, headers)[decision_id]
    assert item["subject_id"] == str(child.id)
    assert (item["actor_role"], item["action"], item["recipient"]) == (
        "health_visitor",
        "share",
        "police",
    )
    assert item["justification"] == JUSTIFICATION
    assert item["bases"] == ["art6-1-e"]


def test_a_reviewed_override_leaves_the_queue(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    decision_id = safeguarding_share(client, headers, child).headers["X-Decision-Id"]
    assert decision_id in queued(client, headers)
    review = client.post(
        f"{QUEUE}/{decision_id}",
        json={"outcome": "appropriate", "notes": "Proportionate; police already involved"},
        headers=headers(*OFFICER),
    )
    assert review.status_code == 201, review.text
    assert review.json()["outcome"] == "appropriate"
    assert review.json()["reviewed_by"] == "data_protection_officer-1"
    assert decision_id not in queued(client, headers)
    stored = session.get(SafeguardingReview, UUID(decision_id))
    assert stored is not None
    assert stored.notes == "Proportionate; police already involved"


def test_a_safeguarding_read_is_listed_for_review(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    read = client.get(
        f"/v1/people/{child.id}",
        headers=headers("family_worker", "safeguarding", justification=JUSTIFICATION),
    )
    assert read.status_code == 200
    assert queued(client, headers)[read.headers["X-Decision-Id"]]["action"] == "read"


def test_a_refused_safeguarding_request_is_not_listed_for_review(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    refused = client.get(f"/v1/people/{child.id}", headers=headers("family_worker", "safeguarding"))
    assert refused.status_code == 403
    assert refused.headers["X-Decision-Id"] not in queued(client, headers)


def test_a_care_read_is_not_listed_for_review(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    read = client.get(f"/v1/people/{child.id}", headers=headers("health_visitor", "health_care"))
    assert read.headers["X-Decision-Id"] not in queued(client, headers)


def test_the_queue_is_paginated_oldest_first(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    made = [safeguarding_share(client, headers, child).headers["X-Decision-Id"] for _ in range(3)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get(QUEUE, params=params, headers=headers(*OFFICER)).json()
        seen.extend(item["decision_id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [d for d in seen if d in made] == made


@pytest.mark.parametrize(
    ("role", "purpose"),
    [
        ("health_visitor", "health_care"),
        ("data_protection_officer", "legal_claims"),
    ],
)
def test_only_the_officer_under_subject_rights_sees_the_queue(
    client: TestClient, headers: Headers, role: str, purpose: str
) -> None:
    response = client.get(QUEUE, headers=headers(role, purpose))
    assert response.status_code == 403
    assert response.json()["reason"] == "purpose_not_permitted"


def test_the_safeguarding_override_cannot_reach_the_review_list(
    client: TestClient, headers: Headers
) -> None:
    response = client.get(
        QUEUE, headers=headers("health_visitor", "safeguarding", justification=JUSTIFICATION)
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "purpose_not_permitted"


def test_only_the_officer_records_a_review(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    decision_id = safeguarding_share(client, headers, child).headers["X-Decision-Id"]
    response = client.post(
        f"{QUEUE}/{decision_id}",
        json={"outcome": "appropriate"},
        headers=headers("health_visitor", "safeguarding", justification=JUSTIFICATION),
    )
    assert response.status_code == 403
    assert decision_id in queued(client, headers)


def test_reviewing_an_unknown_decision_is_404(client: TestClient, headers: Headers) -> None:
    response = client.post(
        f"{QUEUE}/00000000-0000-4000-8000-000000000000",
        json={"outcome": "referred"},
        headers=headers(*OFFICER),
    )
    assert response.status_code == 404


def test_reviewing_a_decision_that_was_no_override_is_422(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    read = client.get(f"/v1/people/{child.id}", headers=headers("health_visitor", "health_care"))
    response = client.post(
        f"{QUEUE}/{read.headers['X-Decision-Id']}",
        json={"outcome": "appropriate"},
        headers=headers(*OFFICER),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "decision_id"


def test_reviewing_a_refused_safeguarding_request_is_422(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    refused = client.get(f"/v1/people/{child.id}", headers=headers("family_worker", "safeguarding"))
    response = client.post(
        f"{QUEUE}/{refused.headers['X-Decision-Id']}",
        json={"outcome": "inappropriate"},
        headers=headers(*OFFICER),
    )
    assert response.status_code == 422


def test_reviewing_an_override_twice_is_409(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    decision_id = safeguarding_share(client, headers, child).headers["X-Decision-Id"]
    url = f"{QUEUE}/{decision_id}"
    assert (
        client.post(url, json={"outcome": "referred"}, headers=headers(*OFFICER)).status_code == 201
    )
    again = client.post(url, json={"outcome": "appropriate"}, headers=headers(*OFFICER))
    assert again.status_code == 409
    outcomes = session.execute(
        select(SafeguardingReview.outcome).where(
            SafeguardingReview.decision_id == UUID(decision_id)
        )
    ).scalars()
    assert list(outcomes) == ["referred"]


def test_an_unknown_review_outcome_is_422(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    decision_id = safeguarding_share(client, headers, child).headers["X-Decision-Id"]
    response = client.post(
        f"{QUEUE}/{decision_id}", json={"outcome": "fine"}, headers=headers(*OFFICER)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "outcome"
