"""/v1/reviews/safeguarding: every use of the safeguarding override, for the officer.

DOMAIN.md: every use of `safeguarding` is flagged for review. The queue lists the
allowed overrides no officer has reviewed; recording an outcome takes one off it. The
officer works here under `subject_rights` (API.md: the officer's audit work).
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.auth.caller import Caller
from app.auth.deps import CallerDep
from app.decisions.guard import Allowed, Declared, PurposeDep, Subject, check
from app.platform.categories import categories_of
from app.platform.db import SessionDep
from app.platform.idempotency import IdempotencyDep
from app.policy.model import RecordState
from app.policy.vocabulary import Action, Purpose, SubjectKind
from app.reviews import schemas
from app.reviews import service as reviews_service

router = APIRouter(tags=["reviews"])

OFFICER_PURPOSES = frozenset({Purpose.SUBJECT_RIGHTS})

DecisionId = Annotated[UUID, Path(description="The override's decision id (X-Decision-Id).")]
Limit = Annotated[int, Query(ge=1, le=500, description="Overrides per page.")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` from the previous page.")
]


def _officer(
    session: Session,
    request: Request,
    response: Response,
    caller: Caller,
    declared: Declared,
    *,
    action: Action,
    model: type[BaseModel],
    detail: dict[str, Any] | None = None,
) -> Allowed:
    # The queue spans many subjects: the decision is the officer's, about no one person.
    return check(
        session,
        request,
        response,
        caller,
        declared,
        action=action,
        categories=categories_of(model),
        subject=Subject(None, RecordState(kind=SubjectKind.FAMILY)),
        resource="safeguarding_review",
        detail=detail,
        purposes=OFFICER_PURPOSES,
    )


@router.get(
    "/reviews/safeguarding",
    summary="Safeguarding overrides awaiting the officer's review, the oldest first",
    description="The data protection officer, under `X-Purpose: subject_rights`. Lists "
    "every allowed use of the `safeguarding` purpose (reads, writes and shares, dry runs "
    "included) that has no review yet, with who used it, on whom, why and, for a share, "
    "the recipient.",
)
def list_overrides(
    request: Request,
    response: Response,
    caller: CallerDep,
    declared: PurposeDep,
    session: SessionDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> schemas.SafeguardingOverridePage:
    allowed = _officer(
        session,
        request,
        response,
        caller,
        declared,
        action=Action.LIST,
        model=schemas.SafeguardingOverrideRead,
    )
    found = reviews_service.awaiting(session, limit=limit, cursor=cursor)
    return schemas.SafeguardingOverridePage(
        items=[
            allowed.only(schemas.SafeguardingOverrideRead, reviews_service.override_values(event))
            for event in found.items
        ],
        next_cursor=found.next_cursor,
    )


@router.post(
    "/reviews/safeguarding/{decision_id}",
    status_code=status.HTTP_201_CREATED,
    summary="Record the officer's review of a safeguarding override",
    description="The data protection officer, under `X-Purpose: subject_rights`. The "
    "override leaves the queue. An unknown decision is 404; a decision that was not an "
    "allowed safeguarding override is 422; one already reviewed is 409.",
    response_model_exclude_unset=True,
    responses={
        404: {"description": "No decision with this id"},
        409: {"description": "The override was already reviewed"},
    },
)
def review_override(
    decision_id: DecisionId,
    body: schemas.SafeguardingReviewCreate,
    idempotency: IdempotencyDep,
    request: Request,
    response: Response,
    caller: CallerDep,
    declared: PurposeDep,
    session: SessionDep,
) -> schemas.SafeguardingReviewRead:
    allowed = _officer(
        session,
        request,
        response,
        caller,
        declared,
        action=Action.WRITE,
        model=schemas.SafeguardingReviewCreate,
        detail={"reviewed_decision_id": str(decision_id)},
    )
    review = reviews_service.record(session, decision_id, body, reviewed_by=caller.sub)
    result = allowed.only(schemas.SafeguardingReviewRead, reviews_service.review_values(review))
    idempotency.remember(session, status.HTTP_201_CREATED, result)
    return result
