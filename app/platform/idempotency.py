"""`Idempotency-Key` on creates: a retry returns the first result and creates nothing.

The record is written in the same transaction as the resource it describes, so a
create and its idempotency record commit together or not at all. The stored response
is encrypted (a key derived from IEYS_ENCRYPTION_KEY for this use only) and kept for
24 hours: a retry comes within minutes, and a copy of personal data must not outlive
its purpose (an erased person's create leaves at most a day-old, encrypted copy).
"""

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, cast
from uuid import UUID

from fastapi import Depends, Header, Request
from pydantic import BaseModel
from sqlalchemy import Connection, DateTime, Integer, LargeBinary, String, Table, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.responses import Response

from app.auth.deps import CallerDep
from app.platform.crypto import FieldCipher, get_key_ring
from app.platform.db import Base, SessionDep, as_utc, utcnow
from app.platform.problems import Unprocessable

RETENTION = timedelta(hours=24)


def _cipher() -> FieldCipher:
    return get_key_ring().service_cipher("idempotency")


def _aad(caller_sub: str, key: str) -> str:
    return f"idempotency_record:{caller_sub}:{key}"


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
        body = result.model_dump_json(exclude_unset=True)
        sealed = _cipher().encrypt(body, aad=_aad(self.caller_sub, self.key))
        session.add(
            IdempotencyRecord(
                caller_sub=self.caller_sub,
                key=self.key,
                method=self.method,
                path=self.path,
                request_hash=self.request_hash,
                status_code=status_code,
                body=sealed.encode(),
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
    if stored is not None and as_utc(stored.created_at) < utcnow() - RETENTION:
        # Past its day: forgotten, and the key may be used afresh.
        session.delete(stored)
        session.flush()
        stored = None
    if stored is None:
        return state
    if stored.request_hash != request_hash or stored.path != state.path:
        raise Unprocessable("Idempotency-Key", "this key was already used for a different request")
    raise Replay(
        Response(
            content=_cipher().decrypt(stored.body.decode(), aad=_aad(caller.sub, idempotency_key)),
            status_code=stored.status_code,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    )


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]


async def on_replay(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replay)
    return exc.response


_UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def forget_subjects(connection: Connection, subject_ids: Sequence[UUID]) -> int:
    """Erasure and destruction reach stored responses too: any that names a subject
    goes. The table holds a day of creates at most, so reading it whole is cheap."""
    table = cast(Table, IdempotencyRecord.__table__)
    connection.execute(delete(table).where(table.c.created_at < utcnow() - RETENTION))
    if not subject_ids:
        return 0
    wanted = {str(s) for s in subject_ids}
    cipher = _cipher()
    doomed = [
        (row.caller_sub, row.key)
        for row in connection.execute(select(table.c.caller_sub, table.c.key, table.c.body))
        if wanted.intersection(
            _UUID_TEXT.findall(
                cipher.decrypt(bytes(row.body).decode(), aad=_aad(row.caller_sub, row.key))
            )
        )
    ]
    for caller_sub, key in doomed:
        connection.execute(
            delete(table).where(table.c.caller_sub == caller_sub, table.c.key == key)
        )
    return len(doomed)
