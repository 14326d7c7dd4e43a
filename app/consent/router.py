"""/v1/consents and /v1/people/{id}/consents: recording, withdrawing and listing consents.

Recording or withdrawing a consent is decided as `record_consent` on the subject: the
controller must be able to demonstrate consent (Art 7(1)), so it never needs the
consent it records, and rests on a legal obligation (art6-1-c).
"""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from sqlalchemy.orm import Session

from app.auth.caller import Caller
from app.auth.deps import CallerDep
from app.consent import schemas
from app.consent import service as consent_service
from app.decisions.guard import Declared, PurposeDep
from app.decisions.subjects import PersonAccess, decide_for_person, person_guard
from app.people import service as people_service
from app.platform.categories import categories_of
from app.platform.db import SessionDep
from app.platform.idempotency import IdempotencyDep
from app.platform.problems import NotFound, Unprocessable
from app.policy.vocabulary import Action

router = APIRouter(tags=["consent"])

ConsentId = Annotated[UUID, Path(description="The consent's id.")]
Limit = Annotated[int, Query(ge=1, le=200, description="Consents per page.")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` from the previous page.")
]

CONSENT_CATEGORIES = categories_of(schemas.ConsentRead)
"""What recording, withdrawing or reading a consent touches: identity and services."""

ReadConsents = Annotated[
    PersonAccess, Depends(person_guard(Action.READ, schemas.ConsentRead, "consent"))
]


def _record_consent_on(
    field: str,
    person_id: UUID,
    request: Request,
    response: Response,
    caller: Caller,
    declared: Declared,
    session: Session,
) -> PersonAccess:
    try:
        return decide_for_person(
            session,
            request,
            response,
            caller,
            declared,
            person_id,
            action=Action.RECORD_CONSENT,
            categories=CONSENT_CATEGORIES,
            resource="consent",
        )
    except NotFound:
        # The person is named in the body, not the path: a bad reference is invalid input.
        raise Unprocessable(field, "no person with this id") from None


@router.post(
    "/consents",
    status_code=status.HTTP_201_CREATED,
    summary="Record a consent (one household form may cover several children)",
    description="Decided as `record_consent` on the subject (and on each child in "
    "`also_covers`, all or none): recording a consent needs no consent and rests on "
    "art6-1-c (Art 7(1)), under any purpose of the caller's that reaches identity and "
    "services, e.g. `early_help` or `health_care`. `given_by_id` must be a carer with "
    "parental responsibility in the child's household (an adult gives their own); "
    "`recipient` must be the recipient whose consent type is `type` (required for the "
    "PCPS form, absent for `early_help_support`). Returns the subject's consent, with "
    "the other children's consents in `covers_also`.",
    response_model_exclude_unset=True,
)
def create_consent(
    body: schemas.ConsentCreate,
    idempotency: IdempotencyDep,
    request: Request,
    response: Response,
    caller: CallerDep,
    declared: PurposeDep,
    session: SessionDep,
) -> schemas.ConsentRead:
    access = _record_consent_on(
        "subject_id", body.subject_id, request, response, caller, declared, session
    )
    # Each child the form covers is a subject of its own (restriction, retention, scope).
    siblings = [
        _record_consent_on("also_covers", child_id, request, response, caller, declared, session)
        for child_id in dict.fromkeys(body.also_covers)
    ]
    if siblings:
        # The headers name the subject's decision; the children's are in the trail.
        request.state.decision_id = access.allowed.decision_id
        response.headers["X-Decision-Id"] = str(access.allowed.decision_id)
    consent, others = consent_service.record(
        session,
        body,
        access.person,
        people_service.find(session, body.given_by_id),
        [sibling.person for sibling in siblings],
    )
    result = access.allowed.only(
        schemas.ConsentRead,
        consent_service.values(consent, covers_also=[other.id for other in others]),
    )
    idempotency.remember(session, status.HTTP_201_CREATED, result)
    return result


@router.post(
    "/consents/{consent_id}/withdraw",
    summary="Withdraw a consent (it takes effect at once; the record is kept)",
    description="Decided as `record_consent` on the consent's subject. Every later "
    "decision goes without the consent; nothing done before is undone, and the consent "
    "stays on record with `withdrawn_at` and the reason. Withdrawing it again is 409.",
    response_model_exclude_unset=True,
    responses={
        404: {"description": "No consent with this id"},
        409: {"description": "The consent was already withdrawn"},
    },
)
def withdraw_consent(
    consent_id: ConsentId,
    body: schemas.ConsentWithdraw,
    request: Request,
    response: Response,
    caller: CallerDep,
    declared: PurposeDep,
    session: SessionDep,
) -> schemas.ConsentRead:
    consent = consent_service.get(session, consent_id)
    if consent is None:
        raise NotFound("No consent with this id.")
    access = decide_for_person(
        session,
        request,
        response,
        caller,
        declared,
        consent.subject_id,
        action=Action.RECORD_CONSENT,
        categories=CONSENT_CATEGORIES,
        resource="consent",
    )
    consent_service.withdraw(session, consent, body.reason)
    return access.allowed.only(schemas.ConsentRead, consent_service.values(consent))


@router.get(
    "/people/{person_id}/consents",
    summary="List the consents about a person, active and withdrawn",
    description="A read of the person's consent records. Under `early_help` it rests on "
    "the consent itself, like any other early-help read.",
    response_model_exclude_unset=True,
    tags=["people"],
)
def list_consents(
    access: ReadConsents, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> schemas.ConsentPage:
    found = consent_service.page(session, access.person.id, limit=limit, cursor=cursor)
    return schemas.ConsentPage(
        items=[
            access.allowed.only(schemas.ConsentRead, consent_service.values(consent))
            for consent in found.items
        ],
        next_cursor=found.next_cursor,
    )
