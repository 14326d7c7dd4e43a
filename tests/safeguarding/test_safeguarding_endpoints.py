"""GET and POST /v1/people/{id}/safeguarding: the record, the decision, the audit event."""

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.people.models import Person
from app.safeguarding.models import SafeguardingRecord
from tests import factories

Headers = Callable[..., dict[str, str]]

WHY = "Police report of domestic abuse at the family home"


def event(session: Session, response: httpx.Response) -> AuditEvent:
    return session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(response.headers["X-Decision-Id"]))
    ).scalar_one()


def held(session: Session) -> int:
    return session.execute(select(func.count()).select_from(SafeguardingRecord)).scalar_one()


def record(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "child_protection_plan",
        "summary": "Plan agreed at the initial child protection conference",
        "start_date": str(factories.today() - timedelta(days=7)),
    }
    body.update(overrides)
    return body


def safeguarding(headers: Headers, role: str = "family_worker", **extra: str) -> dict[str, str]:
    return headers(role, "safeguarding", justification=WHY, **extra)


def errors(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [e["field"] for e in response.json()["errors"]]


# --- recording -------------------------------------------------------------------------


def test_a_family_worker_records_a_child_protection_plan_under_safeguarding(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/safeguarding",
        json=record(source="Children's social care"),
        headers=safeguarding(headers),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "child_protection_plan"
    assert body["summary"] == "Plan agreed at the initial child protection conference"
    assert body["source"] == "Children's social care"
    assert body["person_id"] == str(child.id)
    assert body["active"] is True
    assert response.headers["X-Lawful-Basis"] == "art6-1-e,art9-2-g"
    assert "X-Withheld-Categories" not in response.headers
    audited = event(session, response)
    assert audited.allowed
    assert (audited.action, audited.resource) == ("write", "safeguarding")
    assert audited.subject_id == child.id
    assert audited.categories_asked == "safeguarding"
    assert audited.review_required
    assert held(session) == 1


def test_a_plan_may_start_today(client: TestClient, session: Session, headers: Headers) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/safeguarding",
        json=record(start_date=str(factories.today())),
        headers=safeguarding(headers),
    )
    assert response.status_code == 201, response.text
    assert response.json()["active"] is True


def test_a_nursery_practitioner_records_a_risk_issue_for_a_child_at_their_nursery(
    client: TestClient, session: Session, headers: Headers
) -> None:
    nursery = factories.nursery_ids()[0]
    child = factories.make_child(session)
    factories.enrol(session, child, nursery)
    response = client.post(
        f"/v1/people/{child.id}/safeguarding",
        json=record(kind="risk_issue", summary="Unexplained bruising noticed at drop-off"),
        headers=headers("nursery_practitioner", "nursery_care", nursery_id=nursery),
    )
    assert response.status_code == 201, response.text
    assert response.json()["active"] is None
    assert response.headers["X-Lawful-Basis"] == "art6-1-e,art9-2-g"
    assert event(session, response).purpose == "nursery_care"


def test_early_help_cannot_record_safeguarding(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/safeguarding",
        json=record(),
        headers=headers("family_worker", "early_help"),
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "purpose_not_permitted"
    assert "X-Lawful-Basis" not in response.headers
    assert not event(session, response).allowed
    assert held(session) == 0


def test_recording_for_an_unknown_person_is_404(client: TestClient, headers: Headers) -> None:
    response = client.post(
        f"/v1/people/{uuid4()}/safeguarding", json=record(), headers=safeguarding(headers)
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


# --- validation ------------------------------------------------------------------------


def test_a_start_date_in_the_future_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/safeguarding",
        json=record(start_date=str(factories.today() + timedelta(days=1))),
        headers=safeguarding(headers),
    )
    assert errors(response) == ["start_date"]
    assert held(session) == 0


def test_an_end_date_before_the_start_date_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    start = factories.today() - timedelta(days=7)
    response = client.post(
        f"/v1/people/{child.id}/safeguarding",
        json=record(start_date=str(start), end_date=str(start - timedelta(days=1))),
        headers=safeguarding(headers),
    )
    assert errors(response) == ["end_date"]
    assert held(session) == 0


def test_an_empty_summary_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/safeguarding",
        json=record(summary="   "),
        headers=safeguarding(headers),
    )
    assert errors(response) == ["summary"]
    assert held(session) == 0


def test_a_summary_over_5000_characters_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/safeguarding",
        json=record(summary="x" * 5001),
        headers=safeguarding(headers),
    )
    assert errors(response) == ["summary"]
    assert held(session) == 0


def test_an_unknown_kind_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/safeguarding",
        json=record(kind="police_report"),
        headers=safeguarding(headers),
    )
    assert errors(response) == ["kind"]
    assert held(session) == 0


