"""The maintained nurseries (reference data) and enrolments (who attends which).

Nurseries are the council's establishments, not personal data: their schemas carry no
category and are listed in REFERENCE_SCHEMAS, which the contract test exempts.
Enrolments are personal data about a child.
"""

from datetime import date
from typing import Final
from uuid import UUID

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from app.people import schemas as people_schemas
from app.platform.categories import tagged
from app.policy.vocabulary import Category

# Which nursery a child attends is tagged identity: it says who the child is to the
# service (and is what nursery_care scope follows). Identity is the one category every
# record purpose reaches, so whoever may act on the child under their purpose
# (health_care, early_help, service_invitation, nursery_care, safeguarding) may record
# it; services would shut out nursery_care and identity is no more sensitive.
ENROLMENT = Category.IDENTITY


class NurseryRead(BaseModel):
    """One of the council's maintained nurseries."""

    id: UUID = Field(description="The id a nursery practitioner's token names as `nursery_id`.")
    name: str = Field(examples=["Konstam Nursery School"])
    org: str = Field(description="The organisation that runs it.", examples=["E09000007"])


class NurseryPage(BaseModel):
    """The maintained nurseries, by name."""

    items: list[NurseryRead]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page."
    )


REFERENCE_SCHEMAS: Final[tuple[type[BaseModel], ...]] = (NurseryRead, NurseryPage)
"""Schemas of reference data, not about any person: no field carries a category."""


class EnrolmentCreate(people_schemas.Strict):
    child_id: UUID = tagged(ENROLMENT, description="The child (a person of kind `child`).")
    start_date: date = tagged(
        ENROLMENT, description="First day of attendance; may be in the future."
    )
    end_date: date | None = tagged(
        ENROLMENT,
        default=None,
        description="Last day of attendance (inclusive); not before `start_date`. None: "
        "attending until further notice.",
    )

    @field_validator("end_date")
    @classmethod
    def _not_before_start(cls, end_date: date | None, info: ValidationInfo) -> date | None:
        start_date = info.data.get("start_date")
        if end_date is not None and start_date is not None and end_date < start_date:
            raise ValueError("end_date must not be before start_date")
        return end_date


class EnrolmentRead(BaseModel):
    """The child attends the nursery from `start_date` to `end_date` inclusive."""

    id: UUID | None = tagged(ENROLMENT, default=None)
    nursery_id: UUID | None = tagged(ENROLMENT, default=None)
    child_id: UUID | None = tagged(ENROLMENT, default=None)
    start_date: date | None = tagged(ENROLMENT, default=None)
    end_date: date | None = tagged(ENROLMENT, default=None)
