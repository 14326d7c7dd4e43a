"""One transaction per request; decisions survive a rollback.

Commit happens after the endpoint returns and before the response is sent. If
the request fails after a decision was written, the transaction rolls back (so no
half-written data), and the decisions are written again in a fresh transaction:
every decision, allowed or denied, stays in the trail.
"""

import logging
from collections.abc import Iterator

from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.platform.problems import Problem

log = logging.getLogger(__name__)


def complete(session: Session) -> None:
    """Commit the request's work and its decisions together."""
    try:
        session.commit()
    except BaseException as exc:
        fail(session, exc)
        raise
    audit_service.take_pending(session)


def fail(session: Session, exc: BaseException) -> None:
    """Roll the request back, then keep its decisions."""
    session.rollback()
    pending = audit_service.take_pending(session)
    if pending:
        _keep_decisions(session, pending, _status_of(exc))


def unit_of_work(session: Session) -> Iterator[Session]:
    try:
        yield session
    except BaseException as exc:
        fail(session, exc)
        raise
    complete(session)


def _status_of(exc: BaseException) -> int:
    if isinstance(exc, Problem):
        return exc.status
    if isinstance(exc, RequestValidationError):
        return 422
    return 500


def _keep_decisions(
    session: Session, pending: list[audit_service.PendingEvent], status: int
) -> None:
    try:
        audit_service.rerecord_after_failure(session, pending, status)
        session.commit()
    except Exception:
        # The original error is what the caller must see; this one is logged.
        session.rollback()
        log.exception("could not keep %d audit decision(s) after a failed request", len(pending))
