"""Helpers for walking a subject request through its case over HTTP."""

from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent

Headers = Callable[..., dict[str, str]]
OFFICER = ("data_protection_officer", "subject_rights")


def open_case(
    client: TestClient,
    headers: Headers,
    subject_id: UUID,
    *,
    type: str = "access",
    requester_id: UUID | None = None,
    received_at: str | None = None,
    details: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": type,
        "subject_id": str(subject_id),
        "requester_id": str(requester_id or subject_id),
    }
    if received_at is not None:
        body["received_at"] = received_at
    if details is not None:
        body["details"] = details
    response = client.post("/v1/subject-requests", json=body, headers=headers(*OFFICER))
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()
    return case


def decide(
    client: TestClient,
    headers: Headers,
    case_id: str,
    *,
    outcome: str = "fulfilled",
    reason: str = "Identity verified; request answered in full.",
    exempt: Iterable[str] = (),
) -> Response:
    return client.post(
        f"/v1/subject-requests/{case_id}/decide",
        json={"outcome": outcome, "reason": reason, "exempt_categories": list(exempt)},
        headers=headers(*OFFICER),
    )


def event(session: Session, decision_id: str) -> AuditEvent:
    return session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(decision_id))
    ).scalar_one()
