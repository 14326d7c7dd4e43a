"""The published contract: the checked-in OpenAPI document, categories on every field,
and migrations that agree with the models."""

import json
from collections.abc import Callable
from typing import Any

import jsonschema_rs
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.decisions import document
from app.decisions.access import DECLARED
from app.fhir import outcome
from app.main import create_app
from app.models import metadata
from app.platform.categories import CATEGORY_KEY
from app.platform.problems import PROBLEM_JSON
from tests.conftest import ROOT

NOT_PERSONAL = {
    # Problem bodies, the audit trail's own schemas (staff activity and opaque subject
    # ids, never a family's data) and reference data; every other schema tags every field.
    "ProblemBody",
    "VerifyReport",
    "AuditEventRead",
    "AuditPage",
    "AccessLog",
    "AccessLogEntry",
    # The retention sweep's report: counts of what was destroyed, naming no one.
    "SweepRead",
    # Aggregate reports (take-up, impact): counts after disclosure control, no row about
    # anyone (app/reports/schemas.py, REPORT_SCHEMAS).
    "Cell",
    "ReportTable",
    "TakeUpReport",
    "Share",
    "ImpactTable",
    "ImpactReport",
    # FHIR envelopes: a searchset Bundle (its entries' schemas carry the categories), the
    # server's CapabilityStatement, and a refusal.
    "FhirBundle",
    "FhirCapabilityStatement",
    "OperationOutcome",
}
OUTCOME = {"$ref": "#/components/schemas/OperationOutcome"}
FHIR_JSON = "application/fhir+json"


def _openapi() -> dict[str, Any]:
    return create_app().openapi()


def test_the_checked_in_openapi_document_is_what_the_app_serves() -> None:
    served = _openapi()
    checked_in = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    assert checked_in == served, "run `make openapi` (python -m app.openapi) and commit"


def _reference_schema_names() -> set[str]:
    from app.centres.schemas import REFERENCE_SCHEMAS as CENTRE_SCHEMAS
    from app.nurseries.schemas import REFERENCE_SCHEMAS
    from app.sharing.schemas import REFERENCE_SCHEMAS as RECIPIENT_SCHEMAS

    return {model.__name__ for model in (*REFERENCE_SCHEMAS, *RECIPIENT_SCHEMAS, *CENTRE_SCHEMAS)}


def test_every_field_of_every_personal_data_schema_carries_a_category() -> None:
    schemas = _openapi()["components"]["schemas"]
    exempt = NOT_PERSONAL | _reference_schema_names()
    untagged = [
        f"{name}.{field}"
        for name, schema in schemas.items()
        if name not in exempt
        for field, prop in schema.get("properties", {}).items()
        if CATEGORY_KEY not in prop
    ]
    assert untagged == []


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in _openapi()["paths"].items()
        for method, operation in item.items()
    ]


def _header(operation: dict[str, Any], name: str) -> dict[str, Any] | None:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "header" and parameter["name"] == name:
            return parameter
    return None


def test_every_declared_operation_requires_x_purpose_with_the_purposes_it_serves() -> None:
    wrong = []
    for method, path, operation in _operations():
        spec = DECLARED.get(operation["operationId"])
        purpose = _header(operation, "X-Purpose")
        if spec is None:
            if purpose is not None:
                wrong.append(f"{method.upper()} {path}: X-Purpose on an undeclared operation")
            continue
        served = sorted(p.value for p in document.served(spec))
        if (
            purpose is None
            or not purpose["required"]
            or sorted(purpose["schema"]["enum"]) != served
        ):
            wrong.append(f"{method.upper()} {path}")
    assert wrong == []


def test_the_operations_without_x_purpose_are_the_ones_holding_no_personal_data() -> None:
    undeclared = {
        f"{method.upper()} {path}"
        for method, path, operation in _operations()
        if operation["operationId"] not in DECLARED
    }
    assert undeclared == {
        "GET /v1/nurseries",
        "GET /v1/recipients",
        "GET /v1/centres",
        "GET /v1/policy",
        "GET /v1/policy/records-of-processing",
        "GET /fhir/R4/metadata",
        "GET /health/live",
        "GET /metrics",
        "GET /health/ready",
    }


