"""What the FHIR tests share: validation with `fhir.resources`, and reading the trail."""

from typing import Any
from uuid import UUID

import httpx
from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent

FHIR_JSON = "application/fhir+json"
REDACTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "REDACTED",
    "display": "redacted",
}
HV = ("health_visitor", "health_care")


def valid(response: httpx.Response) -> dict[str, Any]:
    """The body, after checking it is FHIR JSON that the FHIR R4 models accept."""
    assert response.headers["content-type"] == FHIR_JSON, response.text
    body: dict[str, Any] = response.json()
    get_fhir_model_class(body["resourceType"]).model_validate(body)
    return body


def entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    assert bundle["type"] == "searchset"
    return [entry["resource"] for entry in bundle["entry"]]


def event(session: Session, response: httpx.Response) -> AuditEvent:
    decision_id = UUID(response.headers["X-Decision-Id"])
    return session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == decision_id)
    ).scalar_one()
