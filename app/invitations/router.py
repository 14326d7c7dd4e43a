"""/v1/invitations: children due a Healthy Child Programme review, for a mail merge."""

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from sqlalchemy.orm import Session

from app.centres import catalogue as centres_catalogue
from app.contacts.schemas import DevelopmentReview
from app.decisions.access import Access, Listed, Shape, declare
from app.decisions.guard import today
from app.invitations import schemas, windows
from app.invitations import service as invitations_service
from app.people.schemas import Address
from app.platform.identifiers import IsoDate
from app.platform.problems import Unprocessable
from app.policy.vocabulary import Action
from app.reports import tabular

router = APIRouter(tags=["invitations"])

Limit = Annotated[int, Query(ge=1, le=1000, description="Children per page.")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` from the previous page.")
]
Accept = Annotated[
    str | None,
    Header(description="`text/csv` for the list as CSV (a mail merge); JSON otherwise."),
]

CSV_HEADER = (
    "child_id",
    "given_name",
    "family_name",
    "date_of_birth",
    "due_from",
    "due_by",
    "addressee",
    "address_line1",
    "address_line2",
    "postcode",
    "phone",
    "email",
)
DECISION_HEADERS = ("X-Decision-Id", "X-Lawful-Basis", "X-Withheld-Categories")

_CSV_DESCRIPTION = (
    "With `Accept: text/csv`: the same page, one row per child, columns "
    + ", ".join(f"`{name}`" for name in CSV_HEADER)
    + ". `addressee` names the carers to write to (or the parent or carer of the child "
    "when none may be written to). The next page's cursor is in `X-Next-Cursor` and the "
    "children left out in `X-Left-Out` (`reason=count`, comma-separated)."
)


@dataclass(frozen=True, slots=True)
class InvitationAsk:
    review: DevelopmentReview
    centre: str
    on: date
    limit: int
    cursor: str | None


def _ask(
    review: Annotated[DevelopmentReview, Query(description="The review the children are due.")],
    centre: Annotated[
        str, Query(max_length=40, description="A centre's `code` (GET /v1/centres).")
    ],
    on: Annotated[
        IsoDate | None, Query(description="The day the children are due; default today (London).")
    ] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> InvitationAsk:
    if centre not in centres_catalogue.codes():
        raise Unprocessable("centre", "no children's centre with this code")
    return InvitationAsk(review=review, centre=centre, on=on or today(), limit=limit, cursor=cursor)


def _list(session: Session, ask: InvitationAsk) -> Listed:
    found = invitations_service.due(
        session,
        review=ask.review,
        centre=ask.centre,
        on=ask.on,
        today=today(),
        limit=ask.limit,
        cursor=ask.cursor,
    )
    return Listed(result=found, subjects=tuple(found.person_ids))


def _detail(_body: None, ask: InvitationAsk | None) -> Shape:
    if ask is None:
        return Shape()
    return Shape(
        detail={"review": ask.review.value, "centre": ask.centre, "on": ask.on.isoformat()}
    )


Invitations = Annotated[
    Access,
    declare(
        "list_invitations",
        Action.LIST,
        schemas.Invitation,
        "invitation",
        query=_ask,
        listing=_list,
        shape=_detail,
    ),
]


@router.get(
    "/invitations",
    summary="Children due a development review on a day, in a children's centre's area",
    description="Under `service_invitation` only (health visitors, children's centre "
    "workers, family workers): identity and contact, the children and the carers to write "
    "to. A child is due when their age on `on` falls in the review's window (DOMAIN.md); "
    "they live in the centre's area when the centre serves their household's postcode "
    "(GET /v1/centres). Children already seen for the review, restricted, with an upheld "
    "objection or past their destruction date are left out and counted in `left_out`, "
    "never named. Every child and carer listed is recorded against the decision, so each "
    "one's access log shows the list. " + _CSV_DESCRIPTION,
    response_model=schemas.InvitationList,
    response_model_exclude_unset=True,
    responses={
        200: {
            "description": "The list: JSON, or CSV with `Accept: text/csv`.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def list_invitations(
    granted: Invitations, response: Response, accept: Accept = None
) -> schemas.InvitationList | Response:
    ask: InvitationAsk = granted.query
    found = granted.listed
    review, centre, day = ask.review, ask.centre, ask.on
    items = [
        granted.only(schemas.Invitation, _invitation_values(review, item)) for item in found.due
    ]
    left_out = schemas.LeftOut(**{reason.value: n for reason, n in found.left_out.items()})
    if tabular.negotiate(accept, (tabular.JSON, tabular.CSV)) == tabular.CSV:
        return _csv(items, left_out, found.next_cursor, response)
    return schemas.InvitationList(
        review=review,
        centre=centre,
        on=day,
        born_from=found.born_from,
        born_to=found.born_to,
        items=items,
        left_out=left_out,
        next_cursor=found.next_cursor,
    )


def _invitation_values(
    review: DevelopmentReview, item: invitations_service.Due
) -> dict[str, object]:
    row = item.row
    due_from, due_by = windows.window(review, row.date_of_birth)
    return {
        "child_id": row.id,
        "given_name": row.given_name,
        "family_name": row.family_name,
        "date_of_birth": row.date_of_birth,
        "due_from": due_from,
        "due_by": due_by,
        "address": Address(line1=row.address_line1, line2=row.address_line2, postcode=row.postcode),
        "phone": row.phone,
        "email": row.email,
        "carers": [
            schemas.Carer(
                id=carer.id,
                given_name=carer.given_name,
                family_name=carer.family_name,
                has_parental_responsibility=carer.has_parental_responsibility,
                phone=carer.phone,
                email=carer.email,
            )
            for carer in item.carers
        ],
    }


def _addressee(item: schemas.Invitation) -> str:
    if not item.carers:
        return f"The parent or carer of {item.given_name} {item.family_name}"
    return " and ".join(f"{carer.given_name} {carer.family_name}" for carer in item.carers)


def _csv(
    items: list[schemas.Invitation],
    left_out: schemas.LeftOut,
    next_cursor: str | None,
    decided: Response,
) -> Response:
    body = tabular.csv_text(
        CSV_HEADER,
        (
            (
                item.child_id,
                item.given_name,
                item.family_name,
                item.date_of_birth.isoformat(),
                item.due_from.isoformat(),
                item.due_by.isoformat(),
                _addressee(item),
                item.address.line1,
                item.address.line2,
                item.address.postcode,
                item.phone or next((c.phone for c in item.carers if c.phone), None),
                item.email or next((c.email for c in item.carers if c.email), None),
            )
            for item in items
        ),
    )
    # A returned Response does not carry the headers the guard set on the injected one.
    headers = {name: decided.headers[name] for name in DECISION_HEADERS if name in decided.headers}
    headers["X-Left-Out"] = ",".join(f"{name}={n}" for name, n in left_out.model_dump().items())
    if next_cursor is not None:
        headers["X-Next-Cursor"] = next_cursor
    return Response(
        content=body,
        media_type="text/csv; charset=utf-8",
        headers={**headers, "Content-Disposition": 'attachment; filename="invitations.csv"'},
    )
