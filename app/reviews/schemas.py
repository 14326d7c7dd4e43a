"""Safeguarding overrides awaiting the data protection officer's review, and reviews.

An override names who used it, on whom, for what, and why (the justification, which
may describe the risk itself: `safeguarding` data).
"""

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel

from app.people.schemas import Strict
from app.platform.categories import tagged
from app.policy.vocabulary import Basis, Category

SERVICES = Category.SERVICES
SAFEGUARDING = Category.SAFEGUARDING


class SafeguardingReviewOutcome(StrEnum):
    APPROPRIATE = "appropriate"
    INAPPROPRIATE = "inappropriate"
    REFERRED = "referred"


class SafeguardingOverrideRead(BaseModel):
    """One use of the safeguarding override, allowed and not yet reviewed."""

    decision_id: UUID | None = tagged(SERVICES, default=None)
    occurred_at: datetime | None = tagged(SERVICES, default=None)
    actor_sub: str | None = tagged(SERVICES, default=None)
    actor_role: str | None = tagged(SERVICES, default=None)
    actor_org: str | None = tagged(SERVICES, default=None)
    action: str | None = tagged(SERVICES, default=None)
    resource: str | None = tagged(SERVICES, default=None)
    subject_id: UUID | None = tagged(Category.IDENTITY, default=None)
    recipient: str | None = tagged(
        SERVICES, default=None, description="For a share: who received the data."
    )
    categories_granted: list[Category] | None = tagged(SERVICES, default=None)
    bases: list[Basis] | None = tagged(SERVICES, default=None)
    justification: str | None = tagged(SAFEGUARDING, default=None)
    outcome: str | None = tagged(
        SERVICES,
        default=None,
        description="`completed`, or `failed` when the request rolled back after the "
        "decision (the override was still used).",
    )


class SafeguardingOverridePage(BaseModel):
    """Overrides awaiting review, the oldest first."""

    items: list[SafeguardingOverrideRead] = tagged(SERVICES)
    next_cursor: str | None = tagged(
        SERVICES,
        default=None,
        description="Pass as `cursor` for the next page; null on the last page.",
    )


class SafeguardingReviewCreate(Strict):
    outcome: SafeguardingReviewOutcome = tagged(SAFEGUARDING)
    notes: str | None = tagged(SAFEGUARDING, default=None, min_length=1, max_length=5000)


class SafeguardingReviewRead(BaseModel):
    decision_id: UUID | None = tagged(SAFEGUARDING, default=None)
    outcome: SafeguardingReviewOutcome | None = tagged(SAFEGUARDING, default=None)
    notes: str | None = tagged(SAFEGUARDING, default=None)
    reviewed_by: str | None = tagged(SAFEGUARDING, default=None)
    reviewed_at: datetime | None = tagged(SAFEGUARDING, default=None)
