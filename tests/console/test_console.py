"""The officer's console: sign-in, its cookie and headers, and each page and form going
through the same decision (and audit) as `/v1`."""

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.console import router as console_router
from app.platform.settings import get_settings
from app.retention.models import LegalHold
from app.rights.models import SubjectRequest
from tests import factories
from tests.console.conftest import csrf_of
from tests.rights.cases import Headers, open_case

JUSTIFICATION = "Injuries seen at today's home visit; referring to social care"


def events(session: Session, resource: str) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.resource == resource).order_by(AuditEvent.id)
        )
    )


def test_a_page_without_a_session_sends_the_browser_to_sign_in(
    browser_client: TestClient,
) -> None:
    response = browser_client.get("/console/requests", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in"


def test_the_session_cookie_is_secure_http_only_and_strict(browser_client: TestClient) -> None:
    page = browser_client.get("/console/sign-in")
    signed = browser_client.post(
        "/console/sign-in", data={"csrf": csrf_of(page.text)}, follow_redirects=False
    )
    cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith("ieys_console="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly"} <= attributes
    assert "samesite=strict" in cookie.lower()
    assert "data_protection_officer" not in cookie


def test_a_sign_in_without_the_forms_csrf_token_is_refused(browser_client: TestClient) -> None:
    browser_client.get("/console/sign-in")
    refused = browser_client.post("/console/sign-in", data={"csrf": "guessed"})
    assert refused.status_code == 400
    assert browser_client.get("/console", follow_redirects=False).status_code == 303


def test_the_development_sign_in_is_refused_in_production(
    browser_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = browser_client.get("/console/sign-in")
    production = get_settings().model_copy(update={"environment": "production"})
    monkeypatch.setattr(console_router, "get_settings", lambda: production)
    refused = browser_client.post(
        "/console/sign-in", data={"csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert refused.status_code == 404
    assert "ieys_console=" not in refused.headers.get("set-cookie", "")


def test_every_page_sends_a_strict_content_security_policy(officer: TestClient) -> None:
    for path in ("/console", "/console/requests", "/console/retention", "/console/audit"):
        response = officer.get(path)
        assert response.status_code == 200, path
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy
        assert "'unsafe-inline'" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["Cache-Control"] == "no-store"


def test_the_queue_puts_the_overdue_request_first_and_marks_it(
    officer: TestClient, session: Session, headers: Headers
) -> None:
    late, recent = factories.make_child(session), factories.make_child(session)
    received = (factories.now() - timedelta(days=50)).isoformat()
    overdue = open_case(officer, headers, late.id, received_at=received)
    on_time = open_case(officer, headers, recent.id)
    page = officer.get("/console/requests").text
    assert page.index(overdue["id"]) < page.index(on_time["id"])
    assert "Overdue" in page


def test_pausing_and_resuming_from_the_case_page_is_decided_and_audited(
    officer: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    case = open_case(officer, headers, child.id)
    page = officer.get(f"/console/requests/{case['id']}")
    paused = officer.post(
        f"/console/requests/{case['id']}/pause",
        data={"csrf": csrf_of(page.text), "purpose": "subject_rights", "reason": "Awaiting ID"},
        follow_redirects=False,
    )
    assert paused.status_code == 303
    assert session.get(SubjectRequest, UUID(case["id"])).status == "paused"  # type: ignore[union-attr]
    resumed = officer.post(
        f"/console/requests/{case['id']}/resume",
        data={"csrf": csrf_of(page.text), "purpose": "subject_rights", "reason": "ID arrived"},
    )
    assert resumed.status_code == 200
    assert "The request was resumed" in resumed.text
    trail = [e for e in events(session, "subject_request") if e.subject_id == child.id]
    assert [e.purpose for e in trail][-2:] == ["subject_rights", "subject_rights"]
    assert all(e.actor_role == "data_protection_officer" for e in trail)


def test_a_form_without_the_sessions_csrf_token_changes_nothing(
    officer: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    case = open_case(officer, headers, child.id)
    refused = officer.post(
        f"/console/requests/{case['id']}/pause",
        data={"csrf": "not-this-sessions", "purpose": "subject_rights", "reason": "x"},
    )
    assert refused.status_code == 400
    session.expire_all()
    assert session.get(SubjectRequest, UUID(case["id"])).status == "open"  # type: ignore[union-attr]


def test_a_form_declaring_a_purpose_the_rules_refuse_is_denied_by_the_guard(
    officer: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    case = open_case(officer, headers, child.id)
    page = officer.get(f"/console/requests/{case['id']}")
    denied = officer.post(
        f"/console/requests/{case['id']}/pause",
        data={"csrf": csrf_of(page.text), "purpose": "legal_claims", "reason": "x"},
    )
    assert denied.status_code == 403
    assert "purpose_not_permitted" in denied.text
    refusal = events(session, "subject_request")[-1]
    assert refusal.allowed is False
    assert refusal.purpose == "legal_claims"


def test_a_decision_with_no_reason_shows_the_apis_error_and_changes_nothing(
    officer: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    case = open_case(officer, headers, child.id)
    page = officer.get(f"/console/requests/{case['id']}")
    invalid = officer.post(
        f"/console/requests/{case['id']}/decide",
        data={"csrf": csrf_of(page.text), "purpose": "subject_rights", "outcome": "fulfilled"},
    )
    assert invalid.status_code == 422
    assert "There is a problem" in invalid.text
    session.expire_all()
    assert session.get(SubjectRequest, UUID(case["id"])).status == "open"  # type: ignore[union-attr]


def test_deciding_an_access_request_offers_its_package_for_download(
    officer: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    case = open_case(officer, headers, child.id)
    page = officer.get(f"/console/requests/{case['id']}")
    decided = officer.post(
        f"/console/requests/{case['id']}/decide",
        data={
            "csrf": csrf_of(page.text),
            "purpose": "subject_rights",
            "outcome": "fulfilled",
            "reason": "Identity verified; answered in full",
        },
    )
    assert "The request was decided" in decided.text
    package = officer.get(f"/console/requests/{case['id']}/export")
    assert package.status_code == 200
    assert "attachment" in package.headers["Content-Disposition"]
    assert package.json()["subject_id"] == str(child.id)


def test_an_override_is_reviewed_from_the_reviews_page(
    officer: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    read = officer.get(
        f"/v1/people/{child.id}",
        headers=headers("family_worker", "safeguarding", justification=JUSTIFICATION),
    )
    decision_id = read.headers["X-Decision-Id"]
    page = officer.get("/console/reviews")
    assert JUSTIFICATION.replace("'", "&#39;") in page.text
    reviewed = officer.post(
        f"/console/reviews/{decision_id}",
        data={"csrf": csrf_of(page.text), "purpose": "subject_rights", "outcome": "appropriate"},
    )
    assert reviewed.status_code == 200
    assert decision_id not in reviewed.text


def test_a_sweep_preview_destroys_nothing(officer: TestClient, session: Session) -> None:
    child = factories.make_child(session)
    page = officer.get("/console/retention")
    preview = officer.post(
        "/console/retention/preview",
        data={"csrf": csrf_of(page.text), "purpose": "subject_rights"},
    )
    assert preview.status_code == 200
    assert "nothing was destroyed" in preview.text
    assert "Households examined" in preview.text
    session.expire_all()
    assert session.get(type(child), child.id) is not None
    (dry_run,) = [e for e in events(session, "retention_sweep") if e.allowed]
    assert dry_run.action == "read"


def test_a_legal_hold_is_placed_and_released_from_the_retention_page(
    officer: TestClient, session: Session
) -> None:
    child = factories.make_child(session)
    page = officer.get("/console/retention")
    placed = officer.post(
        "/console/holds",
        data={
            "csrf": csrf_of(page.text),
            "purpose": "legal_claims",
            "subject_id": str(child.id),
            "reason": "Care proceedings: records needed by the court",
        },
    )
    assert "The legal hold was placed" in placed.text
    hold = session.scalars(select(LegalHold).where(LegalHold.subject_id == child.id)).one()
    released = officer.post(
        f"/console/holds/{hold.id}/release",
        data={"csrf": csrf_of(placed.text), "purpose": "legal_claims"},
    )
    assert "The legal hold was released" in released.text
    session.expire_all()
    assert session.get(LegalHold, hold.id).released_at is not None  # type: ignore[union-attr]


def test_the_audit_page_shows_the_verified_trail_and_a_persons_access_log(
    officer: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    officer.get(f"/v1/people/{child.id}", headers=headers("health_visitor", "health_care"))
    page = officer.get("/console/audit", params={"person_id": str(child.id)})
    assert page.status_code == 200
    assert "The trail is intact" in page.text
    assert "health_visitor (RV3)" in page.text


def test_a_notification_to_send_by_hand_is_closed_from_its_page(
    officer: TestClient, session: Session, headers: Headers
) -> None:
    from tests.notifications.helpers import share

    child = factories.make_child(session, given_name="Jon")
    share(officer, headers, child, "identity")
    patched = officer.patch(
        f"/v1/people/{child.id}",
        json={"given_name": "John"},
        headers=headers("health_visitor", "health_care", If_Match='"1"'),
    )
    assert patched.status_code == 200
    page = officer.get("/console/notifications")
    assert "Tell childrens_social_care of the rectification of identity" in page.text
    notice_id: Any = page.text.split("/console/notifications/")[1].split("/close")[0]
    closed = officer.post(
        f"/console/notifications/{notice_id}/close",
        data={"csrf": csrf_of(page.text), "purpose": "subject_rights", "reason": "Sent by post"},
    )
    assert "The notification was closed" in closed.text
    assert "No recipient is waiting" in closed.text


def test_no_console_page_shares_its_name_with_an_operation_of_the_api() -> None:
    from fastapi.routing import APIRoute

    from app.decisions.access import DECLARED
    from app.main import create_app

    app = create_app()
    console = {route.name for route in console_router.router.routes if isinstance(route, APIRoute)}
    documented = {
        op["operationId"] for path in app.openapi()["paths"].values() for op in path.values()
    }
    assert not console & (documented | set(DECLARED))
