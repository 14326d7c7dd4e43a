"""One keyset pager serves every list: a cursor walks the whole list once, and a cursor
the service did not issue is a 422 naming `cursor`, never a database error."""

import base64
from collections.abc import Callable

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.platform.pagination import cursor_of
from tests import factories

Headers = Callable[..., dict[str, str]]
OFFICER = ("data_protection_officer", "subject_rights")


def _raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


NOT_OURS = [
    _raw("9" * 100),
    _raw("²"),
    _raw(orjson.dumps([1]).decode()),
    _raw(orjson.dumps(["1", "2", "3"]).decode()),
    "not base64 at all!",
]
NOT_A_NUMBER = [_raw(orjson.dumps(["9" * 100]).decode()), _raw(orjson.dumps(["²"]).decode())]


@pytest.mark.parametrize("cursor", NOT_OURS)
@pytest.mark.parametrize(
    ("path", "role_purpose"),
    [
        ("/v1/audit", OFFICER),
        ("/v1/reviews/safeguarding", OFFICER),
        ("/v1/subject-requests", OFFICER),
        ("/v1/nurseries", OFFICER),
        ("/v1/recipients", OFFICER),
        ("/v1/centres", OFFICER),
    ],
)
def test_a_cursor_the_service_did_not_issue_is_422_on_every_list(
    client: TestClient,
    headers: Headers,
    path: str,
    role_purpose: tuple[str, str],
    cursor: str,
) -> None:
    response = client.get(path, params={"cursor": cursor}, headers=headers(*role_purpose))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"].endswith("cursor")


@pytest.mark.parametrize("cursor", NOT_A_NUMBER)
@pytest.mark.parametrize("path", ["/v1/audit", "/v1/reviews/safeguarding"])
def test_a_cursor_naming_no_event_number_is_422(
    client: TestClient, headers: Headers, path: str, cursor: str
) -> None:
    """Events are numbered: 100 nines or a superscript two name none (and would overflow
    a PostgreSQL bigint)."""
    response = client.get(path, params={"cursor": cursor}, headers=headers(*OFFICER))
    assert response.status_code == 422, response.text


def test_a_date_cursor_outside_the_calendar_is_422(client: TestClient, headers: Headers) -> None:
    cursor = cursor_of(["2026-02-30", "00000000-0000-0000-0000-000000000000"])
    response = client.get(
        "/v1/retention/due",
        params={"before": "2027-01-01", "cursor": cursor},
        headers=headers(*OFFICER),
    )
    assert response.status_code == 422


def test_the_audit_list_walks_every_event_once_newest_first(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    for _ in range(5):
        client.get(f"/v1/people/{child.id}", headers=headers("health_visitor", "health_care"))
    seen: list[str] = []
    when: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", "subject_id": str(child.id)}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/audit", params=params, headers=headers(*OFFICER))
        assert page.status_code == 200, page.text
        body = page.json()
        seen += [item["decision_id"] for item in body["items"]]
        when += [item["occurred_at"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5
    assert len(set(seen)) == 5
    assert when == sorted(when, reverse=True)
