"""The edge of every request, before any work and after the answer.

Before: a request id the trail can keep (the caller's `X-Request-Id` when it is one,
a new one otherwise); a body larger than the limit (the general one, or a route's own: a
document upload's) refused (413) before it is read and before the token is looked at,
whether it declares its length or streams; a query string
refused when it carries a NUL character (no database column can hold one). After: the
request id echoed, and `Cache-Control: no-store` on everything under `/v1` and `/fhir`, where
personal data lives.
"""

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from uuid import uuid4

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.platform import metrics
from app.platform.logs import ACCESS
from app.platform.problems import BadRequest, ContentTooLarge, Internal, Problem, problem_response

FAULTS: Final = logging.getLogger("ieys.faults")
_INTERNAL: Final = Internal()

REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._:-]{1,64}")
"""What the trail keeps as a request id: a caller's id that is anything else is
replaced, never truncated (two callers' ids must not collide)."""
PERSONAL: Final = ("/v1/", "/fhir/")


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


def request_id_of(scope: Scope) -> str:
    sent = _header(scope, b"x-request-id")
    return sent if sent is not None and REQUEST_ID.fullmatch(sent) else uuid4().hex


def _declared_length(scope: Scope) -> int | None:
    declared = _header(scope, b"content-length")
    return (
        int(declared)
        if declared is not None and declared.isascii() and declared.isdigit()
        else None
    )


@dataclass(frozen=True, slots=True)
class RouteLimit:
    """A route that takes a larger body than the general limit (a document upload)."""

    method: str
    path: re.Pattern[str]
    max_body_bytes: int


class Edge:
    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, route_limits: Sequence[RouteLimit] = ()
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.route_limits = tuple(route_limits)

    def _limit(self, scope: Scope) -> int:
        for route in self.route_limits:
            if scope["method"] == route.method and route.path.fullmatch(scope["path"]):
                return route.max_body_bytes
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        personal = scope["path"].startswith(PERSONAL)
        status = 500
        started_answer = False

        async def answer(message: Message) -> None:
            nonlocal status, started_answer
            if message["type"] == "http.response.start":
                started_answer = True
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-Id"] = request_id
                if personal:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            limit = self._limit(scope)
            refused = self._refusal(scope, limit)
            if refused is not None:
                response = problem_response(refused.body(scope["path"]), refused.status)
                await response(scope, receive, answer)
                return
            await self.app(scope, self._limited(receive, limit), answer)
        except Exception as unexpected:
            # Answered here, never re-raised: the server would log the traceback and the
            # message, and a message can quote the values of a refused row. The record
            # names the exception's type only (logs.JsonFormatter).
            FAULTS.error("unexpected error", exc_info=unexpected, extra={"request_id": request_id})
            if not started_answer:
                await problem_response(_INTERNAL.body(scope["path"]), 500)(scope, receive, answer)
        finally:
            _log(scope, state, status, time.perf_counter() - started)

    def _refusal(self, scope: Scope, limit: int) -> Problem | None:
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            return _too_large(limit)
        if b"%00" in scope.get("query_string", b"").lower():
            return BadRequest("The query must not contain a NUL character.")
        return None

    def _limited(self, receive: Receive, limit: int) -> Receive:
        """A body that streams past the limit is refused as it arrives, never held."""
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTP exception: the framework passes it through body parsing
                    # (anything else it would call a malformed body); answered as a
                    # problem like the declared-length case.
                    raise HTTPException(413, _too_large(limit).detail)
            return message

        return limited


def _template(scope: Scope) -> str:
    """The matched route's path template (with its router's prefix), never the path."""
    effective = scope.get("fastapi", {}).get("effective_route_context")
    template = getattr(effective, "path", None) or getattr(scope.get("route"), "path", None)
    return str(template) if template else "unmatched"


def _log(scope: Scope, state: dict[str, Any], status: int, seconds: float) -> None:
    caller = state.get("caller")
    decision_id = state.get("decision_id")
    route = _template(scope)
    metrics.observe_request(scope["method"], route, status, seconds)
    ACCESS.info(
        "request",
        extra={
            "request_id": state["request_id"],
            "method": scope["method"],
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "role": getattr(caller, "role", None),
            "org": getattr(caller, "org", None),
            "decision_id": str(decision_id) if decision_id else None,
        },
    )


def _too_large(limit: int) -> ContentTooLarge:
    return ContentTooLarge(f"The request body is larger than {limit} bytes.")
