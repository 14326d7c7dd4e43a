"""The OpenAPI document, told by each operation's declared access.

FastAPI writes the paths and schemas; what it cannot know is said here, once, from the
same `Spec` that the access dependency enforces: which purposes an operation serves
(the `X-Purpose` enum, from the rule tables), which headers it requires, every status
it can answer (each with its `application/problem+json` body), and the headers of its
answers. Nothing here is written per route: a route says what it does in its `Spec`, and
both the service and this document read it.
"""

from collections.abc import Mapping
from typing import Any, Final

from fastapi import FastAPI, routing
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.decisions import examples
from app.decisions.access import DECLARED, From, Spec
from app.fhir import outcome
from app.fhir import schemas as fhir_schemas
from app.platform import problems
from app.platform.idempotency import REPLAYED_HEADER
from app.platform.ratelimit import TooManyRequests
from app.policy import engine
from app.policy.vocabulary import Purpose

PROBLEM_SCHEMA: Final = {"$ref": "#/components/schemas/ProblemBody"}
OUTCOME_SCHEMA: Final = {"$ref": "#/components/schemas/OperationOutcome"}
PERSONAL: Final = ("/v1/", "/fhir/")
"""Paths whose answers may hold personal data: `Cache-Control: no-store`."""
TOKEN_FREE: Final = ("/health/", "/metrics", "/fhir/R4/metadata")
"""Paths answered without a token."""

_PATH_SUBJECTS: Final = frozenset(
    {
        From.PERSON,
        From.HOUSEHOLD,
        From.CASE,
        From.CONSENT,
        From.HOLD,
        From.RELATIONSHIP,
        From.DOCUMENT,
        From.NOTIFICATION,
    }
)
_GONE_SUBJECTS: Final = frozenset(
    {
        From.PERSON,
        From.HOUSEHOLD,
        From.BODY_PERSON,
        From.BODY_SUBJECT,
        From.CONSENT,
        From.QUERY_PERSON,
    }
)
"""Subjects whose record may have been erased or destroyed: the decision is 410."""

_STATUS_TEXT: Final[Mapping[int, str]] = {
    400: "A NUL character in the query",
    401: "Missing, invalid or expired bearer token (`WWW-Authenticate: Bearer`)",
    403: "Denied by the lawful-basis check: `reason` says why, `decision_id` names the audit event",
    404: "No such record",
    409: "A request with the same `Idempotency-Key` is still in flight: retry after "
    "`Retry-After` for its answer",
    410: "The record was erased or destroyed",
    412: "`If-Match` does not match the current `ETag`: read it again",
    413: "The request body is larger than the service accepts (`IEYS_MAX_BODY_BYTES`)",
    415: "The content is not of a type the service accepts",
    422: "Invalid input: each bad field is named in `errors`, never its value",
    428: "`If-Match` is missing",
    429: "Over the caller's rate (`IEYS_RATE_LIMIT_PER_MINUTE`): retry after `Retry-After`",
    503: "The database does not answer, or a change's Art 19 notifications could not be "
    "recorded (`notifications_not_recorded`, nothing changed): retry after `Retry-After`",
}
_PURPOSE_400: Final = "Missing or unknown `X-Purpose`, or a NUL character in the query"

_EXAMPLES: Final[Mapping[int, dict[str, Any]]] = {
    400: problems.BadRequest("X-Purpose is required: one of the purposes of GET /v1/policy").body(),
    401: problems.Unauthenticated("The token has expired").body(),
    403: {
        "type": problems.TYPE_BASE + "purpose_not_permitted",
        "title": "Denied by the lawful-basis check",
        "status": 403,
        "detail": "The caller's role may not use this purpose for this data.",
        "reason": "purpose_not_permitted",
        "decision_id": "0b9f0d0e-3c1f-4b7e-9a57-1c9d2f3e4a5b",
    },
    404: problems.NotFound("No person with this id.").body(),
    409: problems.Conflict("A request with this Idempotency-Key is in progress.").body(),
    410: problems.Gone().body(),
    412: problems.PreconditionFailed("If-Match does not match the current ETag.").body(),
    413: problems.ContentTooLarge("The request body is larger than 1048576 bytes.").body(),
    415: problems.UnsupportedMediaType("The file's bytes are not of the declared type.").body(),
    422: problems.Unprocessable("date_of_birth", "Input should be a valid date").body(),
    428: problems.PreconditionRequired("Send If-Match with the ETag from your last read.").body(),
    429: TooManyRequests("Over the rate limit; retry after Retry-After seconds.").body(),
    503: problems.Unavailable("The database does not answer; try again shortly.").body(),
}


