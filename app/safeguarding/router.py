"""/v1/people/{id}/safeguarding: risk issues, plans, looked-after status, assessments."""

from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, Depends, Query, status

from app.decisions.access import Access, From, Shape, declare
from app.decisions.guard import today
from app.platform.crypto import KeyRing, get_key_ring
from app.platform.db import SessionDep
from app.policy.vocabulary import Action, RecordKind
from app.safeguarding import schemas
from app.safeguarding import service as safeguarding_service

router = APIRouter(tags=["safeguarding"])

KeysDep = Annotated[KeyRing, Depends(get_key_ring)]
Limit = Annotated[int, Query(ge=1, le=200, description="Records per page.")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` from the previous page.")
]

_STATUSES = frozenset(
    {schemas.SafeguardingKind.CHILD_PROTECTION_PLAN, schemas.SafeguardingKind.LOOKED_AFTER}
)


def _record(body: schemas.SafeguardingCreate | None, _query: object) -> Shape:
    """DOMAIN.md "Who may record what": a plan or looked-after status belongs to those
    children's social care told; a risk issue or assessment to anyone who safeguards."""
    if body is None:
        return Shape()
    status = body.kind in _STATUSES
    return Shape(record=RecordKind.SAFEGUARDING_STATUS if status else RecordKind.SAFEGUARDING_NOTE)


ReadSafeguarding = Annotated[
    Access,
    declare(
        "list_safeguarding",
        Action.READ,
        schemas.SafeguardingRead,
        "safeguarding",
        subject=From.PERSON,
    ),
]
WriteSafeguarding = Annotated[
    Access,
    declare(
        "create_safeguarding",
        Action.WRITE,
        schemas.SafeguardingCreate,
        "safeguarding",
        subject=From.PERSON,
        body=schemas.SafeguardingCreate,
        shape=_record,
        idempotent=True,
    ),
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
    granted: ReadSafeguarding,
    session: SessionDep,
    keys: KeysDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> schemas.SafeguardingPage:
    found = safeguarding_service.page(
        session, granted.the_person(), keys, today(), limit=limit, cursor=cursor
    )
    return schemas.SafeguardingPage(
        items=[granted.only(schemas.SafeguardingRead, item) for item in found.items],
        next_cursor=found.next_cursor,
    )


@router.post(
    "/people/{person_id}/safeguarding",
    status_code=status.HTTP_201_CREATED,
    summary="Record a risk issue, plan, looked-after status or assessment",
    description="Every field is stored encrypted. A `child_protection_plan` or "
    "`looked_after` status is recorded under `safeguarding` only, by a health visitor, "
    "family worker or children's centre worker (children's social care decides it; "
    "`source` says who told them); a `risk_issue` or `assessment` by any role that may "
    "declare `safeguarding`. Any other role is 403 `purpose_not_permitted`. A retry "
    "with the same `Idempotency-Key` is decided like the first call and returns the first "
    "record's `id`, `person_id` and `created_at` (`Idempotent-Replayed: true`): what it "
    "says of the child is never kept outside the encrypted record.",
    response_model_exclude_unset=True,
)
def create_safeguarding(
    body: schemas.SafeguardingCreate,
    granted: WriteSafeguarding,
    session: SessionDep,
    keys: KeysDep,
) -> schemas.SafeguardingRead:
    stored = safeguarding_service.create(
        session, granted.the_person(), body, keys, today(), record_id=uuid4()
    )
    replay = granted.only(schemas.SafeguardingRead, safeguarding_service.replayable(stored))
    granted.remember(session, status.HTTP_201_CREATED, replay)
    return granted.only(schemas.SafeguardingRead, stored)
