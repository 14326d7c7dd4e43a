"""A per-caller rate limit (`IEYS_RATE_LIMIT_PER_MINUTE`, per token subject), shared by
every instance: the count of a caller's requests in the current minute is kept in the
database, in a short transaction of its own (never the request's, which would hold the
row until the request commits and queue the caller's concurrent requests behind it).
Unset, the default, there is no limit and no query."""

from datetime import datetime
from typing import Final, cast

from sqlalchemy import BigInteger, Connection, Integer, String, Table, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import Base, utcnow
from app.platform.problems import Problem

WINDOW_SECONDS: Final = 60


class RateWindow(Base):
    __tablename__ = "rate_window"

    caller_sub: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    """Seconds since the epoch at the start of the minute."""
    count: Mapped[int] = mapped_column(Integer)


class TooManyRequests(Problem):
    status = 429
    code = "too_many_requests"
    title = "Too many requests"


_TABLE: Final = cast(Table, RateWindow.__table__)


def _count(connection: Connection, caller_sub: str, window: int) -> int:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(_TABLE).values(caller_sub=caller_sub, window_start=window, count=1)
    upsert = upsert.on_conflict_do_update(
        index_elements=[_TABLE.c.caller_sub, _TABLE.c.window_start],
        set_={"count": _TABLE.c.count + 1},
    ).returning(_TABLE.c.count)
    counted = int(connection.execute(upsert).scalar_one())
    # The caller's past minutes are of no further use.
    connection.execute(
        delete(_TABLE).where(_TABLE.c.caller_sub == caller_sub, _TABLE.c.window_start < window)
    )
    return counted


def admit(engine: Engine, caller_sub: str, limit: int, now: datetime | None = None) -> None:
    """Count this request; over `limit` in the minute is 429 with the seconds left."""
    epoch = int((now or utcnow()).timestamp())
    window = epoch - epoch % WINDOW_SECONDS
    with engine.begin() as connection:
        counted = _count(connection, caller_sub, window)
    if counted > limit:
        retry_after = max(1, window + WINDOW_SECONDS - epoch)
        raise TooManyRequests(
            f"More than {limit} requests in a minute; retry after {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )
