"""RFC 9457 problem details: one base error, one set of handlers.

Domain code raises `Problem` subclasses, never `HTTPException`. Bodies name the
problem and the offending field, never a value that could be personal data.
"""

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final

import orjson
import psycopg
from fastapi import FastAPI, Request, routing
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import compile_path

from app.fhir import outcome

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://ieys.camden.gov.uk/problems/"


class Problem(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.code,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class BadRequest(Problem):
    status = 400
    code = "bad_request"
    title = "Bad request"


class Unauthenticated(Problem):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"

    def __init__(self, detail: str) -> None:
        super().__init__(
            detail,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


class Forbidden(Problem):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(Problem):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(Problem):
    status = 409
    code = "conflict"
    title = "Conflict"


class Gone(Problem):
    status = 410
    code = "gone"
    title = "The record was erased or destroyed"


class PreconditionFailed(Problem):
    status = 412
    code = "stale_etag"
    title = "The resource changed since it was read"


class PreconditionRequired(Problem):
    status = 428
    code = "if_match_required"
    title = "If-Match is required to change this resource"


class Unprocessable(Problem):
    """A domain rule rejects otherwise well-formed input: names the field, never its value."""

    status = 422
    code = "validation_failed"
    title = "The request is not valid"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(
            f"{field}: {message}",
            extra={"errors": [{"field": field, "message": message}]},
        )


class ContentTooLarge(Problem):
    status = 413
    code = "content_too_large"
    title = "Content too large"


class UnsupportedMediaType(Problem):
    status = 415
    code = "unsupported_media_type"
    title = "This type of content is not accepted"


class Unavailable(Problem):
    status = 503
    code = "unavailable"
    title = "Service unavailable"


class Internal(Problem):
    """A fault of ours: the body says no more than that (nothing of the cause)."""

    status = 500
    code = "internal_error"
    title = "Internal server error"


class ProblemBody(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(examples=[TYPE_BASE + "purpose_not_permitted"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    reason: str | None = Field(
        default=None, description="For a 403 decision: why the lawful-basis check denied."
    )
    decision_id: str | None = Field(
        default=None, description="The audit event that recorded the decision."
    )
    errors: list[dict[str, str]] | None = Field(
        default=None, description="For a 422: each bad field and what is wrong with it."
    )


def problem_response(
    body: Mapping[str, Any], status: int, headers: Mapping[str, str] | None = None
) -> Response:
    """The problem document; under /fhir/ (the body's `instance` is the request's path),
    the same problem as a FHIR `OperationOutcome`."""
    if outcome.is_fhir(body.get("instance")):
        return Response(
            content=orjson.dumps(outcome.operation_outcome(body)),
            status_code=status,
            media_type=outcome.FHIR_JSON,
            headers=dict(headers or {}),
        )
    return Response(
        content=orjson.dumps(body),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=dict(headers or {}),
    )


def _decision_headers(request: Request) -> dict[str, str]:
    decision_id = getattr(request.state, "decision_id", None)
    return {"X-Decision-Id": str(decision_id)} if decision_id else {}


def _validation_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        # The message only: pydantic's "input" would echo personal data back.
        entry = {"field": ".".join(loc) or "body", "message": str(error.get("msg", ""))}
        # The body is validated for the endpoint and for its access dependency alike:
        # each problem is named once.
        if entry not in out:
            out.append(entry)
    return out


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    headers = {**_decision_headers(request), **exc.headers}
    return problem_response(exc.body(request.url.path), exc.status, headers)


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc.errors())
    body = {
        "type": TYPE_BASE + "validation_failed",
        "title": "The request is not valid",
        "status": 422,
        "detail": "; ".join(f"{e['field']}: {e['message']}" for e in errors),
        "instance": request.url.path,
        "errors": errors,
    }
    return problem_response(body, 422, _decision_headers(request))


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == ContentTooLarge.status:
        too_large = ContentTooLarge(str(exc.detail))
        return problem_response(too_large.body(request.url.path), too_large.status)
    body = {
        "type": TYPE_BASE + f"http_{exc.status_code}",
        "title": str(exc.detail),
        "status": exc.status_code,
        "instance": request.url.path,
    }
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return problem_response(body, exc.status_code, headers)


def _allowed_methods(request: Request) -> str:
    """RFC 9110 15.5.6: `Allow` lists every method the resource supports. Starlette names
    only the first route that matched the path; a path may have one route per method."""
    path = request.url.path
    methods: set[str] = set()
    for context in routing.iter_route_contexts(request.app.routes):
        template = context.path
        supported = getattr(context.original_route, "methods", None)
        if template and supported and compile_path(template)[0].fullmatch(path):
            methods |= set(supported)
    return ", ".join(sorted(methods))


RETRY_AFTER_SECONDS: Final = 5
"""How long a caller should wait before retrying when the database does not answer."""


UNAVAILABLE: Final = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeout,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
"""What a database that is down, restarting or refusing connections raises: at connect,
mid-query, at commit, or waiting for a pooled connection. psycopg's own classes for a
call that reaches the driver without SQLAlchemy's wrapping."""


def database_unavailable(exc: BaseException) -> bool:
    """The database is down, restarting or refusing connections (not a bug of ours)."""
    if isinstance(exc, UNAVAILABLE):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


async def _on_database(request: Request, exc: Exception) -> Response:
    """Answered here, inside the application, so the answer passes the edge like any
    other (request id, no-store, the access line with the status sent) and nothing
    re-raises it to the server, whose traceback would quote the database's message."""
    if not database_unavailable(exc):
        raise exc
    unavailable = Unavailable("The database does not answer; try again shortly.")
    return problem_response(
        unavailable.body(request.url.path),
        unavailable.status,
        {**_decision_headers(request), "Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    if database_unavailable(exc):
        return await _on_database(request, exc)
    return problem_response(Internal().body(request.url.path), Internal.status)


def install(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    for unavailable in (SQLAlchemyError, psycopg.Error):
        app.add_exception_handler(unavailable, _on_database)
    app.add_exception_handler(Exception, _on_unexpected)
