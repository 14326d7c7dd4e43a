"""Subject-request cases over HTTP: the clock from receipt, pauses, extensions, the list
of overdue cases, and who may handle them."""

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.people.models import Family
from app.platform.db import utcnow
from app.rights import deadlines
from app.rights.models import SubjectRequest
from tests import factories
from tests.rights.cases import OFFICER, Headers, decide, event, open_case


@pytest.mark.parametrize(
    ("received_at", "due_at"),
    [
        ("2025-03-17T10:00:00+00:00", "2025-04-17"),
        ("2025-01-31T10:00:00+00:00", "2025-02-28"),
        ("2024-01-31T10:00:00+00:00", "2024-02-29"),
        ("2025-06-12T10:00:00+00:00", "2025-07-14"),
        ("2025-11-25T10:00:00+00:00", "2025-12-29"),
        ("2025-03-21T10:00:00+00:00", "2025-04-22"),
        ("2025-03-31T23:30:00+00:00", "2025-05-01"),
    ],
    ids=[
        "same date next month",
        "31 January: 28 February",
        "leap year: 29 February",
        "a Saturday: the Monday",
        "Christmas and Boxing Day",
        "Easter Monday",
        "23:30 UTC in BST is 1 April in London",
    ],
)
def test_a_request_is_due_one_calendar_month_after_receipt(
    client: TestClient, session: Session, headers: Headers, received_at: str, due_at: str
) -> None:
    carer = factories.make_carer(session)
    case = open_case(client, headers, carer.id, received_at=received_at)
    assert case["due_at"] == due_at
    assert case["status"] == "open"
    assert [h["kind"] for h in case["history"]] == ["received"]


