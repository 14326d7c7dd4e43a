"""/v1/reviews/safeguarding: every use of the safeguarding override, for the officer.

DOMAIN.md: every use of `safeguarding` is flagged for review. The queue lists the
allowed overrides no officer has reviewed; recording an outcome takes one off it. The
officer works here under `subject_rights` (API.md: the officer's audit work).
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, status

from app.decisions.access import Access, declare
from app.decisions.guard import Context
from app.platform.db import SessionDep
from app.policy.vocabulary import Action
from app.reviews import schemas
from app.reviews import service as reviews_service

router = APIRouter(tags=["reviews"])

DecisionId = Annotated[UUID, Path(description="The override's decision id (X-Decision-Id).")]
Limit = Annotated[int, Query(ge=1, le=500, description="Overrides per page.")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` from the previous page.")
]


def _reviewed(ctx: Context, _view: object, _body: object) -> dict[str, Any]:
    return {"reviewed_decision_id": ctx.request.path_params["decision_id"]}


# The queue spans many subjects: the decisions are the officer's, about no one person.
ListOverrides = Annotated[
    Access,
    declare(
        "list_overrides",
        Action.LIST,
        schemas.SafeguardingOverrideRead,
        "safeguarding_review",
    ),
]
ReviewOverride = Annotated[
    Access,
    declare(
        "review_override",
        Action.WRITE,
        schemas.SafeguardingReviewCreate,
        "safeguarding_review",
        body=schemas.SafeguardingReviewCreate,
        detail=_reviewed,
        idempotent=True,
    ),
]


@router.get(
    "/reviews/safeguarding",
    summary="Safeguarding overrides awaiting the officer's review, the oldest first",
    description="The data protection officer, under `X-Purpose: subject_rights`. Lists "
    "every allowed use of the `safeguarding` purpose (reads, writes and shares, dry runs "
    "included) that has no review yet, with who used it, on whom, why and, for a share, "
    "the recipient. The justification is kept encrypted under the subject's household "
    "key: once the subject is erased or destroyed it is unreadable (`null`).",
)
def list_overrides(
    granted: ListOverrides, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> schemas.SafeguardingOverridePage:
    found = reviews_service.awaiting(session, limit=limit, cursor=cursor)
    return schemas.SafeguardingOverridePage(
        items=[
            granted.only(
                schemas.SafeguardingOverrideRead, reviews_service.override_values(session, event)
            )
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
    granted: ReviewOverride,
    session: SessionDep,
) -> schemas.SafeguardingReviewRead:
    review = reviews_service.record(session, decision_id, body, reviewed_by=granted.caller.sub)
    result = granted.only(schemas.SafeguardingReviewRead, reviews_service.review_values(review))
    granted.remember(session, status.HTTP_201_CREATED, result)
    return result