def test_if_match_is_required_on_a_patch_and_on_a_put_once_the_record_exists() -> None:
    found = {}
    for method, path, operation in _operations():
        if_match = _header(operation, "If-Match")
        if if_match is not None:
            found[f"{method.upper()} {path}"] = if_match["required"]
            assert {"412", "428"} <= set(operation["responses"])
    assert found == {
        "PATCH /v1/people/{person_id}": True,
        "PUT /v1/people/{person_id}/special-category": False,
        "PUT /v1/people/{person_id}/circumstances": False,
        "PUT /v1/people/{person_id}/education": False,
    }


def test_creating_posts_take_an_optional_idempotency_key() -> None:
    for method, path, operation in _operations():
        spec = DECLARED.get(operation["operationId"])
        key = _header(operation, "Idempotency-Key")
        if spec is not None and spec.idempotent:
            assert method == "post", path
            assert key is not None, path
            assert key["required"] is False, path
            assert "409" in operation["responses"], path
        else:
            assert key is None, path


def _refusal_body(path: str, response: dict[str, Any]) -> dict[str, Any]:
    """Its documented body: an OperationOutcome under /fhir/, a problem document elsewhere."""
    media = FHIR_JSON if path.startswith("/fhir/") else PROBLEM_JSON
    content: dict[str, Any] = response.get("content", {}).get(media, {})
    return content


def test_every_refusal_documented_has_a_problem_body() -> None:
    bare = [
        f"{method.upper()} {path} {status}"
        for method, path, operation in _operations()
        for status, response in operation["responses"].items()
        if not status.startswith("2")
        and _refusal_body(path, response).get("schema")
        != (OUTCOME if path.startswith("/fhir/") else {"$ref": "#/components/schemas/ProblemBody"})
    ]
    assert bare == []


def test_every_fhir_answer_is_documented_as_fhir_json() -> None:
    wrong = [
        f"{method.upper()} {path} {status}"
        for method, path, operation in _operations()
        if path.startswith("/fhir/")
        for status, response in operation["responses"].items()
        if set(response.get("content", {})) != {FHIR_JSON}
        or "$ref" not in response["content"][FHIR_JSON]["schema"]
    ]
    assert wrong == []


def test_every_operation_documents_the_refusals_of_the_edge_and_the_token() -> None:
    for method, path, operation in _operations():
        statuses = set(operation["responses"])
        assert {"400", "413"} <= statuses, f"{method} {path}"
        if path.startswith(("/v1/", "/fhir/")) and operation.get("security") != []:
            assert {"401", "429", "503"} <= statuses, f"{method} {path}"
            assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
            assert operation["responses"]["429"]["headers"]["Retry-After"]["required"]
            assert operation["responses"]["503"]["headers"]["Retry-After"]["required"]


def test_a_decided_operation_documents_its_denial_and_its_decision_headers() -> None:
    for method, path, operation in _operations():
        if operation["operationId"] not in DECLARED:
            continue
        assert "403" in operation["responses"], f"{method} {path}"
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                headers = response["headers"]
                assert headers["X-Decision-Id"]["required"], f"{method} {path}"
                assert {"X-Lawful-Basis", "X-Withheld-Categories", "Cache-Control"} <= set(headers)


def test_an_operation_naming_a_record_in_its_path_documents_404() -> None:
    missing = [
        f"{method.upper()} {path}"
        for method, path, operation in _operations()
        if "{" in path and "404" not in operation["responses"]
    ]
    assert missing == []


def test_the_versioned_answers_carry_an_etag() -> None:
    tagged = {
        operation["operationId"]
        for _, _, operation in _operations()
        if any("ETag" in r.get("headers", {}) for r in operation["responses"].values())
    }
    assert tagged == {
        "create_family",
        "create_person",
        "read_person",
        "patch_person",
        "read_special_category",
        "write_special_category",
        "read_circumstances",
        "write_circumstances",
        "read_education",
        "write_education",
        "fhir_read_patient",
    }


