"""/v1/consents and /v1/people/{id}/consents: recording, withdrawing and listing consents.

Recording or withdrawing a consent is decided as `record_consent` on the subject: the
controller must be able to demonstrate consent (Art 7(1)), so it never needs the
consent it records, and rests on a legal obligation (art6-1-c).
"""

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.consent import schemas
from app.consent import service as consent_service
from app.decisions.access import Access, From, declare
from app.people import service as people_service
from app.platform.db import SessionDep
from app.policy.vocabulary import Action, RecordKind

router = APIRouter(tags=["consent"])

Limit = Annotated[int, Query(ge=1, le=200, description="Consents per page.")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` from the previous page.")
]

RecordConsent = Annotated[
    Access,
    declare(
        "create_consent",
        Action.RECORD_CONSENT,
        schemas.ConsentRead,
        "consent",
        subject=From.BODY_PERSON,
        body=schemas.ConsentCreate,
        also="also_covers",
        record=RecordKind.CONSENT,
        idempotent=True,
    ),
]
WithdrawConsent = Annotated[
    Access,
    declare(
        "withdraw_consent",
        Action.RECORD_CONSENT,
        schemas.ConsentRead,
        "consent",
        subject=From.CONSENT,
        body=schemas.ConsentWithdraw,
        record=RecordKind.CONSENT_WITHDRAWAL,
    ),
]
ReadConsents = Annotated[
    Access,
    declare(
        "list_consents",
        Action.READ,
        schemas.ConsentRead,
        "consent",
        subject=From.PERSON,
        record=RecordKind.CONSENT,
    ),
]


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
    body: schemas.ConsentCreate, granted: RecordConsent, session: SessionDep
) -> schemas.ConsentRead:
    consent, others = consent_service.record(
        session,
        body,
        granted.the_person(),
        people_service.find(session, body.given_by_id),
        list(granted.others),
    )
    result = granted.only(
        schemas.ConsentRead,
        consent_service.values(consent, covers_also=[other.id for other in others]),
    )
    granted.remember(session, status.HTTP_201_CREATED, result)
    return result


@router.post(
    "/consents/{consent_id}/withdraw",
    summary="Withdraw a consent (it takes effect at once; the record is kept)",
    description="Decided as `record_consent` on the consent's subject. Every later "
    "decision goes without the consent; nothing done before is undone, and the consent "
    "stays on record with `withdrawn_at` and the reason. Withdrawing must be as easy as "
    "giving (Art 7(3)): it is never refused because of a restriction or an objection. "
    "Withdrawing it again is 409.",
    response_model_exclude_unset=True,
    responses={
        404: {"description": "No consent with this id"},
        409: {"description": "The consent was already withdrawn"},
    },
)
def withdraw_consent(
    body: schemas.ConsentWithdraw, granted: WithdrawConsent, session: SessionDep
) -> schemas.ConsentRead:
    consent = granted.consent
    assert consent is not None
    consent_service.withdraw(session, consent, body.reason)
    return granted.only(schemas.ConsentRead, consent_service.values(consent))


@router.get(
    "/people/{person_id}/consents",
    summary="List the consents about a person, active and withdrawn",
    description="A read of the person's consent records. It rests on art6-1-c (Art 7(1): "
    "the service must be able to show consent), so a role that may declare `early_help` "
    "reads them under it even when no consent is active: that is how a worker knows "
    "whether to ask.",
    response_model_exclude_unset=True,
    tags=["people"],
)
def list_consents(
    granted: ReadConsents, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> schemas.ConsentPage:
    found = consent_service.page(session, granted.the_person().id, limit=limit, cursor=cursor)
    return schemas.ConsentPage(
        items=[
            granted.only(schemas.ConsentRead, consent_service.values(consent))
            for consent in found.items
        ],
        next_cursor=found.next_cursor,
    )
