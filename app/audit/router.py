"""/v1/audit: the trail, its verification, and a person's access log (the officer's)."""

from typing import Annotated, Final
from uuid import UUID

import orjson
from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import schemas
from app.audit import service as audit_service
from app.audit.models import AuditEvent
from app.decisions.access import Access, From, declare, read_justification
from app.platform.db import SessionDep
from app.platform.identifiers import IsoDateTime
from app.platform.pagination import keyset_page
from app.policy.vocabulary import Action, Category, Purpose

router = APIRouter(tags=["audit"])

TRAIL_CATEGORIES: Final = frozenset({Category.IDENTITY})

VerifyTrail = Annotated[Access, declare("verify_trail", Action.READ, TRAIL_CATEGORIES, "audit")]
ListEvents = Annotated[Access, declare("list_events", Action.READ, TRAIL_CATEGORIES, "audit")]
AccessLog = Annotated[
    Access,
    declare("access_log", Action.READ, TRAIL_CATEGORIES, "access_log", subject=From.PERSON),
]


def _split(value: str) -> list[str]:
    return [v for v in value.split(",") if v]


def _recipient(detail: str | None) -> str | None:
    """A share's event names its recipient in `detail` (canonical JSON)."""
    recipient = orjson.loads(detail).get("recipient") if detail else None
    return str(recipient) if recipient is not None else None


@router.get(
    "/audit/verify",
    summary="Verify the audit trail has not been altered, removed from or reordered",
)
def verify_trail(
    _granted: VerifyTrail,
    session: SessionDep,
    from_seq: Annotated[
        int,
        Query(
            ge=1,
            le=2**62,
            description="Verify from this chain position on, starting from the stored hash "
            "of the one before it (`anchor`): a daily check passes the last check's "
            "`head_seq` + 1 and compares `anchor` with the `head` it recorded. "
            "Default 1: the whole chain from the genesis.",
        ),
    ] = 1,
) -> schemas.VerifyReport:
    connection = session.connection()
    # Seal everything committed so far (the whole trail for a whole walk; near the head
    # for a range), then walk the chain.
    audit_service.seal(connection, full=from_seq == 1, wait=True)
    result = audit_service.verify(connection, from_seq=from_seq)
    return schemas.VerifyReport.model_validate(result, from_attributes=True)


def _event(session: Session, row: AuditEvent) -> schemas.AuditEventRead:
    return schemas.AuditEventRead(
        decision_id=row.decision_id,
        occurred_at=row.occurred_at,
        actor_sub=row.actor_sub,
        actor_role=row.actor_role,
        actor_org=row.actor_org,
        purpose=row.purpose,
        action=row.action,
        resource=row.resource,
        subject_id=row.subject_id,
        categories_asked=_split(row.categories_asked),
        categories_granted=_split(row.categories_granted),
        allowed=row.allowed,
        reason=row.reason,
        bases=_split(row.bases),
        justification=read_justification(session, row.justification, row.subject_id),
        review_required=row.review_required,
        outcome=row.outcome,
        status=row.status,
    )


@router.get("/audit", summary="List audit events (filterable; newest first)")
def list_events(
    _granted: ListEvents,
    session: SessionDep,
    subject_id: UUID | None = None,
    actor_sub: str | None = Query(default=None, max_length=200),
    purpose: Purpose | None = None,
    allowed: bool | None = None,
    since: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    cursor: str | None = Query(default=None, max_length=200),
) -> schemas.AuditPage:
    query = select(AuditEvent)
    if subject_id is not None:
        query = query.where(AuditEvent.subject_id == subject_id)
    if actor_sub is not None:
        query = query.where(AuditEvent.actor_sub == actor_sub)
    if purpose is not None:
        query = query.where(AuditEvent.purpose == purpose.value)
    if allowed is not None:
        query = query.where(AuditEvent.allowed == allowed)
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    if until is not None:
        query = query.where(AuditEvent.occurred_at < until)
    found = keyset_page(
        session, query, (AuditEvent.id,), limit=limit, cursor=cursor, descending=True
    )
    return schemas.AuditPage(
        items=[_event(session, row) for row in found.items],
        next_cursor=found.next_cursor,
    )


@router.get(
    "/people/{person_id}/access-log",
    summary="Who read, changed or shared this person's data, why, and on what basis",
    tags=["people"],
)
def access_log(
    granted: AccessLog,
    session: SessionDep,
    limit: int = Query(default=200, ge=1, le=1000),
) -> schemas.AccessLog:
    entries = [
        schemas.AccessLogEntry(
            decision_id=row.decision_id,
            occurred_at=row.occurred_at,
            actor_role=row.actor_role,
            actor_org=row.actor_org,
            actor_sub=row.actor_sub,
            purpose=row.purpose,
            action=row.action,
            resource=row.resource,
            allowed=row.allowed,
            reason=row.reason,
            bases=_split(row.bases),
            categories_granted=_split(row.categories_granted),
            recipient=_recipient(row.detail),
        )
        for row in audit_service.iter_events_for(session, granted.the_person().id, limit=limit)
    ]
    return schemas.AccessLog(subject_id=granted.the_person().id, items=entries)
