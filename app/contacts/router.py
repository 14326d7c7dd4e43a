"""/v1/people/{id}/contacts: visits, calls, meetings, sessions, development reviews."""

from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, Depends, Query, status

from app.contacts import schemas
from app.contacts import service as contacts_service
from app.decisions.access import Access, From, Shape, declare
from app.platform.crypto import KeyRing, get_key_ring
from app.platform.db import SessionDep
from app.policy.vocabulary import Action, RecordKind

router = APIRouter(tags=["contacts"])

KeysDep = Annotated[KeyRing, Depends(get_key_ring)]
Limit = Annotated[int, Query(ge=1, le=200, description="Contacts per page.")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` from the previous page.")
]


def _held(body: schemas.ContactCreate | None, _query: object) -> Shape:
    """The categories the contact holds (`health` with a review's outcome); a
    development review belongs to health visitors under `health_care`."""
    if body is None:
        return Shape()
    review = body.kind is schemas.ContactKind.DEVELOPMENT_REVIEW
    return Shape(
        categories=contacts_service.held_categories(body),
        record=RecordKind.DEVELOPMENT_REVIEW if review else None,
    )


ReadContacts = Annotated[
    Access,
    declare("list_contacts", Action.READ, schemas.ContactRead, "contact", subject=From.PERSON),
]
WriteContact = Annotated[
    Access,
    declare(
        "create_contact",
        Action.WRITE,
        schemas.ContactCreate,
        "contact",
        subject=From.PERSON,
        body=schemas.ContactCreate,
        shape=_held,
        idempotent=True,
    ),
]


@router.get(
    "/people/{person_id}/contacts",
    summary="List a person's contacts, the most recent first",
    description="A development review's `outcome` is health data: a read whose decision "
    "does not reach health gets the contacts without it, and `X-Withheld-Categories: "
    "health`.",
    response_model_exclude_unset=True,
)
def list_contacts(
    granted: ReadContacts,
    session: SessionDep,
    keys: KeysDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> schemas.ContactPage:
    found = contacts_service.page(
        session,
        granted.the_person(),
        keys,
        allowed=granted.categories,
        limit=limit,
        cursor=cursor,
    )
    return schemas.ContactPage(
        items=[granted.only(schemas.ContactRead, item) for item in found.items],
        next_cursor=found.next_cursor,
    )


@router.post(
    "/people/{person_id}/contacts",
    status_code=status.HTTP_201_CREATED,
    summary="Record a visit, call, meeting, session or development review",
    description="The decision asks for the categories the contact holds: `services`, and "
    "`health` when it records a review's `outcome`. A `development_review` is recorded "
    "by a health visitor under `health_care` only (any other role: 403 "
    "`purpose_not_permitted`). `notes` and `outcome` are stored "
    "encrypted. A retry with the same `Idempotency-Key` returns the first contact "
    "(`Idempotent-Replayed: true`) without `notes` and `outcome`, which are never kept "
    "outside the encrypted record.",
    response_model_exclude_unset=True,
)
def create_contact(
    body: schemas.ContactCreate, granted: WriteContact, session: SessionDep, keys: KeysDep
) -> schemas.ContactRead:
    stored = contacts_service.create(session, granted.the_person(), body, keys, contact_id=uuid4())
    replay = granted.only(schemas.ContactRead, contacts_service.replayable(stored))
    granted.remember(session, status.HTTP_201_CREATED, replay)
    return granted.only(schemas.ContactRead, stored)
