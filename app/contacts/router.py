"""/v1/people/{id}/contacts: visits, calls, meetings, sessions, development reviews."""

from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app.auth.deps import CallerDep
from app.contacts import schemas
from app.contacts import service as contacts_service
from app.decisions.guard import PurposeDep
from app.decisions.subjects import PersonAccess, PersonId, decide_for_person, person_guard
from app.platform.crypto import KeyRing, get_key_ring
from app.platform.db import SessionDep
from app.platform.idempotency import IdempotencyDep
from app.policy.vocabulary import Action

router = APIRouter(tags=["contacts"])

KeysDep = Annotated[KeyRing, Depends(get_key_ring)]
Limit = Annotated[int, Query(ge=1, le=200, description="Contacts per page.")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` from the previous page.")
]

ReadContacts = Annotated[
    PersonAccess, Depends(person_guard(Action.READ, schemas.ContactRead, "contact"))
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
    access: ReadContacts,
    session: SessionDep,
    keys: KeysDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> schemas.ContactPage:
    found = contacts_service.page(
        session,
        access.person,
        keys,
        allowed=access.allowed.categories,
        limit=limit,
        cursor=cursor,
    )
    return schemas.ContactPage(
        items=[access.allowed.only(schemas.ContactRead, item) for item in found.items],
        next_cursor=found.next_cursor,
    )


@router.post(
    "/people/{person_id}/contacts",
    status_code=status.HTTP_201_CREATED,
    summary="Record a visit, call, meeting, session or development review",
    description="The decision asks for the categories the contact holds: `services`, and "
    "`health` when it records a review's `outcome`. `notes` and `outcome` are stored "
    "encrypted. A retry with the same `Idempotency-Key` returns the first contact "
    "(`Idempotent-Replayed: true`) without `notes` and `outcome`, which are never kept "
    "outside the encrypted record.",
    response_model_exclude_unset=True,
)
def create_contact(
    person_id: PersonId,
    body: schemas.ContactCreate,
    idempotency: IdempotencyDep,
    request: Request,
    response: Response,
    caller: CallerDep,
    declared: PurposeDep,
    session: SessionDep,
    keys: KeysDep,
) -> schemas.ContactRead:
    access = decide_for_person(
        session,
        request,
        response,
        caller,
        declared,
        person_id,
        action=Action.WRITE,
        categories=contacts_service.held_categories(body),
        resource="contact",
    )
    stored = contacts_service.create(session, access.person, body, keys, contact_id=uuid4())
    replay = access.allowed.only(schemas.ContactRead, contacts_service.replayable(stored))
    idempotency.remember(session, status.HTTP_201_CREATED, replay)
    return access.allowed.only(schemas.ContactRead, stored)
