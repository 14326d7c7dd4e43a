"""`Idempotency-Key` on creates: a retry returns the first result and creates nothing.

The record is written in the same transaction as the resource it describes, so a
create and its idempotency record commit together or not at all. The stored response
is encrypted (a key derived from IEYS_ENCRYPTION_KEY for this use only; after a
rotation, read under the previous keys' too while they stay configured) and kept for
24 hours: a retry comes within minutes, and a copy of personal data must not outlive
its purpose (an erased person's create leaves at most a day-old, encrypted copy).
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, cast
from uuid import UUID

from fastapi import Header, Request
from pydantic import BaseModel
from sqlalchemy import (
    Connection,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Table,
    Uuid,
    delete,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.responses import Response

from app.platform.crypto import DecryptionFailed, ServiceCipher, get_key_ring
from app.platform.db import Answered, Base, as_utc, utcnow
from app.platform.problems import Conflict, Unprocessable

RETENTION = timedelta(hours=24)
REPLAYED_HEADER = "Idempotent-Replayed"
"""Marks an answer replayed for a retry."""


def _cipher() -> ServiceCipher:
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
    subject_id: Mapped[UUID | None] = mapped_column(Uuid)
    """The subject the first call created or wrote about: a replay is decided about it."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Replay(Answered):
    """Raised to answer a retry with the stored response of the first request."""

    def __init__(self, response: Response) -> None:
        super().__init__("replayed")
        self.response = response


class KeyInFlight(Conflict):
    """API.md: two requests with one key at once: one does the work; the other is told
    to come back, when it will get the first one's answer. Its own work is rolled back."""

    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is in progress; retry to get its answer.",
            headers={"Retry-After": "1"},
        )


@dataclass(frozen=True, slots=True)
class Stored:
    """The first request's answer, as kept for a retry."""

    status_code: int
    body: str
    subject_id: UUID | None

    def response(self, headers: Mapping[str, str]) -> Response:
        """The stored answer, carrying the replay's own decision headers."""
        decided = {k: v for k, v in headers.items() if k.lower().startswith("x-")}
        return Response(
            content=self.body,
            status_code=self.status_code,
            media_type="application/json",
            headers={**decided, REPLAYED_HEADER: "true"},
        )


KeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="A client-chosen key: a retry with the same key and body returns the "
        "first result and creates nothing new. The retry is decided like the first call "
        "and answered only when the decision allows it.",
    ),
]


@dataclass(slots=True)
class Idempotency:
    key: str | None
    caller_sub: str
    method: str
    path: str
    request_hash: str

    def stored(self, session: Session) -> Stored | None:
        """The first request's answer for this key, if any; a key reused for another
        request is 422."""
        if self.key is None:
            return None
        found = session.execute(
            select(IdempotencyRecord).where(
                IdempotencyRecord.caller_sub == self.caller_sub, IdempotencyRecord.key == self.key
            )
        ).scalar_one_or_none()
        if found is not None and as_utc(found.created_at) < utcnow() - RETENTION:
            # Past its day: forgotten, and the key may be used afresh.
            session.delete(found)
            session.flush()
            found = None
        if found is None:
            return None
        if found.request_hash != self.request_hash or found.path != self.path:
            raise Unprocessable(
                "Idempotency-Key", "this key was already used for a different request"
            )
        return Stored(
            status_code=found.status_code,
            body=_cipher().decrypt(found.body.decode(), aad=_aad(self.caller_sub, self.key)),
            subject_id=found.subject_id,
        )

    def remember(
        self,
        session: Session,
        status_code: int,
        result: BaseModel,
        *,
        subject_id: UUID | None = None,
    ) -> None:
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
                subject_id=subject_id,
            )
        )
        try:
            # Written now, not at commit: a second request with the same key that got
            # here first (it waits for the first to commit) learns of it here.
            session.flush()
        except IntegrityError:
            raise KeyInFlight() from None


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
        if _names_any(cipher, row, wanted)
    ]
    for caller_sub, key in doomed:
        connection.execute(
            delete(table).where(table.c.caller_sub == caller_sub, table.c.key == key)
        )
    return len(doomed)


def _names_any(cipher: ServiceCipher, row: Any, wanted: set[str]) -> bool:
    """Whether a stored response names any of the subjects. One that no configured key
    opens any more (written under a key since dropped) can never be replayed: it goes
    too, so an erasure never fails on it."""
    try:
        text = cipher.decrypt(bytes(row.body).decode(), aad=_aad(row.caller_sub, row.key))
    except DecryptionFailed:
        return True
    return bool(wanted.intersection(_UUID_TEXT.findall(text)))
