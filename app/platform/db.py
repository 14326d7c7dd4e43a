"""Engine, declarative base and the request's unit of work.

Services flush, never commit; the request commits once, before the response is
sent (`scope="function"` runs the exit code before the response goes out).
"""

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import BigInteger, Integer, MetaData, event
from sqlalchemy.engine import Engine, create_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from app.platform.settings import Settings, get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only aliases ROWID (and so autoincrements) for a column declared INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, *, pool_size: int = 16, max_overflow: int = 0) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
        # Prepared statements on the hot path: psycopg prepares after 2 executions.
        connect_args={"prepare_threshold": 2},
    )


@lru_cache
def get_engine() -> Engine:
    settings: Settings = get_settings()
    return make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )


@lru_cache
def session_factory() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False, autoflush=False)


class Answered(Exception):
    """Raised to answer a request early (an idempotent replay): its work so far, the
    decision's audit event among it, is committed like a completed request's."""


CommitHook = Callable[[Session], None]
FailureHook = Callable[[Session, BaseException], None]
_AFTER_COMMIT: list[CommitHook] = []
_AFTER_ROLLBACK: list[FailureHook] = []


def on_request_end(*, committed: CommitHook, failed: FailureHook) -> None:
    """Let a layer above (the audit trail) act when a request's transaction ends:
    registered once at import, the same in every process."""
    _AFTER_COMMIT.append(committed)
    _AFTER_ROLLBACK.append(failed)


STATEMENT_AT_A_TIME = "statement_at_a_time"
"""`Session.info` key: the session runs statement at a time (its audit row is written
once the answer is known, `app.audit.service.write_deferred`)."""


def statement_at_a_time(session: Session) -> None:
    """For a read whose only write is its one audit row, on PostgreSQL: each statement
    commits as it runs, so the read costs its SELECTs and one INSERT, without the BEGIN
    and COMMIT round trips of a transaction around them. READ COMMITTED gave each
    statement its own snapshot already; the audit row is durable when its INSERT
    returns, before anything is answered. The connection's isolation level is reset
    when it goes back to the pool."""
    bind = session.get_bind()
    if (
        isinstance(bind, Engine)
        and bind.dialect.name == "postgresql"
        and not session.in_transaction()
    ):
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        session.info[STATEMENT_AT_A_TIME] = True


def complete(session: Session) -> None:
    """Commit the request's work (and its decisions) together."""
    try:
        session.commit()
    except BaseException as exc:
        fail(session, exc)
        raise
    for hook in _AFTER_COMMIT:
        hook(session)


def fail(session: Session, exc: BaseException) -> None:
    """Roll the request back; the hooks keep what must outlive it (its decisions)."""
    session.rollback()
    for hook in _AFTER_ROLLBACK:
        hook(session, exc)


def _finish(session: Session, exc: BaseException | None) -> None:
    try:
        if exc is None or isinstance(exc, Answered):
            complete(session)
        else:
            fail(session, exc)
    finally:
        session.close()


def unit_of_work(session: Session) -> Iterator[Session]:
    """The same transaction boundaries, for a session the caller owns (tests)."""
    try:
        yield session
    except Answered:
        complete(session)
        raise
    except BaseException as exc:
        fail(session, exc)
        raise
    complete(session)


async def get_session() -> AsyncIterator[Session]:
    """The request's session; commit (or rollback) runs in the thread pool, once.

    Creating a Session does no I/O, so it happens on the event loop; the guard and
    the endpoint use it from a worker thread, one at a time.
    """
    session = session_factory()()
    try:
        yield session
    except BaseException as exc:
        await run_in_threadpool(_finish, session, exc)
        raise
    if not session.in_transaction():
        # Already committed where the work ended (a read completed by its guard):
        # closing touches no connection, so no second hop to the thread pool.
        session.close()
        return
    await run_in_threadpool(_finish, session, None)


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
