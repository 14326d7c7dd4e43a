"""One keyset pager for every list (`limit`, `cursor`).

A list is ordered by a key of one or more columns, the last of them unique; a page
starts after the position its cursor names. The cursor is opaque to callers (base64 of
the last item's key) and checked on the way in: a cursor this service did not issue is
`422`, never a database error.
"""

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Generic, TypeVar
from uuid import UUID

import orjson
from sqlalchemy import Select, tuple_
from sqlalchemy.orm import Session

from app.platform.db import as_utc
from app.platform.problems import Unprocessable

T = TypeVar("T")

_MAX_TEXT: Final = 400
_BIGINT: Final = 2**63


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _not_ours() from None


def _not_ours() -> Unprocessable:
    return Unprocessable("cursor", "not a cursor this service issued")


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _parse(kind: type, text: str) -> Any:
    if kind is datetime:
        return as_utc(datetime.fromisoformat(text))
    if kind is date:
        return date.fromisoformat(text)
    if kind is UUID:
        return UUID(text)
    if kind is int:
        number = int(text)
        if not -_BIGINT <= number < _BIGINT:
            raise ValueError("out of range")
        return number
    if len(text) > _MAX_TEXT:
        raise ValueError("too long")
    return text


def cursor_of(key: Sequence[Any]) -> str:
    return encode_cursor(orjson.dumps([_text(part) for part in key]).decode())


def position(cursor: str, kinds: Sequence[type]) -> tuple[Any, ...]:
    """The key a cursor names, each part parsed as `kinds` says; 422 for any other."""
    try:
        parts = orjson.loads(decode_cursor(cursor))
        if not isinstance(parts, list) or len(parts) != len(kinds):
            raise ValueError("not a key")
        if not all(isinstance(part, str) for part in parts):
            raise ValueError("not a key")
        return tuple(_parse(kind, part) for kind, part in zip(kinds, parts, strict=True))
    except (ValueError, orjson.JSONDecodeError):
        raise _not_ours() from None


def keyset_page(
    session: Session,
    query: Select[*tuple[Any, ...]],
    key: Sequence[Any],
    *,
    limit: int,
    cursor: str | None,
    descending: bool = False,
) -> Page[Any]:
    """A page of `query` ordered by the columns of `key` (the last unique), ascending or
    descending, after the cursor's position. Items are ORM objects for a query of one
    entity, rows otherwise."""
    ordered = [column.desc() if descending else column for column in key]
    query = query.order_by(*ordered).limit(limit + 1)
    if cursor is not None:
        after = position(cursor, [column.type.python_type for column in key])
        row_key, bound = tuple_(*key), tuple_(*after)
        query = query.where(row_key < bound if descending else row_key > bound)
    result = session.execute(query)
    found = list(result.scalars() if _one_entity(query) else result.all())
    shown, more = found[:limit], len(found) > limit
    last = [getattr(shown[-1], column.key) for column in key] if more and shown else None
    return Page(items=shown, next_cursor=cursor_of(last) if last is not None else None)


def page_of(
    items: Sequence[T],
    key: Callable[[T], tuple[Any, ...]],
    kinds: Sequence[type],
    *,
    limit: int,
    cursor: str | None,
) -> Page[T]:
    """The same pager over a list already in memory (reference data), ascending."""
    ordered = sorted(items, key=key)
    if cursor is not None:
        after = position(cursor, kinds)
        ordered = [item for item in ordered if key(item) > after]
    shown, more = ordered[:limit], len(ordered) > limit
    return Page(items=shown, next_cursor=cursor_of(key(shown[-1])) if more and shown else None)


def _one_entity(query: Select[*tuple[Any, ...]]) -> bool:
    described = query.column_descriptions
    return len(described) == 1 and isinstance(described[0]["expr"], type)
