"""/v1/needs-assessment: households not yet in touch with any service, for outreach."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from app.centres import catalogue as centres_catalogue
from app.decisions.access import Access, Listed, Shape, declare
from app.decisions.guard import today
from app.needs import schemas
from app.needs import service as needs_service
from app.people.models import Person
from app.people.schemas import Address
from app.platform.problems import Unprocessable
from app.policy.vocabulary import Action

router = APIRouter(tags=["needs assessment"])

Limit = Annotated[int, Query(ge=1, le=200, description="Households per page.")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` from the previous page.")
]


@dataclass(frozen=True, slots=True)
class NeedsAsk:
    centre: str
    limit: int
    cursor: str | None


def _ask(
    centre: Annotated[
        str, Query(max_length=40, description="A centre's `code` (GET /v1/centres).")
    ],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> NeedsAsk:
    if centre not in centres_catalogue.codes():
        raise Unprocessable("centre", "no children's centre with this code")
    return NeedsAsk(centre=centre, limit=limit, cursor=cursor)


def _list(session: Session, ask: NeedsAsk) -> Listed:
    found = needs_service.not_in_touch(
        session, centre=ask.centre, today=today(), limit=ask.limit, cursor=ask.cursor
    )
    return Listed(result=found, subjects=tuple(found.person_ids))


def _centre(_body: None, ask: NeedsAsk | None) -> Shape:
    return Shape(detail={"centre": ask.centre} if ask is not None else None)


NeedsList = Annotated[
    Access,
    declare(
        "needs_assessment",
        Action.LIST,
        schemas.OutreachFamily,
        "needs_assessment",
        query=_ask,
        listing=_list,
        shape=_centre,
    ),
]


@router.get(
    "/needs-assessment",
    summary="Households in a centre's area not yet in touch with any service",
    description="Under `needs_assessment` only (health visitors, children's centre workers, "
    "family workers): identity, contact and circumstances, never ethnicity (DPA 2018 Sch 1 "
    "para 8 may not support a measure about one family). A household is in touch once any "
    "member has a recorded contact, enrolment, family-worker support or consent. The list is "
    "ordered by household id and carries no score or rank: it is for outreach, and the "
    "service makes no automated decision about a family. Members restricted, who objected "
    "or past their destruction date are left out (children counted in `left_out`); a "
    "household with no child left is not listed.",
    response_model_exclude_unset=True,
)
def needs_assessment(granted: NeedsList) -> schemas.NeedsAssessmentList:
    ask: NeedsAsk = granted.query
    found = granted.listed
    return schemas.NeedsAssessmentList(
        centre=ask.centre,
        items=[
            granted.only(schemas.OutreachFamily, _household_values(household))
            for household in found.households
        ],
        left_out=schemas.NeedsLeftOut(**found.left_out),
        next_cursor=found.next_cursor,
    )


def _member(person: Person) -> schemas.Member:
    return schemas.Member(
        id=person.id,
        kind=person.kind,
        given_name=person.given_name,
        family_name=person.family_name,
        date_of_birth=person.date_of_birth,
        phone=person.phone,
        email=person.email,
    )


def _household_values(household: needs_service.Household) -> dict[str, object]:
    family = household.family
    return {
        "family_id": family.id,
        "address": Address(
            line1=family.address_line1, line2=family.address_line2, postcode=family.postcode
        ),
        "phone": family.phone,
        "email": family.email,
        "children": [_member(child) for child in household.children],
        "carers": [_member(carer) for carer in household.carers],
        "circumstances": [
            schemas.MemberCircumstances(
                person_id=record.person_id,
                work_status=record.work_status,
                family_makeup=record.family_makeup,
                legal_status=record.legal_status,
                accommodation=record.accommodation,
            )
            for record in household.circumstances
        ],
    }
