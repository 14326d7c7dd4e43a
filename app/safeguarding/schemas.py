"""Risk issues, child protection plans, looked-after status and assessments.

Every field is `safeguarding` data (DOMAIN.md: treat as the most sensitive; police
information is Art 10 data). Every one of them is stored encrypted, the kind and dates
as much as the text (DOMAIN.md, "Identifiers and validation").
"""

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ValidationInfo, field_validator

from app.people import schemas as people_schemas
from app.platform.categories import tagged
from app.platform.identifiers import PastOrToday
from app.policy.vocabulary import Category

SAFEGUARDING = Category.SAFEGUARDING


class SafeguardingKind(StrEnum):
    RISK_ISSUE = "risk_issue"
    CHILD_PROTECTION_PLAN = "child_protection_plan"
    LOOKED_AFTER = "looked_after"
    ASSESSMENT = "assessment"


class SafeguardingCreate(people_schemas.Strict):
    kind: SafeguardingKind = tagged(SAFEGUARDING)
    summary: str = tagged(
        SAFEGUARDING,
        min_length=1,
        max_length=5000,
        description="What the concern, plan or assessment is. Stored encrypted.",
    )
    start_date: PastOrToday = tagged(
        SAFEGUARDING,
        description="When it began: today or earlier (Europe/London); a plan is recorded "
        "once it is in place.",
    )
    end_date: date | None = tagged(
        SAFEGUARDING,
        default=None,
        description="When it ended or is due to end; not before `start_date`. A "
        "`child_protection_plan` with no end date is active.",
    )
    source: str | None = tagged(
        SAFEGUARDING,
        default=None,
        min_length=1,
        max_length=500,
        description="Where the information came from (police information is Art 10 "
        "criminal-offence data). Stored encrypted.",
    )

    @field_validator("end_date")
    @classmethod
    def _not_before_start(cls, end_date: date | None, info: ValidationInfo) -> date | None:
        start_date = info.data.get("start_date")
        if end_date is not None and start_date is not None and end_date < start_date:
            raise ValueError("end_date must not be before start_date")
        return end_date


class SafeguardingRead(BaseModel):
    """A safeguarding record. Only purposes reaching `safeguarding` read it."""

    id: UUID | None = tagged(SAFEGUARDING, default=None)
    person_id: UUID | None = tagged(SAFEGUARDING, default=None)
    kind: SafeguardingKind | None = tagged(SAFEGUARDING, default=None)
    summary: str | None = tagged(SAFEGUARDING, default=None)
    start_date: date | None = tagged(SAFEGUARDING, default=None)
    end_date: date | None = tagged(SAFEGUARDING, default=None)
    source: str | None = tagged(SAFEGUARDING, default=None)
    active: bool | None = tagged(
        SAFEGUARDING,
        default=None,
        description="For a `child_protection_plan`: in force today (started, and no end "
        "date or one not yet passed). Null for other kinds.",
    )
    created_at: datetime | None = tagged(
        SAFEGUARDING, default=None, description="When the record was made."
    )


class SafeguardingPage(BaseModel):
    """A person's safeguarding records, newest start date first."""

    items: list[SafeguardingRead] = tagged(SAFEGUARDING)
    next_cursor: str | None = tagged(
        SAFEGUARDING,
        default=None,
        description="Pass as `cursor` for the next page; null on the last page.",
    )
