"""/v1/shares and /v1/recipients: sharing outside the service, and with whom it may go."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.auth.deps import CallerDep
from app.decisions.access import Access, From, Shape, declare
from app.decisions.guard import today
from app.platform.crypto import KeyRing, get_key_ring
from app.platform.db import SessionDep
from app.platform.pagination import page_of
from app.policy.vocabulary import Action
from app.reference import catalogue
from app.sharing import schemas
from app.sharing import service as sharing_service

router = APIRouter(tags=["sharing"])

KeysDep = Annotated[KeyRing, Depends(get_key_ring)]
Limit = Annotated[int, Query(ge=1, le=200, description="Recipients per page.")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` from the previous page.")
]


def _share(body: schemas.ShareCreate | None, _query: object) -> Shape:
    """A share is decided for its recipient and the categories it asks for."""
    if body is None:
        return Shape()
    to = sharing_service.recipient(body.recipient)
    return Shape(
        categories=frozenset(body.categories),
        recipient=to.code,
        recipient_consent_type=to.consent_type,
        detail={"recipient": to.code},
    )


Share = Annotated[
    Access,
    declare(
        "create_share",
        Action.SHARE,
        frozenset(),
        "share",
        subject=From.BODY_PERSON,
        body=schemas.ShareCreate,
        shape=_share,
        idempotent=True,
    ),
]


@router.get(
    "/recipients",
    summary="The organisations outside the service a share may go to",
    description="Reference data, not personal data: any valid token, no `X-Purpose`. "
    "Each names the consent type that permits a share to it; a recipient with none "
    "receives a share only under `safeguarding`.",
)
def list_recipients(
    _: CallerDep, limit: Limit = 50, cursor: Cursor = None
) -> schemas.RecipientOrganisationPage:
    recipients = catalogue.recipients()
    found = page_of(list(recipients), lambda code: (code,), (str,), limit=limit, cursor=cursor)
    return schemas.RecipientOrganisationPage(
        items=[
            schemas.RecipientOrganisationRead(
                code=code,
                name=recipients[code].name,
                consent_type=recipients[code].consent_type,
                purpose=recipients[code].purpose,
                country=recipients[code].country,
                transfer_safeguard=recipients[code].transfer_safeguard,
                notifies_electronically=catalogue.notification_url(recipients[code]) is not None,
            )
            for code in found.items
        ],
        next_cursor=found.next_cursor,
    )


@router.post(
    "/shares",
    status_code=status.HTTP_201_CREATED,
    summary="Share a person's data with an organisation outside the service",
    description="A decision of its own for (subject, recipient, categories, purpose): "
    "allowed with an active consent of the recipient's consent type, naming it and "
    "covering every category asked (under `early_help` without a child protection plan, "
    "also an active `early_help_support` consent covering them); otherwise only under "
    "`safeguarding` with "
    "`X-Justification` (every such share is listed for the officer's review). A share "
    "asking for a category it may not have is refused whole (`403`). On success the "
    "package disclosed is returned and recorded as a disclosure, shown in the person's "
    "access log with the recipient. An unknown recipient, or a `subject_id` naming no "
    "person, is `422`.",
    response_model_exclude_unset=True,
)
def create_share(
    body: schemas.ShareCreate, granted: Share, session: SessionDep, keys: KeysDep
) -> schemas.ShareRead:
    to = sharing_service.recipient(body.recipient)
    person = granted.the_person()
    package = sharing_service.package(session, person, granted.categories, keys, today())
    disclosure = sharing_service.record(
        session, granted.allowed, granted.caller, granted.declared.purpose, person.id, to
    )
    disclosed = sharing_service.values(
        disclosure, review_required=granted.allowed.decision.review_required
    )
    # The data itself is never kept outside the record: a replay names the disclosure only.
    granted.remember(session, status.HTTP_201_CREATED, schemas.ShareRead(**disclosed))
    return schemas.ShareRead(**disclosed, package=schemas.SharePackage(**package))
