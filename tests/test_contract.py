"""The published contract: the checked-in OpenAPI document, categories on every field,
and migrations that agree with the models."""

import json
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from app.main import create_app
from app.models import metadata
from app.platform.categories import CATEGORY_KEY
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
    "HTTPValidationError",
    "ValidationError",
}


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
        if name not in exempt and not name.startswith("Address")
        for field, prop in schema.get("properties", {}).items()
        if CATEGORY_KEY not in prop
    ]
    assert untagged == []


def test_every_operation_touching_personal_data_documents_x_purpose() -> None:
    paths = _openapi()["paths"]
    missing = []
    for path, operations in paths.items():
        if not path.startswith("/v1/") or path.startswith(
            ("/v1/policy", "/v1/nurseries", "/v1/recipients", "/v1/centres")
        ):
            continue
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if "X-Purpose" not in names:
                missing.append(f"{method.upper()} {path}")
    assert missing == []


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