def test_a_validation_error_never_echoes_the_summary(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    secret = "Disclosed by the older sibling " + "x" * 5000
    response = client.post(
        f"/v1/people/{child.id}/safeguarding",
        json=record(summary=secret),
        headers=safeguarding(headers),
    )
    assert response.status_code == 422
    assert "Disclosed by the older sibling" not in response.text


# --- reading ---------------------------------------------------------------------------


def test_reading_under_safeguarding_without_a_justification_is_denied(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.get(
        f"/v1/people/{child.id}/safeguarding", headers=headers("family_worker", "safeguarding")
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "justification_required"
    assert response.json()["decision_id"] == response.headers["X-Decision-Id"]
    assert "X-Lawful-Basis" not in response.headers
    audited = event(session, response)
    assert not audited.allowed
    assert audited.reason == "justification_required"


def test_a_justification_under_20_characters_is_denied(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.get(
        f"/v1/people/{child.id}/safeguarding",
        headers=headers("family_worker", "safeguarding", justification="worried about her"),
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "justification_required"


def test_reading_under_safeguarding_with_a_justification_is_allowed_and_flagged_for_review(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_plan(session, child)
    response = client.get(f"/v1/people/{child.id}/safeguarding", headers=safeguarding(headers))
    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert item["summary"] == "Plan agreed at conference"
    assert response.headers["X-Lawful-Basis"] == "art6-1-e,art9-2-g"
    audited = event(session, response)
    assert audited.allowed
    assert (audited.action, audited.resource) == ("read", "safeguarding")
    assert audited.review_required
    # Kept encrypted under the household key (police information is Art 10 data).
    assert audited.justification is not None
    assert WHY not in audited.justification


def test_health_care_cannot_read_safeguarding_records(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_plan(session, child)
    response = client.get(
        f"/v1/people/{child.id}/safeguarding", headers=headers("health_visitor", "health_care")
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "purpose_not_permitted"
    assert event(session, response).reason == "purpose_not_permitted"


def test_a_plan_with_no_end_date_is_active(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    client.post(f"/v1/people/{child.id}/safeguarding", json=record(), headers=safeguarding(headers))
    response = client.get(f"/v1/people/{child.id}/safeguarding", headers=safeguarding(headers))
    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert item["active"] is True
    assert item["summary"] == "Plan agreed at the initial child protection conference"


def test_a_plan_ending_today_is_still_active(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_plan(session, child, end=factories.today())
    response = client.get(f"/v1/people/{child.id}/safeguarding", headers=safeguarding(headers))
    assert response.json()["items"][0]["active"] is True


def test_a_plan_that_ended_yesterday_is_not_active(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_plan(session, child, end=factories.today() - timedelta(days=1))
    response = client.get(f"/v1/people/{child.id}/safeguarding", headers=safeguarding(headers))
    assert response.json()["items"][0]["active"] is False


def test_a_risk_issue_carries_no_active_flag(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_safeguarding_record(session, child, kind="risk_issue")
    response = client.get(f"/v1/people/{child.id}/safeguarding", headers=safeguarding(headers))
    assert response.json()["items"][0]["active"] is None


def test_records_are_listed_newest_start_date_first(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    today = factories.today()
    for days_ago, summary in [(30, "oldest"), (2, "newest"), (10, "middle")]:
        factories.make_safeguarding_record(
            session, child, summary=summary, start=today - timedelta(days=days_ago)
        )
    response = client.get(f"/v1/people/{child.id}/safeguarding", headers=safeguarding(headers))
    assert [i["summary"] for i in response.json()["items"]] == ["newest", "middle", "oldest"]


def test_the_list_pages_with_next_cursor(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    today = factories.today()
    for days_ago in (1, 2, 3):
        factories.make_safeguarding_record(
            session, child, summary=f"{days_ago} days", start=today - timedelta(days=days_ago)
        )
    url = f"/v1/people/{child.id}/safeguarding"
    first = client.get(url, params={"limit": 2}, headers=safeguarding(headers))
    assert [i["summary"] for i in first.json()["items"]] == ["1 days", "2 days"]
    cursor = first.json()["next_cursor"]
    assert cursor
    second = client.get(url, params={"limit": 2, "cursor": cursor}, headers=safeguarding(headers))
    assert second.status_code == 200, second.text
    assert [i["summary"] for i in second.json()["items"]] == ["3 days"]
    assert second.json()["next_cursor"] is None


def test_records_starting_the_same_day_page_without_loss_or_repeat(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    made = {
        str(factories.make_safeguarding_record(session, child, summary=f"r{n}").id)
        for n in range(5)
    }
    url = f"/v1/people/{child.id}/safeguarding"
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(url, params=params, headers=safeguarding(headers)).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)


def _two_pages_cursor(client: TestClient, session: Session, headers: Headers, child: Person) -> str:
    for days_ago in (1, 2):
        factories.make_safeguarding_record(
            session, child, start=factories.today() - timedelta(days=days_ago)
        )
    first = client.get(
        f"/v1/people/{child.id}/safeguarding", params={"limit": 1}, headers=safeguarding(headers)
    )
    cursor = first.json()["next_cursor"]
    assert cursor
    return str(cursor)


def test_a_cursor_does_not_reveal_a_start_date(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    cursor = _two_pages_cursor(client, session, headers, child)
    assert cursor.startswith("v1.")
    raw = base64.urlsafe_b64decode(cursor[3:] + "=" * (-len(cursor[3:]) % 4))
    day = factories.today() - timedelta(days=1)
    for spelling in (day.isoformat(), day.strftime("%Y%m%d")):
        assert spelling.encode() not in raw


def test_a_cursor_issued_for_another_person_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    family = factories.make_family(session)
    child = factories.make_child(session, family=family)
    cursor = _two_pages_cursor(client, session, headers, child)
    sibling = factories.make_child(session, family=family)
    response = client.get(
        f"/v1/people/{sibling.id}/safeguarding",
        params={"cursor": cursor},
        headers=safeguarding(headers),
    )
    assert errors(response) == ["cursor"]


def test_a_cursor_the_service_did_not_issue_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.get(
        f"/v1/people/{child.id}/safeguarding",
        params={"cursor": "bm90LWEtY3Vyc29y"},
        headers=safeguarding(headers),
    )
    assert errors(response) == ["cursor"]


# --- idempotency -----------------------------------------------------------------------


def test_a_retry_with_the_same_idempotency_key_returns_the_first_record(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    h = safeguarding(headers, Idempotency_Key="sg-retry-1")
    first = client.post(f"/v1/people/{child.id}/safeguarding", json=record(), headers=h)
    retry = client.post(f"/v1/people/{child.id}/safeguarding", json=record(), headers=h)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert held(session) == 1


def test_the_same_idempotency_key_with_a_different_body_is_rejected(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    h = safeguarding(headers, Idempotency_Key="sg-retry-2")
    client.post(f"/v1/people/{child.id}/safeguarding", json=record(), headers=h)
    response = client.post(
        f"/v1/people/{child.id}/safeguarding", json=record(kind="assessment"), headers=h
    )
    assert errors(response) == ["Idempotency-Key"]
    assert held(session) == 1


# --- at rest ---------------------------------------------------------------------------


def test_every_column_about_the_child_is_stored_encrypted(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    start, end = factories.today() - timedelta(days=7), factories.today() + timedelta(days=90)
    plain = {
        "kind": "child_protection_plan",
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "summary": "Mother disclosed coercive control",
        "source": "Metropolitan Police",
    }
    response = client.post(
        f"/v1/people/{child.id}/safeguarding", json=plain, headers=safeguarding(headers)
    )
    assert response.status_code == 201, response.text
    stored = (
        session.execute(
            text(
                "SELECT kind, start_date, end_date, summary, source FROM safeguarding_record "
                "WHERE person_id = :p"
            ),
            {"p": _uuid_param(session, child.id)},
        )
        .one()
        ._asdict()
    )
    for column, value in plain.items():
        assert isinstance(stored[column], str), column
        assert stored[column].startswith("v1."), column
        assert value not in stored[column], column


def test_the_idempotency_record_keeps_no_safeguarding_text(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    client.post(
        f"/v1/people/{child.id}/safeguarding",
        json=record(summary="Mother disclosed coercive control", source="Metropolitan Police"),
        headers=safeguarding(headers, Idempotency_Key="sg-at-rest"),
    )
    [body] = session.execute(
        text("SELECT body FROM idempotency_record WHERE key = 'sg-at-rest'")
    ).scalars()
    assert b"coercive" not in bytes(body)
    assert b"Metropolitan" not in bytes(body)


def test_the_idempotency_record_keeps_neither_the_kind_nor_the_dates(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    start = factories.today() - timedelta(days=7)
    client.post(
        f"/v1/people/{child.id}/safeguarding",
        json=record(start_date=str(start), end_date=str(start + timedelta(days=200))),
        headers=safeguarding(headers, Idempotency_Key="sg-kind-dates"),
    )
    [body] = session.execute(
        text("SELECT body FROM idempotency_record WHERE key = 'sg-kind-dates'")
    ).scalars()
    kept = bytes(body)
    for secret in ("child_protection_plan", start.isoformat(), "end_date", "active"):
        assert secret.encode() not in kept, secret


def test_a_replay_returns_the_ids_and_when_it_was_recorded(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    h = safeguarding(headers, Idempotency_Key="sg-replay-shape")
    first = client.post(f"/v1/people/{child.id}/safeguarding", json=record(), headers=h)
    retry = client.post(f"/v1/people/{child.id}/safeguarding", json=record(), headers=h)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == {
        "id": first.json()["id"],
        "person_id": str(child.id),
        "created_at": first.json()["created_at"],
    }


def _uuid_param(session: Session, value: UUID) -> str | UUID:
    """A raw query binds ids as the dialect stores them (SQLite: 32 hex characters)."""
    return value.hex if session.get_bind().dialect.name == "sqlite" else value
