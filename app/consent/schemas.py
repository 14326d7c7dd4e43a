"""Consents: records, not flags (DOMAIN.md, "Consent").

A consent is about the subject's relationship with the service: every field is
`services` data, except the two people it names (`identity`).
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from app.people.schemas import Strict
from app.platform.categories import tagged
from app.policy.vocabulary import Category, ConsentType

SERVICES = Category.SERVICES
ID = Category.IDENTITY

RecipientCode = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$")]


class ConsentMethod(StrEnum):
    SIGNED_FORM = "signed_form"
    VERBAL = "verbal"


def _distinct_categories(categories: list[Category]) -> list[Category]:
    """Each category once, in the vocabulary's order."""
    return [category for category in Category if category in categories]


class ConsentCreate(Strict):
    subject_id: UUID = tagged(ID, description="The person the consent is about.")
    given_by_id: UUID = tagged(
        ID,
        description="Who gave it: for a child, a carer in the household with parental "
        "responsibility; for an adult, the adult themself.",
    )
    type: ConsentType = tagged(SERVICES)
    categories: list[Category] = tagged(
        SERVICES, min_length=1, description="The data categories the consent covers."
    )
    recipient: RecipientCode | None = tagged(
        SERVICES,
        default=None,
        description="For a consent to a share outside the service: the recipient "
        "(GET /v1/recipients) whose consent type is `type`. Required for such a type, "
        "absent otherwise.",
        examples=["ipinfa"],
    )
    method: ConsentMethod = tagged(SERVICES)
    evidence_ref: str | None = tagged(
        SERVICES,
        default=None,
        min_length=1,
        max_length=200,
        description="Where the evidence is kept, e.g. the signed form's reference.",
    )
    also_covers: list[UUID] = tagged(
        SERVICES,
        default_factory=list,
        max_length=20,
        description="Other children of the household the same form covers: one consent "
        "each (same form, same evidence), all or none.",
    )

    @field_validator("categories")
    @classmethod
    def _each_once(cls, categories: list[Category]) -> list[Category]:
        return _distinct_categories(categories)


class ConsentWithdraw(Strict):
    reason: str | None = tagged(
        SERVICES,
        default=None,
        min_length=1,
        max_length=2000,
        description="Why the consent was withdrawn, as the person said.",
    )


class ConsentRead(BaseModel):
    """A consent, active or withdrawn. Withdrawal stamps it; nothing is deleted."""

    id: UUID | None = tagged(SERVICES, default=None)
    subject_id: UUID | None = tagged(ID, default=None)
    given_by_id: UUID | None = tagged(ID, default=None)
    type: ConsentType | None = tagged(SERVICES, default=None)
    categories: list[Category] | None = tagged(SERVICES, default=None)
    recipient: str | None = tagged(SERVICES, default=None)
    method: ConsentMethod | None = tagged(SERVICES, default=None)
    evidence_ref: str | None = tagged(SERVICES, default=None)
    given_at: datetime | None = tagged(SERVICES, default=None)
    withdrawn_at: datetime | None = tagged(
        SERVICES,
        default=None,
        description="When it was withdrawn: every decision from then on goes without it.",
    )
    withdrawal_reason: str | None = tagged(SERVICES, default=None)
    active: bool | None = tagged(SERVICES, default=None, description="Not withdrawn.")
    covers_also: list[UUID] | None = tagged(
        SERVICES,
        default=None,
        description="On create: the consents recorded for the other children the same "
        "form covers (`also_covers`).",
    )


class ConsentPage(BaseModel):
    """A person's consents, active and withdrawn, the most recently given first."""

    items: list[ConsentRead] = tagged(SERVICES)
    next_cursor: str | None = tagged(
        SERVICES,
        default=None,
        description="Pass as `cursor` for the next page; null on the last page.",
    )
