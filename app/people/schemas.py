"""Households and people. Every field carries its data category (`x-category`)."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

import annotated_types
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator

from app.platform.categories import tagged
from app.platform.identifiers import BirthDate, EthnicCategory, NhsNumber, UkPostcode, Upn
from app.policy.vocabulary import Category

ID = Category.IDENTITY
CONTACT = Category.CONTACT
HOUSEHOLD = Category.HOUSEHOLD

Phone = Annotated[str, Field(min_length=6, max_length=40, pattern=r"^\+?[0-9 ()-]{6,40}$")]
Name = Annotated[str, Field(min_length=1, max_length=100)]


class PersonKind(StrEnum):
    CHILD = "child"
    CARER = "carer"
    HOUSEHOLD_MEMBER = "household_member"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    INDETERMINATE = "indeterminate"
    NOT_KNOWN = "not_known"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: object, info: ValidationInfo) -> object:
        # No database column can hold a NUL character: refused here, never a 500 there.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain a NUL character")
        # The document's maxLength counts what was sent: checked before the whitespace
        # is stripped, so a value over it is refused whatever it starts or ends with.
        limit = _max_length(cls, info.field_name)
        if isinstance(value, str) and limit is not None and len(value) > limit:
            raise ValueError(f"at most {limit} characters")
        return value


def _max_length(model: type[BaseModel], name: str | None) -> int | None:
    field = model.model_fields.get(name) if name is not None else None
    if field is None:
        return None
    limits = [m.max_length for m in field.metadata if isinstance(m, annotated_types.MaxLen)]
    return min(limits) if limits else None


class Address(Strict):
    line1: str = tagged(CONTACT, min_length=1, max_length=200, examples=["1 Judd Street"])
    line2: str | None = tagged(CONTACT, default=None, max_length=200)
    postcode: UkPostcode = tagged(CONTACT)


class FamilyCreate(Strict):
    address: Address = tagged(CONTACT)
    phone: Phone | None = tagged(CONTACT, default=None, examples=["020 7974 4444"])
    email: EmailStr | None = tagged(CONTACT, default=None)


class PersonCreate(Strict):
    family_id: UUID = tagged(ID, description="The household the person is registered in.")
    kind: PersonKind = tagged(
        ID,
        description="A `child` must be under 5; older brothers and sisters are "
        "`household_member`s.",
    )
    given_name: Name = tagged(ID, examples=["Amara"])
    family_name: Name = tagged(ID, examples=["Okafor"])
    date_of_birth: BirthDate = tagged(ID)
    sex: Sex | None = tagged(ID, default=None)
    nhs_number: NhsNumber | None = tagged(ID, default=None)
    upn: Upn | None = tagged(ID, default=None)
    has_parental_responsibility: bool = tagged(
        ID, default=False, description="Carers only: may give consent for the children."
    )
    phone: Phone | None = tagged(CONTACT, default=None)
    email: EmailStr | None = tagged(CONTACT, default=None)


class PersonPatch(Strict):
    """Rectification of identity or contact fields (Art 16). Send only what changes."""

    given_name: Name | None = tagged(ID, default=None)
    family_name: Name | None = tagged(ID, default=None)
    date_of_birth: BirthDate | None = tagged(ID, default=None)
    sex: Sex | None = tagged(ID, default=None)
    nhs_number: NhsNumber | None = tagged(ID, default=None)
    upn: Upn | None = tagged(ID, default=None)
    phone: Phone | None = tagged(CONTACT, default=None)
    email: EmailStr | None = tagged(CONTACT, default=None)


class PersonRead(BaseModel):
    """A person. Fields of a category the decision did not allow are absent, and the
    category is named in `X-Withheld-Categories`."""

    id: UUID | None = tagged(ID, default=None)
    family_id: UUID | None = tagged(ID, default=None)
    kind: PersonKind | None = tagged(ID, default=None)
    given_name: str | None = tagged(ID, default=None)
    family_name: str | None = tagged(ID, default=None)
    date_of_birth: date | None = tagged(ID, default=None)
    sex: Sex | None = tagged(ID, default=None)
    nhs_number: str | None = tagged(ID, default=None)
    upn: str | None = tagged(ID, default=None)
    has_parental_responsibility: bool | None = tagged(ID, default=None)
    address: Address | None = tagged(CONTACT, default=None, description="The household's.")
    phone: str | None = tagged(CONTACT, default=None)
    email: str | None = tagged(CONTACT, default=None)


class PersonPage(BaseModel):
    """The person an exact identifier names: one, or none."""

    items: list[PersonRead] = tagged(Category.IDENTITY)
    next_cursor: str | None = tagged(
        Category.IDENTITY, default=None, description="Always null: an identifier names one person."
    )


class RelationshipKind(StrEnum):
    """Who the other person is to this person: `parent` says the other is this person's
    parent."""

    PARENT = "parent"
    STEP_PARENT = "step_parent"
    GRANDPARENT = "grandparent"
    SIBLING = "sibling"
    HALF_SIBLING = "half_sibling"
    CHILD = "child"
    OTHER_RELATIVE = "other_relative"
    CARER = "carer"
    PARTNER = "partner"
    OTHER = "other"


class RelationshipRead(BaseModel):
    id: UUID = tagged(HOUSEHOLD)
    person_id: UUID = tagged(HOUSEHOLD, description="Whose relationship it is.")
    kind: RelationshipKind = tagged(HOUSEHOLD)
    to_person_id: UUID | None = tagged(HOUSEHOLD, default=None)
    to_name: str | None = tagged(HOUSEHOLD, default=None, examples=["Grace Mensah"])
    in_household: bool = tagged(HOUSEHOLD)
    has_parental_responsibility: bool | None = tagged(HOUSEHOLD, default=None)
    created_at: datetime = tagged(HOUSEHOLD)


class FamilyRead(BaseModel):
    """A household and its members, each member filtered by its own decision."""

    id: UUID | None = tagged(CONTACT, default=None, description="The household's id.")
    address: Address | None = tagged(CONTACT, default=None)
    phone: str | None = tagged(CONTACT, default=None)
    email: str | None = tagged(CONTACT, default=None)
    members: list[PersonRead] | None = tagged(HOUSEHOLD, default=None)
    members_withheld: int | None = tagged(
        HOUSEHOLD,
        default=None,
        description="Members left out because the decision about them was a denial.",
    )
    relationships: list[RelationshipRead] | None = tagged(
        HOUSEHOLD,
        default=None,
        description="The family relationships recorded from the members returned, in and "
        "outside the household.",
    )


class Health(Strict):
    medical_history: str | None = tagged(Category.HEALTH, default=None, max_length=10_000)
    wellbeing: str | None = tagged(Category.HEALTH, default=None, max_length=10_000)
    needs: str | None = tagged(Category.HEALTH, default=None, max_length=10_000)
    allergies: str | None = tagged(Category.HEALTH, default=None, max_length=10_000)


class SpecialCategory(Strict):
    """Ethnicity (Art 9: racial or ethnic origin) and health. Stored encrypted."""

    ethnicity: EthnicCategory | None = tagged(Category.ETHNICITY, default=None)
    health: Health | None = tagged(Category.HEALTH, default=None)


class Circumstances(Strict):
    work_status: str | None = tagged(Category.CIRCUMSTANCES, default=None, max_length=40)
    family_makeup: str | None = tagged(Category.CIRCUMSTANCES, default=None, max_length=40)
    legal_status: str | None = tagged(Category.CIRCUMSTANCES, default=None, max_length=40)
    accommodation: str | None = tagged(Category.CIRCUMSTANCES, default=None, max_length=40)


class FamilyWorkerSupportCreate(Strict):
    started_on: date = tagged(Category.SERVICES, description="When the support began.")


class FamilyWorkerSupportRead(BaseModel):
    id: UUID = tagged(Category.SERVICES)
    family_id: UUID = tagged(Category.SERVICES)
    person_id: UUID = tagged(Category.SERVICES)
    started_on: date = tagged(Category.SERVICES)
    retention_until: date = tagged(
        Category.SERVICES, description="The child's data is now kept until this date."
    )
