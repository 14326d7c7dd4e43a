"""The review queue: allowed overrides with no review yet; recording a review."""

from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.decisions.access import read_justification
from app.platform.db import as_utc, utcnow
from app.platform.pagination import Page, keyset_page
from app.platform.problems import Conflict, NotFound, Unprocessable
from app.policy.vocabulary import Purpose
from app.reviews import schemas
from app.reviews.models import SafeguardingReview


def _split(value: str) -> list[str]:
    return [v for v in value.split(",") if v]


def _is_override(event: AuditEvent) -> bool:
    return event.allowed and event.review_required


def awaiting(session: Session, *, limit: int, cursor: str | None) -> Page[AuditEvent]:
    """Every allowed override that no officer has reviewed, the oldest first."""
    reviewed = select(SafeguardingReview.decision_id).where(
        SafeguardingReview.decision_id == AuditEvent.decision_id
    )
    query = (
        select(AuditEvent)
        .where(AuditEvent.review_required.is_(True), AuditEvent.allowed.is_(True))
        .where(~reviewed.exists())
    )
    return keyset_page(session, query, (AuditEvent.id,), limit=limit, cursor=cursor)


def override_values(session: Session, event: AuditEvent) -> dict[str, Any]:
    detail = orjson.loads(event.detail) if event.detail else {}
    return {
        "decision_id": event.decision_id,
        "occurred_at": as_utc(event.occurred_at),
        "actor_sub": event.actor_sub,
        "actor_role": event.actor_role,
        "actor_org": event.actor_org,
        "action": event.action,
        "resource": event.resource,
        "subject_id": event.subject_id,
        "recipient": detail.get("recipient"),
        "categories_granted": _split(event.categories_granted),
        "bases": _split(event.bases),
        "justification": read_justification(session, event.justification, event.subject_id),
        "outcome": event.outcome,
    }


def record(
    session: Session, decision_id: UUID, body: schemas.SafeguardingReviewCreate, reviewed_by: str
) -> SafeguardingReview:
    event = session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == decision_id)
    ).scalar_one_or_none()
    if event is None:
        raise NotFound("No decision with this id.")
    if not _is_override(event) or event.purpose != Purpose.SAFEGUARDING.value:
        raise Unprocessable("decision_id", "not an allowed safeguarding override")
    if session.get(SafeguardingReview, decision_id) is not None:
        raise Conflict("This override was already reviewed.")
    review = SafeguardingReview(
        decision_id=decision_id,
        outcome=body.outcome.value,
        notes=body.notes,
        reviewed_by=reviewed_by,
        reviewed_at=utcnow(),
    )
    session.add(review)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # Another officer recorded a review between our check and this write.
        raise Conflict("This override was already reviewed.") from None
    return review


def review_values(review: SafeguardingReview) -> dict[str, Any]:
    return {
        "decision_id": review.decision_id,
        "outcome": schemas.SafeguardingReviewOutcome(review.outcome),
        "notes": review.notes,
        "reviewed_by": review.reviewed_by,
        "reviewed_at": as_utc(review.reviewed_at),
    }
