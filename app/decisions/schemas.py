"""The dry run: a decision asked for and answered without touching data.

A decision is about how the service may process the subject's record, not the record
itself: its fields are `services` data, except the subject's id (`identity`).
"""

from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, field_validator

from app.consent.schemas import RecipientCode
from app.people.schemas import Strict
from app.platform.categories import tagged
from app.policy.vocabulary import Basis, Category, ConsentType, Reason

SERVICES = Category.SERVICES


class DryRunAction(StrEnum):
    READ = "read"
    SHARE = "share"


class DecisionAsk(Strict):
    subject_id: UUID = tagged(Category.IDENTITY, description="The person the decision is about.")
    action: DryRunAction = tagged(SERVICES)
    categories: list[Category] = tagged(SERVICES, min_length=1)
    recipient: RecipientCode | None = tagged(
        SERVICES,
        default=None,
        description="For a share: who would receive it (GET /v1/recipients); required "
        "for a share, absent for a read.",
    )

    @field_validator("categories")
    @classmethod
    def _each_once(cls, categories: list[Category]) -> list[Category]:
        return [category for category in Category if category in categories]


class CitationRead(BaseModel):
    code: Basis = tagged(SERVICES)
    text: str = tagged(SERVICES, description="The article's text.")
    schedule1_paragraph: int | None = tagged(
        SERVICES, default=None, description="The DPA 2018 Schedule 1 paragraph, if any."
    )
    categories: list[Category] = tagged(
        SERVICES, description="For an Art 9 condition: the special categories it covers."
    )


class DecisionRead(BaseModel):
    """What the lawful-basis check answers; the same engine decides the real call."""

    decision_id: UUID = tagged(SERVICES, description="The audit event of this dry run.")
    allowed: bool = tagged(SERVICES)
    reason: Reason = tagged(SERVICES)
    bases: list[CitationRead] = tagged(SERVICES, description="Empty on a denial.")
    allowed_categories: list[Category] = tagged(SERVICES)
    withheld_categories: list[Category] = tagged(SERVICES)
    gateways: list[str] = tagged(SERVICES, description="The legal gateways named.")
    review_required: bool = tagged(
        SERVICES, description="A safeguarding override: the real call is listed for review."
    )
    consent_types: list[ConsentType] = tagged(
        SERVICES, description="The consents the decision rests on, when it rests on consent."
    )
