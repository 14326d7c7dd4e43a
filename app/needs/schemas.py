"""The needs-assessment list: identity, contact and circumstances, for outreach.

Never a score: nothing here ranks, rates or profiles a family (DOMAIN.md, "No automated
decision-making"). Every field carries its category; the members and counts are
identity, the address and carers' contact details contact.
"""

from datetime import date
from uuid import UUID

from pydantic import BaseModel

from app.people.schemas import Address
from app.platform.categories import tagged
from app.policy.vocabulary import Category

ID = Category.IDENTITY
CONTACT = Category.CONTACT
CIRCUMSTANCES = Category.CIRCUMSTANCES


class Member(BaseModel):
    """A child or a carer of the household."""

    id: UUID = tagged(ID)
    kind: str = tagged(ID, description="`child` or `carer`.")
    given_name: str = tagged(ID)
    family_name: str = tagged(ID)
    date_of_birth: date = tagged(ID)
    phone: str | None = tagged(CONTACT, default=None)
    email: str | None = tagged(CONTACT, default=None)


class MemberCircumstances(BaseModel):
    """Circumstances recorded for one member."""

    person_id: UUID = tagged(CIRCUMSTANCES)
    work_status: str | None = tagged(CIRCUMSTANCES, default=None)
    family_makeup: str | None = tagged(CIRCUMSTANCES, default=None)
    legal_status: str | None = tagged(CIRCUMSTANCES, default=None)
    accommodation: str | None = tagged(CIRCUMSTANCES, default=None)


class OutreachFamily(BaseModel):
    """A household in the area with no contact, enrolment, support or consent yet."""

    family_id: UUID = tagged(CONTACT)
    address: Address = tagged(CONTACT)
    phone: str | None = tagged(CONTACT, default=None)
    email: str | None = tagged(CONTACT, default=None)
    children: list[Member] = tagged(ID)
    carers: list[Member] = tagged(CONTACT, description="Those who may be contacted.")
    circumstances: list[MemberCircumstances] = tagged(CIRCUMSTANCES)


class NeedsLeftOut(BaseModel):
    """Children of listed or unlisted households left out, by reason; no one is named.

    A household whose every child is left out is not listed.
    """

    restricted: int = tagged(ID, description="Processing is restricted (Art 18).")
    objection_upheld: int = tagged(ID, description="An objection was upheld (Art 21).")
    retention_expired: int = tagged(
        ID, description="The record is past its destruction date and not yet destroyed."
    )


class NeedsAssessmentList(BaseModel):
    """Households in a centre's area not yet in touch with any service, by household id."""

    centre: str = tagged(CONTACT)
    items: list[OutreachFamily] = tagged(
        CONTACT, description="By household id: an order that says nothing about a family."
    )
    left_out: NeedsLeftOut = tagged(ID)
    next_cursor: str | None = tagged(
        CONTACT,
        default=None,
        description="Pass as `cursor` for the next page; null on the last page.",
    )