def test_the_health_routes_need_no_token_and_say_so() -> None:
    paths = _openapi()["paths"]
    assert paths["/health/live"]["get"]["security"] == []
    assert paths["/health/ready"]["get"]["security"] == []
    assert "503" in paths["/health/ready"]["get"]["responses"]


def test_the_document_names_its_server_and_the_bearer_scheme() -> None:
    served = _openapi()
    assert served["servers"] == [{"url": "/", "description": "The host serving this document"}]
    scheme = served["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")


def test_every_documented_refusal_has_an_example_of_its_own_status() -> None:
    for method, path, operation in _operations():
        for status, response in operation["responses"].items():
            if not status.startswith("2"):
                example = _refusal_body(path, response)["example"]
                if path.startswith("/fhir/"):
                    # An OperationOutcome carries no status: its issue type is the status's.
                    assert example["issue"][0]["code"] == outcome.ISSUE_TYPE[int(status)]
                else:
                    assert example["status"] == int(status), f"{method} {path} {status}"


def test_a_405_names_every_method_of_the_path_in_allow(client: TestClient) -> None:
    response = client.options("/v1/people/00000000-0000-4000-8000-000000000001/circumstances")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, PUT"
    assert response.headers["content-type"] == PROBLEM_JSON


def test_every_v1_operation_requires_the_bearer_token() -> None:
    paths = _openapi()["paths"]
    open_ops = [
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        if path.startswith("/v1/")
        for method, operation in operations.items()
        if not operation.get("security")
    ]
    assert open_ops == []


def test_migrations_build_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_a_call_without_a_token_is_401_whatever_its_query_holds(client: TestClient) -> None:
    response = client.get("/v1/invitations?review=1_year&centre=nowhere")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_date_in_a_query_is_iso_8601_text_not_a_timestamp(
    client: TestClient, token: Callable[..., str]
) -> None:
    headers = {
        "Authorization": f"Bearer {token(role='data_protection_officer')}",
        "X-Purpose": "subject_rights",
    }
    response = client.get("/v1/retention/due?before=0", headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].endswith("before")
    assert client.get("/v1/retention/due?before=2030-01-01", headers=headers).status_code == 200


def _json_bodies() -> list[tuple[str, dict[str, Any]]]:
    bodies = []
    for method, path, operation in _operations():
        holders = [("request", operation.get("requestBody", {}))] + [
            (status, response)
            for status, response in operation["responses"].items()
            if status.startswith("2")
        ]
        for what, holder in holders:
            content = holder.get("content", {}).get("application/json")
            if content is not None:
                bodies.append((f"{method.upper()} {path} {what}", content))
    return bodies


def test_every_json_request_and_answer_has_an_example_its_schema_accepts() -> None:
    components = _openapi()["components"]
    wrong = []
    for where, content in _json_bodies():
        if "example" not in content:
            wrong.append(f"{where}: no example")
            continue
        validator = jsonschema_rs.Draft202012Validator(
            {**content["schema"], "components": components}
        )
        if not validator.is_valid(content["example"]):
            wrong.append(f"{where}: the example does not fit its schema")
    assert len(_json_bodies()) > 60
    assert wrong == []


def test_an_example_uses_what_the_schemas_say_of_the_field() -> None:
    paths = _openapi()["paths"]
    created = paths["/v1/people"]["post"]["requestBody"]["content"]["application/json"]
    read = paths["/v1/people/{person_id}"]["get"]["responses"]["200"]["content"]
    assert created["example"]["nhs_number"] == "9990000018"
    # The answer's fields take the request's examples of the same name.
    assert read["application/json"]["example"]["nhs_number"] == "9990000018"
    assert read["application/json"]["example"]["given_name"] == created["example"]["given_name"]
