"""Invitations to a Healthy Child Programme review: identity and contact only.

Every field carries its category. The list's own terms (review, centre, day, the
birth dates the window covers) and the counts of children left out are tagged
identity: they describe whom the list is about, and service_invitation reaches
identity and contact only.
"""

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel

from app.contacts.schemas import DevelopmentReview
from app.people.schemas import Address
from app.platform.categories import tagged
from app.policy.vocabulary import Category

ID = Category.IDENTITY
CONTACT = Category.CONTACT


class LeftOutReason(StrEnum):
    """Why a child in the window and the area is not on the list (API.md)."""

    ALREADY_SEEN = "already_seen"
    ERASED = "erased"
    RESTRICTED = "restricted"
    OBJECTION_UPHELD = "objection_upheld"
    RETENTION_EXPIRED = "retention_expired"


class Carer(BaseModel):
    """A carer in the child's household: someone to write to."""

    id: UUID = tagged(ID)
    given_name: str = tagged(ID)
    family_name: str = tagged(ID)
    has_parental_responsibility: bool = tagged(ID)
    phone: str | None = tagged(CONTACT, default=None)
    email: str | None = tagged(CONTACT, default=None)


class Invitation(BaseModel):
    """One child due the review, with the household's address and its carers."""

    child_id: UUID = tagged(ID)
    given_name: str = tagged(ID)
    family_name: str = tagged(ID)
    date_of_birth: date = tagged(ID)
    due_from: date = tagged(ID, description="The first day of the child's window.")
    due_by: date = tagged(ID, description="The last day of the child's window.")
    address: Address = tagged(CONTACT, description="The household's.")
    phone: str | None = tagged(CONTACT, default=None, description="The household's.")
    email: str | None = tagged(CONTACT, default=None, description="The household's.")
    carers: list[Carer] = tagged(
        CONTACT,
        description="The household's carers who may be written to, those with parental "
        "responsibility first. A carer whose processing is restricted, who objected, or "
        "whose record is past its destruction date is not listed.",
    )


class LeftOut(BaseModel):
    """Children in the window and the centre's area who are not on the list, by reason.

    Each child is counted once, under the first reason that applies in the decision
    order of DOMAIN.md (retention, restriction, objection), then `already_seen`. No one is
    named.
    """

    already_seen: int = tagged(
        ID, description="A development review of this kind is already recorded for them."
    )
    erased: int = tagged(
        ID,
        description="Always 0, and kept so every reason of API.md is present: erasure "
        "really deletes the child (DOMAIN.md), and the destruction log keeps no date of "
        "birth or address, so no erased child can be placed in a window or an area.",
    )
    restricted: int = tagged(ID, description="Processing is restricted (Art 18).")
    objection_upheld: int = tagged(ID, description="An objection was upheld (Art 21).")
    retention_expired: int = tagged(
        ID, description="The record is past its destruction date and not yet destroyed."
    )


class InvitationList(BaseModel):
    """Children due a review on a day, living in a children's centre's area."""

    review: DevelopmentReview = tagged(ID)
    centre: str = tagged(CONTACT, description="The centre whose area the children live in.")
    on: date = tagged(ID, description="The day the children are due.")
    born_from: date = tagged(ID, description="The earliest birth date due on the day.")
    born_to: date = tagged(ID, description="The latest birth date due on the day.")
    items: list[Invitation] = tagged(ID, description="By date of birth, then child id.")
    left_out: LeftOut = tagged(ID)
    next_cursor: str | None = tagged(
        ID, default=None, description="Pass as `cursor` for the next page; null on the last page."
    )
