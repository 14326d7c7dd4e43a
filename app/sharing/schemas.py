"""Shares outside the service, and the recipients a share may go to.

Recipients are organisations, not personal data: their schemas carry no category and
are listed in REFERENCE_SCHEMAS, which the contract test exempts.
"""

from datetime import datetime
from typing import Final
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from app.consent.schemas import RecipientCode
from app.contacts.schemas import ContactRead
from app.people.schemas import Circumstances, Health, PersonRead, Strict
from app.platform.categories import tagged
from app.platform.identifiers import EthnicCategory
from app.policy.vocabulary import Basis, Category, ConsentType, Purpose
from app.safeguarding.schemas import SafeguardingRead

SERVICES = Category.SERVICES


class RecipientOrganisationRead(BaseModel):
    """An organisation outside the service that a share may go to."""

    code: str = Field(description="The `recipient` code of shares and consents.")
    name: str
    consent_type: ConsentType | None = Field(
        description="The consent that permits a share to it; null: none does, so a share "
        "goes only under `safeguarding`, with a justification."
    )
    purpose: str = Field(description="What shares to it are for.")
    country: str = Field(description="Where it is; `United Kingdom` or another country.")
    transfer_safeguard: str | None = Field(
        description="Outside the UK, the UK GDPR Chapter V safeguard a transfer rests on; "
        "null inside the UK."
    )
    notifies_electronically: bool = Field(
        description="Whether it takes Art 19 notifications at an endpoint of its own "
        "(signed, `IEYS-Signature`); false: the officer sends them by hand."
    )


class RecipientOrganisationPage(BaseModel):
    """The recipients outside the service, by code."""

    items: list[RecipientOrganisationRead]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page."
    )


REFERENCE_SCHEMAS: Final[tuple[type[BaseModel], ...]] = (
    RecipientOrganisationRead,
    RecipientOrganisationPage,
)
"""Schemas of reference data, not about any person: no field carries a category."""


class ShareCreate(Strict):
    subject_id: UUID = tagged(Category.IDENTITY, description="The person whose data is shared.")
    recipient: RecipientCode = tagged(
        SERVICES, description="Who receives it (GET /v1/recipients).", examples=["ipinfa"]
    )
    categories: list[Category] = tagged(
        SERVICES,
        min_length=1,
        description="The categories to share. Every one must be permitted: a share is "
        "never cut down to what is allowed, it is refused.",
    )

    @field_validator("categories")
    @classmethod
    def _each_once(cls, categories: list[Category]) -> list[Category]:
        return [category for category in Category if category in categories]


class SharePackage(BaseModel):
    """The data disclosed, one field per category shared; nothing of any other category.

    The service keeps no household or education record of a person: sharing those
    categories adds nothing to the package (household members are subjects of their own).
    """

    person: PersonRead | None = tagged(
        Category.IDENTITY,
        default=None,
        description="The person's identity and contact fields, each only where its "
        "category was shared.",
    )
    ethnicity: EthnicCategory | None = tagged(Category.ETHNICITY, default=None)
    health: Health | None = tagged(Category.HEALTH, default=None)
    circumstances: Circumstances | None = tagged(Category.CIRCUMSTANCES, default=None)
    safeguarding: list[SafeguardingRead] | None = tagged(Category.SAFEGUARDING, default=None)
    contacts: list[ContactRead] | None = tagged(
        SERVICES,
        default=None,
        description="Contacts; a development review's outcome only where health was shared.",
    )


class ShareRead(BaseModel):
    """A disclosure: who shared what about whom, to whom, when, on which basis."""

    disclosure_id: UUID = tagged(SERVICES)
    decision_id: UUID = tagged(SERVICES, description="The audit event of the share decision.")
    subject_id: UUID = tagged(Category.IDENTITY)
    recipient: str = tagged(SERVICES)
    purpose: Purpose = tagged(SERVICES)
    basis: list[Basis] = tagged(SERVICES, description="The lawful bases the share rests on.")
    categories: list[Category] = tagged(SERVICES, description="The categories disclosed.")
    disclosed_at: datetime = tagged(SERVICES)
    review_required: bool = tagged(
        SERVICES, description="A safeguarding override: listed for the officer's review."
    )
    package: SharePackage | None = tagged(
        SERVICES,
        default=None,
        description="The data disclosed (its fields carry their own categories). Absent "
        "on an `Idempotency-Key` replay: the data is never kept outside the record, and a "
        "second disclosure is a new share.",
    )