def _header(description: str, *, required: bool, **schema: Any) -> dict[str, Any]:
    return {
        "description": description,
        "required": required,
        "schema": {"type": "string", **schema},
    }


REQUEST_ID: Final = _header(
    "The caller's `X-Request-Id` when it is 1 to 64 of `A-Z a-z 0-9 . _ : -`, a new one "
    "otherwise; recorded with the decision.",
    required=True,
)
NO_STORE: Final = _header(
    "`no-store`: answers under /v1 and /fhir may hold personal data.",
    required=True,
    enum=["no-store"],
)
DECISION_ID: Final = _header(
    "The audit event that recorded the decision.", required=True, format="uuid"
)
DECISION_ID_IF_DECIDED: Final = _header(
    "The audit event that recorded the decision, when one was made before the refusal.",
    required=False,
    format="uuid",
)
LAWFUL_BASIS: Final = _header(
    "On an allowed call, the bases relied on, comma-separated (`art6-1-a`, `art6-1-c`, "
    "`art6-1-e`, `art9-2-a`, `art9-2-f`, `art9-2-g`, `art9-2-h`); absent on a denial.",
    required=False,
)
WITHHELD: Final = _header(
    "Every category of the resource's schema this read may not reach, comma-separated; "
    "absent when nothing was withheld.",
    required=False,
)
ETAG: Final = _header(
    "The resource's version: send it as `If-Match` to change the resource (absent on an "
    "answer replayed for an `Idempotency-Key`: read the resource for its tag).",
    required=True,
)
RETRY_AFTER: Final = {
    "description": "Seconds to wait before retrying.",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}
WWW_AUTHENTICATE: Final = _header("`Bearer`, with the error.", required=True)
REPLAYED: Final = _header(
    "`true` on an answer replayed for a retry with the same `Idempotency-Key`.",
    required=False,
    enum=["true"],
)


