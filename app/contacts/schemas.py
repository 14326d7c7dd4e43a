"""Contacts: visits, calls, meetings, sessions and development reviews.

A contact record is `services` data; a development review's outcome is `health` data
(DOMAIN.md). Notes and outcomes are stored encrypted (free text can reveal anything).
"""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final
from uuid import UUID

from pydantic import BaseModel, ValidationInfo, field_validator

from app.people import schemas as people_schemas
from app.platform.categories import tagged
from app.platform.db import as_utc, utcnow
from app.policy.vocabulary import Category, Role

SERVICES = Category.SERVICES
HEALTH = Category.HEALTH

CLOCK_SKEW: Final = timedelta(minutes=5)
"""How far ahead of our clock `occurred_at` may be: the caller's clock may run fast."""


class ContactKind(StrEnum):
    HOME_VISIT = "home_visit"
    CENTRE_CONTACT = "centre_contact"
    GROUP_SESSION = "group_session"
    CALL = "call"
    MEETING = "meeting"
    DEVELOPMENT_REVIEW = "development_review"


class DevelopmentReview(StrEnum):
    """The Healthy Child Programme reviews (DOMAIN.md, "Reviews, invitations and reports")."""

    NEW_BIRTH = "new_birth"
    SIX_TO_EIGHT_WEEKS = "6_8_week"
    ONE_YEAR = "1_year"
    TWO_TO_TWO_AND_A_HALF_YEARS = "2_2_5_year"


class ReviewOutcome(StrEnum):
    NO_CONCERNS = "no_concerns"
    SUPPORT_NEEDED = "support_needed"
    REFERRED = "referred"


class ContactCreate(people_schemas.Strict):
    kind: ContactKind = tagged(SERVICES)
    occurred_at: datetime = tagged(
        SERVICES,
        description="When it happened: with a UTC offset, or taken as UTC without one; not "
        "in the future (five minutes of clock skew allowed). Returned in UTC.",
    )
    staff_role: Role = tagged(SERVICES, description="The role of the member of staff.")
    service: str | None = tagged(
        SERVICES,
        default=None,
        min_length=1,
        max_length=60,
        description="The service or group, e.g. `Stay and Play`.",
    )
    notes: str | None = tagged(
        SERVICES,
        default=None,
        min_length=1,
        max_length=10_000,
        description="Free text; stored encrypted.",
    )
    review: DevelopmentReview | None = tagged(
        SERVICES,
        default=None,
        validate_default=True,
        description="Required for a `development_review`, which it names; otherwise absent.",
    )
    outcome: ReviewOutcome | None = tagged(
        HEALTH,
        default=None,
        validate_default=True,
        description="A development review's outcome (health data; stored encrypted). "
        "Required for a `development_review`; otherwise absent.",
    )

    @field_validator("occurred_at")
    @classmethod
    def _not_in_future(cls, occurred_at: datetime) -> datetime:
        occurred_at = as_utc(occurred_at)
        if occurred_at > utcnow() + CLOCK_SKEW:
            raise ValueError("occurred_at must not be in the future")
        return occurred_at

    @field_validator("review", "outcome")
    @classmethod
    def _only_for_a_development_review(
        cls, value: DevelopmentReview | ReviewOutcome | None, info: ValidationInfo
    ) -> DevelopmentReview | ReviewOutcome | None:
        kind = info.data.get("kind")
        if kind is None:
            return value  # the kind itself is invalid, and reported
        if kind is ContactKind.DEVELOPMENT_REVIEW and value is None:
            raise ValueError(f"{info.field_name} is required for a development_review")
        if kind is not ContactKind.DEVELOPMENT_REVIEW and value is not None:
            raise ValueError(f"{info.field_name} is recorded only for a development_review")
        return value


class ContactRead(BaseModel):
    """A contact. The outcome of a development review is health data: absent, and named
    in `X-Withheld-Categories`, where the decision does not reach health."""

    id: UUID | None = tagged(SERVICES, default=None)
    person_id: UUID | None = tagged(SERVICES, default=None)
    kind: ContactKind | None = tagged(SERVICES, default=None)
    occurred_at: datetime | None = tagged(SERVICES, default=None)
    staff_role: Role | None = tagged(SERVICES, default=None)
    service: str | None = tagged(SERVICES, default=None)
    notes: str | None = tagged(SERVICES, default=None)
    review: DevelopmentReview | None = tagged(SERVICES, default=None)
    outcome: ReviewOutcome | None = tagged(HEALTH, default=None)
    created_at: datetime | None = tagged(
        SERVICES, default=None, description="When the contact was recorded."
    )


class ContactPage(BaseModel):
    """A person's contacts, the most recent first."""

    items: list[ContactRead] = tagged(SERVICES)
    next_cursor: str | None = tagged(
        SERVICES,
        default=None,
        description="Pass as `cursor` for the next page; null on the last page.",
    )
