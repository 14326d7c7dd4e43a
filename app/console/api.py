"""The console calls `/v1` like any other client, in process: the same token check, the
same lawful-basis decision and the same audit event for every page and form. The
console decides nothing itself."""

from dataclasses import dataclass
from typing import Any, Final

import httpx
from fastapi import Request

from app.console.session import ConsoleSession

BASE: Final = "http://console.internal"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any
    headers: httpx.Headers

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def problem(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) and not self.ok else {}


async def call(
    request: Request,
    session: ConsoleSession,
    method: str,
    path: str,
    *,
    purpose: str | None,
    json: Any = None,
    params: dict[str, Any] | None = None,
) -> Answer:
    headers = {"Authorization": f"Bearer {session.token}", "Accept": "application/json"}
    if purpose:
        headers["X-Purpose"] = purpose
    request_id = request.headers.get("x-request-id")
    if request_id:
        headers["X-Request-Id"] = request_id
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        response = await client.request(
            method,
            path,
            json=json,
            params={k: v for k, v in (params or {}).items() if v not in (None, "")},
            headers=headers,
        )
    body: Any = None
    if response.content and "json" in response.headers.get("content-type", ""):
        body = response.json()
    return Answer(response.status_code, body, response.headers)


async def every(
    request: Request,
    session: ConsoleSession,
    path: str,
    *,
    purpose: str,
    params: dict[str, Any] | None = None,
    most: int = 2000,
) -> tuple[list[dict[str, Any]], Answer]:
    """Every item of a paged list (up to `most`), and the last answer."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        answer = await call(
            request,
            session,
            "GET",
            path,
            purpose=purpose,
            params={**(params or {}), "limit": 200, "cursor": cursor},
        )
        if not answer.ok:
            return items, answer
        items.extend(answer.body["items"])
        cursor = answer.body.get("next_cursor")
        if cursor is None or len(items) >= most:
            return items, answer
