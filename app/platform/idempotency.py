"""`Idempotency-Key` on creates: a retry returns the first result and creates nothing.

The record is written in the same transaction as the resource it describes, so a
create and its idempotency record commit together or not at all.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from pydantic import BaseModel
from sqlalchemy import DateTime, Integer, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.responses import Response

from app.auth.deps import CallerDep
from app.platform.db import Base, SessionDep, utcnow
from app.platform.problems import Unprocessable


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_record"

    caller_sub: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(300))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Replay(Exception):
    """Raised to answer a retry with the stored response of the first request."""

    def __init__(self, response: Response) -> None:
        super().__init__("replayed")
        self.response = response


@dataclass(slots=True)
class Idempotency:
    key: str | None
    caller_sub: str
    method: str
    path: str
    request_hash: str

    def remember(self, session: Session, status_code: int, result: BaseModel) -> None:
        if self.key is None:
            return
        session.add(
            IdempotencyRecord(
                caller_sub=self.caller_sub,
                key=self.key,
                method=self.method,
                path=self.path,
                request_hash=self.request_hash,
                status_code=status_code,
                body=result.model_dump_json(exclude_unset=True).encode(),
            )
        )


async def _body_hash(request: Request) -> str:
    return hashlib.sha256(await request.body()).hexdigest()


async def idempotency(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="A client-chosen key: a retry with the same key and body returns "
            "the first result and creates nothing new.",
        ),
    ] = None,
) -> Idempotency:
    request_hash = await _body_hash(request)
    state = Idempotency(
        key=idempotency_key,
        caller_sub=caller.sub,
        method=request.method,
        path=request.url.path,
        request_hash=request_hash,
    )
    if idempotency_key is None:
        return state
    stored = session.execute(
        select(IdempotencyRecord).where(
            IdempotencyRecord.caller_sub == caller.sub, IdempotencyRecord.key == idempotency_key
        )
    ).scalar_one_or_none()
    if stored is None:
        return state
    if stored.request_hash != request_hash or stored.path != state.path:
        raise Unprocessable("Idempotency-Key", "this key was already used for a different request")
    raise Replay(
        Response(
            content=stored.body,
            status_code=stored.status_code,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    )


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]


async def on_replay(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replay)
    return exc.response
