"""One mapping per resource: the facade and the portability export answer the same
resources, and the document and the CapabilityStatement say what the facade serves."""

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.fhir import capability
from app.main import create_app
from tests.fhir.helpers import HV, entries, valid
from tests.rights.cases import OFFICER
from tests.rights.test_portability import _child_on_consent, _portability

Headers = Callable[..., dict[str, str]]


def _as_in_a_bundle(resource: dict[str, Any]) -> dict[str, Any]:
    """The facade's references (`Type/id`) as an export bundle writes them (`urn:uuid:`)."""
    text = re.sub(r'"(?:Patient|Encounter|RelatedPerson)/([0-9a-f-]{36})"', r'"urn:uuid:\1"',
                  json.dumps(resource))  # fmt: skip
    found: dict[str, Any] = json.loads(text)
    return found


def test_the_export_and_the_facade_answer_the_same_encounter_and_review(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer, child = _child_on_consent(client, session, headers)
    review = client.post(
        f"/v1/people/{child.id}/contacts",
        json={
            "kind": "development_review",
            "occurred_at": datetime.now(UTC).isoformat(),
            "staff_role": "health_visitor",
            "review": "1_year",
            "outcome": "no_concerns",
        },
        headers=headers(*HV),
    )
    assert review.status_code == 201, review.text
    case_id = _portability(client, headers, child, carer)
    exported = client.get(
        f"/v1/subject-requests/{case_id}/export",
        headers={**headers(*OFFICER), "Accept": "application/fhir+json"},
    )
    assert exported.status_code == 200, exported.text
    in_export = {(e["resource"]["resourceType"], e["resource"]["id"]): e["resource"]
                 for e in valid(exported)["entry"]}  # fmt: skip
    facade = [
        *entries(valid(client.get(f"/fhir/R4/Encounter?patient={child.id}", headers=headers(*HV)))),
        *entries(
            valid(client.get(f"/fhir/R4/Observation?patient={child.id}", headers=headers(*HV)))
        ),
    ]
    assert len(facade) == 3
    for resource in facade:
        assert in_export[(resource["resourceType"], resource["id"])] == _as_in_a_bundle(resource)


def test_every_resource_of_the_export_declares_its_uk_core_profile_where_there_is_one(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer, child = _child_on_consent(client, session, headers)
    case_id = _portability(client, headers, child, carer)
    exported = client.get(
        f"/v1/subject-requests/{case_id}/export",
        headers={**headers(*OFFICER), "Accept": "application/fhir+json"},
    )
    for entry in valid(exported)["entry"]:
        resource = entry["resource"]
        kind = resource["resourceType"]
        profile = resource.get("meta", {}).get("profile")
        if kind == "Consent":
            assert profile is None, "UK Core has no Consent profile"
        else:
            assert profile == [f"https://fhir.hl7.org.uk/StructureDefinition/UKCore-{kind}"]


def test_the_openapi_document_lists_every_fhir_route_tagged_fhir() -> None:
    paths = create_app().openapi()["paths"]
    fhir = {path: item["get"]["tags"] for path, item in paths.items() if path.startswith("/fhir/")}
    assert set(fhir) == {
        "/fhir/R4/metadata",
        "/fhir/R4/Patient",
        "/fhir/R4/Patient/{person_id}",
        "/fhir/R4/RelatedPerson",
        "/fhir/R4/Encounter",
        "/fhir/R4/Observation",
        "/fhir/R4/Consent",
        "/fhir/R4/Flag",
    }
    assert all(tags == ["fhir"] for tags in fhir.values())


def test_the_capability_statement_says_exactly_which_routes_are_served() -> None:
    paths = create_app().openapi()["paths"]
    said = set()
    for kind, interactions, params, _ in capability.RESOURCES:
        if "read" in interactions:
            said.add(f"/fhir/R4/{kind}/{{person_id}}")
        said.add(f"/fhir/R4/{kind}")
        query = {
            p["name"] for p in paths[f"/fhir/R4/{kind}"]["get"]["parameters"] if p["in"] == "query"
        }
        assert query == {name for name, _, _ in params} | {"_count", "_offset"}, kind
    assert said == {path for path in paths if path.startswith("/fhir/")} - {"/fhir/R4/metadata"}
