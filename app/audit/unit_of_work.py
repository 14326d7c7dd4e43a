"""Decisions survive a rollback.

The request commits once, after the endpoint returns and before the response is sent
(`app.platform.db`). If it fails after a decision was written, the transaction rolls
back (so no half-written data), and the decisions are written again in a fresh
transaction: every decision, allowed or denied, stays in the trail.
"""

import logging

from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.platform import db
from app.platform.problems import Problem, Unavailable, database_unavailable

log = logging.getLogger(__name__)


def _committed(session: Session) -> None:
    audit_service.take_pending(session)


def _failed(session: Session, exc: BaseException) -> None:
    pending = audit_service.take_pending(session)
    if pending:
        _keep_decisions(session, pending, _status_of(exc))


def _status_of(exc: BaseException) -> int:
    if isinstance(exc, Problem):
        return exc.status
    if isinstance(exc, RequestValidationError):
        return 422
    if database_unavailable(exc):
        return Unavailable.status
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


db.on_request_end(committed=_committed, failed=_failed)
