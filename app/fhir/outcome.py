"""A problem as a FHIR `OperationOutcome`: what every refusal under /fhir/R4 answers.

The same refusal as on /v1, the same status, told the FHIR way: one issue (one per bad
field for a 422), its FHIR issue type from the status, the service's problem code (for
a denial, the decision's `reason`) in `details`, the text in `diagnostics`, and the
decision's id in an extension. Like the problem body it comes from, it names the field
at fault, never a value.
"""

from collections.abc import Mapping
from typing import Any, Final

FHIR_JSON: Final = "application/fhir+json"
FHIR_PREFIX: Final = "/fhir/"
PROBLEM_SYSTEM: Final = "https://ieys.camden.gov.uk/problems"
DECISION_EXTENSION: Final = "https://ieys.camden.gov.uk/fhir/StructureDefinition/decision-id"

ISSUE_TYPE: Final[Mapping[int, str]] = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    412: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "invalid",
    428: "required",
    429: "throttled",
    500: "exception",
    503: "transient",
}


def operation_outcome(problem: Mapping[str, Any]) -> dict[str, Any]:
    """The problem body (RFC 9457, as `app.platform.problems` makes it) as an outcome."""
    status = int(problem["status"])
    code = str(problem["type"]).rsplit("/", 1)[-1]
    details = {"coding": [{"system": PROBLEM_SYSTEM, "code": code}], "text": problem["title"]}
    kind = ISSUE_TYPE.get(status, "processing")
    errors = problem.get("errors") or []
    issues: list[dict[str, Any]] = [
        {
            "severity": "error",
            "code": kind,
            "details": details,
            "diagnostics": f"{error['field']}: {error['message']}",
        }
        for error in errors
    ]
    if not issues:
        issue: dict[str, Any] = {"severity": "error", "code": kind, "details": details}
        if problem.get("detail"):
            issue["diagnostics"] = problem["detail"]
        issues.append(issue)
    outcome: dict[str, Any] = {"resourceType": "OperationOutcome", "issue": issues}
    if problem.get("decision_id"):
        outcome["extension"] = [
            {"url": DECISION_EXTENSION, "valueString": str(problem["decision_id"])}
        ]
    return outcome


def is_fhir(path: str | None) -> bool:
    return bool(path) and str(path).startswith(FHIR_PREFIX)
