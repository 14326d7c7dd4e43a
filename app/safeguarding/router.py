"""/v1/people/{id}/safeguarding: risk issues, plans, looked-after status, assessments."""

from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, Depends, Query, status

from app.decisions.guard import today
from app.decisions.subjects import PersonAccess, person_guard
from app.platform.crypto import KeyRing, get_key_ring
from app.platform.db import SessionDep
from app.platform.idempotency import IdempotencyDep
from app.policy.vocabulary import Action
from app.safeguarding import schemas
from app.safeguarding import service as safeguarding_service

router = APIRouter(tags=["safeguarding"])

KeysDep = Annotated[KeyRing, Depends(get_key_ring)]
Limit = Annotated[int, Query(ge=1, le=200, description="Records per page.")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` from the previous page.")
]

ReadSafeguarding = Annotated[
    PersonAccess,
    Depends(person_guard(Action.READ, schemas.SafeguardingRead, "safeguarding")),
]
WriteSafeguarding = Annotated[
    PersonAccess,
    Depends(person_guard(Action.WRITE, schemas.SafeguardingCreate, "safeguarding")),
]


@router.get(
    "/people/{person_id}/safeguarding",
    summary="List a person's safeguarding records, newest first",
    description="Reached under `nursery_care` (a child attending the caller's nursery), "
    "`safeguarding` (with `X-Justification`; flagged for review) and the officer's "
    "purposes. `active` says whether a child protection plan is in force today.",
    response_model_exclude_unset=True,
)
def list_safeguarding(
    access: ReadSafeguarding,
    session: SessionDep,
    keys: KeysDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> schemas.SafeguardingPage:
    found = safeguarding_service.page(
        session, access.person, keys, today(), limit=limit, cursor=cursor
    )
    return schemas.SafeguardingPage(
        items=[access.allowed.only(schemas.SafeguardingRead, item) for item in found.items],
        next_cursor=found.next_cursor,
    )


@router.post(
    "/people/{person_id}/safeguarding",
    status_code=status.HTTP_201_CREATED,
    summary="Record a risk issue, plan, looked-after status or assessment",
    description="`summary` and `source` are stored encrypted. A retry with the same "
    "`Idempotency-Key` returns the first record's id and dates (`Idempotent-Replayed: "
    "true`) without `summary` and `source`, which are never kept outside the encrypted "
    "record.",
    response_model_exclude_unset=True,
)
def create_safeguarding(
    body: schemas.SafeguardingCreate,
    idempotency: IdempotencyDep,
    access: WriteSafeguarding,
    session: SessionDep,
    keys: KeysDep,
) -> schemas.SafeguardingRead:
    stored = safeguarding_service.create(
        session, access.person, body, keys, today(), record_id=uuid4()
    )
    replay = access.allowed.only(schemas.SafeguardingRead, safeguarding_service.replayable(stored))
    idempotency.remember(session, status.HTTP_201_CREATED, replay)
    return access.allowed.only(schemas.SafeguardingRead, stored)