def build(app: FastAPI) -> dict[str, Any]:
    """The document the app serves (cached on the app, as FastAPI's own)."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
            servers=[{"url": "/", "description": "The host serving this document"}],
        )
        routes = {
            context.original_route.name: context.original_route
            for context in routing.iter_route_contexts(app.routes)
            if isinstance(context.original_route, APIRoute)
        }
        for path, item in document["paths"].items():
            for method, operation in item.items():
                route = routes[operation["operationId"]]
                _describe(path, method, operation, route, DECLARED.get(route.name))
        _components(document)
        _examples(document)
        app.openapi_schema = document
    return app.openapi_schema


def _describe(
    path: str, method: str, operation: dict[str, Any], route: APIRoute, spec: Spec | None
) -> None:
    token_free = path.startswith(TOKEN_FREE)
    if token_free:
        operation["security"] = []
    parameters = operation.get("parameters", [])
    for parameter in parameters:
        if parameter["in"] == "header":
            _header_parameter(parameter, spec)
        elif parameter["in"] == "query":
            _no_nul(parameter["schema"])
    statuses = _statuses(path, method, operation, route, spec, token_free)
    responses = operation["responses"]
    if 422 not in statuses:
        responses.pop("422", None)
    for status in sorted(statuses):
        declared = route.responses.get(status, {})
        responses[str(status)] = _problem(
            status, declared.get("description") or _text(status, spec), path, spec
        )
    for status, response in responses.items():
        if status.startswith("2"):
            _success(response, path, spec)


def _header_parameter(parameter: dict[str, Any], spec: Spec | None) -> None:
    name = parameter["name"]
    if name == "X-Purpose" and spec is not None:
        parameter["required"] = True
        parameter["schema"] = {"type": "string", "enum": _purposes(spec)}
    elif name == "If-Match" and spec is not None:
        parameter["required"] = spec.if_match_required
        parameter["schema"] = {"type": "string"}
        parameter["description"] += (
            " Missing: 428."
            if spec.if_match_required
            else " Not needed for the first write, which creates the record; required "
            "(428) once it exists."
        )


def served(spec: Spec) -> frozenset[Purpose]:
    """The purposes an operation serves, from the rule tables (also `GET /v1/policy`'s)."""
    found = engine.served_purposes(
        spec.action, spec.categories, record=spec.record, served=spec.served
    )
    for categories in spec.alternatives:
        found |= engine.served_purposes(
            spec.action, categories, record=spec.record, served=spec.served
        )
    return found


NO_NUL: Final = "^[^\\x00]*$"
"""The edge refuses a query carrying a NUL character (400): no column can hold one."""


def _no_nul(schema: dict[str, Any]) -> None:
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "string" and not {"pattern", "enum", "format"} & set(branch):
            branch["pattern"] = NO_NUL


def _purposes(spec: Spec) -> list[str]:
    found = served(spec)
    return [purpose.value for purpose in Purpose if purpose in found]


def _statuses(
    path: str,
    method: str,
    operation: dict[str, Any],
    route: APIRoute,
    spec: Spec | None,
    token_free: bool,
) -> set[int]:
    """Every status the operation can answer besides its success."""
    # The edge refuses a NUL in the query and an oversized body on every path.
    found = {400, 413}
    if operation.get("parameters") or "requestBody" in operation:
        found.add(422)
    if not token_free:
        found |= {401, 429, 503}
    elif route.responses.get(503) is not None:
        found.add(503)
    if spec is not None:
        found.add(403)
        if spec.subject in _PATH_SUBJECTS or spec.nursery:
            found.add(404)
        if spec.subject in (From.BODY_PERSON, From.BODY_SUBJECT) and not spec.invalid_reference:
            found.add(404)
        if spec.subject in _GONE_SUBJECTS and not spec.dry_run:
            found.add(410)
        if spec.also is not None:
            # A person the body names beside the subject may have been erased.
            found.add(410)
        if spec.idempotent:
            found.add(409)
        if spec.takes_if_match:
            found.add(412)
            found.add(428)
    found |= {status for status in route.responses if isinstance(status, int) and status >= 400}
    return found


def _text(status: int, spec: Spec | None) -> str:
    if status == 400 and spec is not None:
        return _PURPOSE_400
    return _STATUS_TEXT[status]


def _problem(status: int, description: str, path: str, spec: Spec | None) -> dict[str, Any]:
    headers: dict[str, Any] = {"X-Request-Id": REQUEST_ID}
    if path.startswith(PERSONAL):
        headers["Cache-Control"] = NO_STORE
    if spec is not None and status not in (400, 401, 413, 429):
        headers["X-Decision-Id"] = DECISION_ID_IF_DECIDED
    if status in (429, 503):
        headers["Retry-After"] = RETRY_AFTER
    elif status == 409 and spec is not None and spec.idempotent:
        headers["Retry-After"] = {**RETRY_AFTER, "required": False}
    if status == 401:
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    example = {**_EXAMPLES[status], "instance": path}
    if outcome.is_fhir(path):
        # Under /fhir/ the same refusal is a FHIR OperationOutcome.
        content = {
            outcome.FHIR_JSON: {
                "schema": OUTCOME_SCHEMA,
                "example": outcome.operation_outcome(example),
            }
        }
    else:
        content = {problems.PROBLEM_JSON: {"schema": PROBLEM_SCHEMA, "example": example}}
    return {"description": description, "headers": headers, "content": content}


def _success(response: dict[str, Any], path: str, spec: Spec | None) -> None:
    headers: dict[str, Any] = {"X-Request-Id": REQUEST_ID}
    if path.startswith(PERSONAL):
        headers["Cache-Control"] = NO_STORE
    if spec is not None:
        headers["X-Decision-Id"] = DECISION_ID
        headers["X-Lawful-Basis"] = LAWFUL_BASIS
        headers["X-Withheld-Categories"] = WITHHELD
        if spec.versioned:
            # A replayed create answers the first call's body, without its tag.
            headers["ETag"] = {**ETAG, "required": not spec.idempotent}
        if spec.idempotent:
            headers[REPLAYED_HEADER] = REPLAYED
    response["headers"] = {**response.get("headers", {}), **headers}
    for content in response.get("content", {}).values():
        schema = content.get("schema", {})
        if "$ref" in schema:
            # A route answering its own media type (FHIR's) names its schema by reference;
            # the framework's `type: string` for such a response class is not the body's.
            content["schema"] = {"$ref": schema["$ref"]}


def _components(document: dict[str, Any]) -> None:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["ProblemBody"] = problems.ProblemBody.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    schemas.update(fhir_schemas.SCHEMAS)
    schemas.update(fhir_schemas.ENVELOPES)
    # Every 422 is a problem document: FastAPI's own validation schema is never sent.
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)


def _examples(document: dict[str, Any]) -> None:
    """A JSON request body and a JSON answer without an example get one made from their
    schema (`app.decisions.examples`)."""
    maker = examples.Maker(document.get("components", {}).get("schemas", {}))
    for item in document["paths"].values():
        for operation in item.values():
            bodies = [(operation.get("requestBody", {}), True)] + [
                (response, False)
                for status, response in operation["responses"].items()
                if status.startswith("2")
            ]
            for holder, request in bodies:
                content = holder.get("content", {}).get("application/json")
                if content is None or "example" in content or "examples" in content:
                    continue
                made = maker.example(content.get("schema", {}), request=request)
                if made is not None:
                    content["example"] = made