def test_the_officer_receives_a_request_and_the_decision_is_audited_about_the_subject(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    carer = factories.make_carer(session, family=session.get(Family, child.family_id))
    response = client.post(
        "/v1/subject-requests",
        json={"type": "access", "subject_id": str(child.id), "requester_id": str(carer.id)},
        headers=headers(*OFFICER),
    )
    assert response.status_code == 201, response.text
    assert response.headers["X-Lawful-Basis"] == "art6-1-c"
    row = event(session, response.headers["X-Decision-Id"])
    assert (row.subject_id, row.purpose, row.resource) == (
        child.id,
        "subject_rights",
        "subject_request",
    )
    assert str(carer.id) in (row.related_ids or "")
    got = client.get(f"/v1/subject-requests/{response.json()['id']}", headers=headers(*OFFICER))
    assert got.status_code == 200
    assert got.json()["requester_id"] == str(carer.id)


@pytest.mark.parametrize(
    ("role", "purpose"),
    [
        ("health_visitor", "subject_rights"),
        ("family_worker", "early_help"),
        ("data_protection_officer", "legal_claims"),
    ],
)
def test_only_the_data_protection_officer_handles_cases(
    client: TestClient, session: Session, headers: Headers, role: str, purpose: str
) -> None:
    carer = factories.make_carer(session)
    response = client.post(
        "/v1/subject-requests",
        json={"type": "access", "subject_id": str(carer.id), "requester_id": str(carer.id)},
        headers=headers(role, purpose),
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "purpose_not_permitted"
    listing = client.get("/v1/subject-requests", headers=headers(role, purpose))
    assert listing.status_code == 403


@pytest.mark.parametrize(
    ("requester", "why"),
    [("other_adult", "an adult makes their own request"), ("no_pr", "parental responsibility")],
)
def test_a_request_about_someone_else_needs_parental_responsibility_for_a_child(
    client: TestClient, session: Session, headers: Headers, requester: str, why: str
) -> None:
    family = factories.make_family(session)
    adult = factories.make_carer(session, family=family)
    child = factories.make_child(session, family=family)
    other = factories.make_carer(session, family=family, parental_responsibility=False)
    subject, asker = (adult, other) if requester == "other_adult" else (child, other)
    response = client.post(
        "/v1/subject-requests",
        json={"type": "access", "subject_id": str(subject.id), "requester_id": str(asker.id)},
        headers=headers(*OFFICER),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "requester_id"
    assert why in response.json()["errors"][0]["message"]


def test_a_request_cannot_be_received_in_the_future_or_about_no_one(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    future = (utcnow() + timedelta(days=2)).isoformat()
    body = {"type": "access", "subject_id": str(carer.id), "requester_id": str(carer.id)}
    late = client.post(
        "/v1/subject-requests", json={**body, "received_at": future}, headers=headers(*OFFICER)
    )
    assert late.status_code == 422
    assert late.json()["errors"][0]["field"] == "received_at"
    nobody = client.post(
        "/v1/subject-requests",
        json={**body, "subject_id": "00000000-0000-4000-8000-000000000000"},
        headers=headers(*OFFICER),
    )
    assert nobody.status_code == 422
    assert nobody.json()["errors"][0]["field"] == "subject_id"


def _days_ago(session: Session, case: dict[str, Any], days: int) -> None:
    session.execute(
        update(SubjectRequest)
        .where(SubjectRequest.id == UUID(case["id"]))
        .values(paused_at=utcnow() - timedelta(days=days))
    )
    session.commit()


def test_a_pause_stops_the_clock_and_due_at_moves_by_the_days_paused(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    case = open_case(client, headers, carer.id)
    url = f"/v1/subject-requests/{case['id']}"
    paused = client.post(
        f"{url}/pause", json={"reason": "Waiting for proof of identity"}, headers=headers(*OFFICER)
    )
    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "paused"
    again = client.post(f"{url}/pause", json={"reason": "again"}, headers=headers(*OFFICER))
    assert again.status_code == 409
    _days_ago(session, case, 10)
    resumed = client.post(
        f"{url}/resume", json={"reason": "Passport seen"}, headers=headers(*OFFICER)
    )
    assert resumed.status_code == 200, resumed.text
    body = resumed.json()
    received = date.fromisoformat(body["received_on"])
    assert body["status"] == "open"
    assert body["paused_days_total"] == 10
    assert body["due_at"] == deadlines.due_date(received, paused_days=10).isoformat()
    assert [h["kind"] for h in body["history"]] == ["received", "paused", "resumed"]
    assert body["history"][2]["detail"] == {"days_paused": 10}


def test_resuming_a_case_that_is_not_paused_is_409(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    case = open_case(client, headers, carer.id)
    response = client.post(
        f"/v1/subject-requests/{case['id']}/resume", json={"reason": "x"}, headers=headers(*OFFICER)
    )
    assert response.status_code == 409


def test_an_extension_adds_months_but_never_more_than_three_in_all(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    case = open_case(client, headers, carer.id)
    url = f"/v1/subject-requests/{case['id']}/extend"
    received = date.fromisoformat(case["received_on"])
    two = client.post(
        url,
        json={"months": 2, "reason": "Complex: records from three teams"},
        headers=headers(*OFFICER),
    )
    assert two.status_code == 200, two.text
    assert two.json()["extended_months"] == 2
    assert two.json()["due_at"] == deadlines.due_date(received, extended_months=2).isoformat()
    more = client.post(url, json={"months": 1, "reason": "more"}, headers=headers(*OFFICER))
    assert more.status_code == 422
    assert more.json()["errors"][0]["field"] == "months"
    bad = client.post(url, json={"months": 3, "reason": "x"}, headers=headers(*OFFICER))
    assert bad.status_code == 422


def test_an_extension_after_the_first_month_is_too_late(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    case = open_case(client, headers, carer.id, received_at="2025-01-06T09:00:00+00:00")
    response = client.post(
        f"/v1/subject-requests/{case['id']}/extend",
        json={"months": 1, "reason": "Complex"},
        headers=headers(*OFFICER),
    )
    assert response.status_code == 409
    assert "2025-02-06" in response.json()["detail"]


def test_overdue_lists_open_cases_past_due_and_not_paused_or_decided_ones(
    client: TestClient, session: Session, headers: Headers
) -> None:
    people = [factories.make_carer(session) for _ in range(4)]
    late, paused, decided, fresh = (
        open_case(client, headers, p.id, received_at=at)
        for p, at in zip(
            people,
            [
                "2025-01-06T09:00:00+00:00",
                "2025-01-07T09:00:00+00:00",
                "2025-01-08T09:00:00+00:00",
                None,
            ],
            strict=True,
        )
    )
    client.post(
        f"/v1/subject-requests/{paused['id']}/pause",
        json={"reason": "ID"},
        headers=headers(*OFFICER),
    )
    assert decide(client, headers, decided["id"], outcome="refused").status_code == 200
    response = client.get("/v1/subject-requests?overdue=true", headers=headers(*OFFICER))
    assert response.status_code == 200, response.text
    ids = [c["id"] for c in response.json()["items"]]
    assert late["id"] in ids
    assert {paused["id"], decided["id"], fresh["id"]}.isdisjoint(ids)
    assert all(c["overdue"] for c in response.json()["items"])
    not_overdue = client.get("/v1/subject-requests?overdue=false", headers=headers(*OFFICER))
    assert fresh["id"] in [c["id"] for c in not_overdue.json()["items"]]


def test_the_list_pages_by_due_date(client: TestClient, session: Session, headers: Headers) -> None:
    carer = factories.make_carer(session)
    made = [
        open_case(client, headers, carer.id, received_at=f"2025-0{m}-10T09:00:00+00:00")
        for m in (3, 1, 2)
    ]
    seen: list[str] = []
    cursor = None
    while True:
        url = f"/v1/subject-requests?subject_id={carer.id}&limit=2"
        response = client.get(
            url + (f"&cursor={cursor}" if cursor else ""), headers=headers(*OFFICER)
        )
        seen.extend(c["due_at"] for c in response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(made)
    assert seen == sorted(seen)


def test_a_decision_needs_a_reason_and_closes_the_case_once(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer = factories.make_carer(session)
    case = open_case(client, headers, carer.id, type="objection")
    missing = client.post(
        f"/v1/subject-requests/{case['id']}/decide",
        json={"outcome": "refused"},
        headers=headers(*OFFICER),
    )
    assert missing.status_code == 422
    refused = decide(client, headers, case["id"], outcome="refused", reason="Compelling grounds")
    assert refused.status_code == 200, refused.text
    assert (refused.json()["status"], refused.json()["outcome"]) == ("closed", "refused")
    again = decide(client, headers, case["id"])
    assert again.status_code == 409


def test_an_unknown_case_is_404(client: TestClient, headers: Headers) -> None:
    response = client.get(
        "/v1/subject-requests/00000000-0000-4000-8000-000000000000", headers=headers(*OFFICER)
    )
    assert response.status_code == 404
