"""/v1/legal-holds (under `legal_claims`) and /v1/retention (under `subject_rights`, the
officer applying the retention policy): the data protection officer's endpoints."""

from datetime import date
from typing import Annotated, Final
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.caller import Caller
from app.auth.deps import CallerDep
from app.decisions.guard import Allowed, Declared, PurposeDep, Subject, check, today
from app.decisions.subjects import gone_kind, person_subject
from app.people import service as people_service
from app.platform.categories import categories_of
from app.platform.db import SessionDep
from app.platform.idempotency import IdempotencyDep
from app.platform.problems import NotFound, Unprocessable
from app.policy.model import RecordState
from app.policy.vocabulary import Action, Category, Purpose, SubjectKind
from app.retention import schemas
from app.retention import service as retention_service
from app.retention.models import LegalHold

router = APIRouter(tags=["retention"])

LEGAL: Final = frozenset({Purpose.LEGAL_CLAIMS})
RETENTION: Final = frozenset({Purpose.SUBJECT_RIGHTS})
HOLD_CATEGORIES: Final = categories_of(schemas.LegalHoldRead)
DUE_CATEGORIES: Final = categories_of(schemas.DueRead)
HoldId = Annotated[UUID, Path(description="The legal hold's id.")]


def _subject(session: Session, caller: Caller, declared: Declared, subject_id: UUID) -> Subject:
    """A person or a household; 410 for one destroyed, 422 for an id never held."""
    view = people_service.find(session, subject_id)
    if view is not None:
        return person_subject(session, caller, declared, subject_id, action=Action.WRITE)[1]
    family = people_service.get_family(session, subject_id)
    if family is not None:
        return Subject(
            family.id, RecordState(kind=SubjectKind.FAMILY, destruction_date=family.destroy_on)
        )
    kind = gone_kind(session, subject_id)
    if kind is None:
        raise Unprocessable("subject_id", "no person or household with this id")
    return Subject(subject_id, RecordState(kind=kind, gone=True))


def _on_everything(
    session: Session,
    request: Request,
    response: Response,
    caller: Caller,
    declared: Declared,
    *,
    action: Action,
    categories: frozenset[Category],
    resource: str,
) -> Allowed:
    return check(
        session,
        request,
        response,
        caller,
        declared,
        action=action,
        categories=categories,
        subject=Subject(None, RecordState(kind=SubjectKind.FAMILY)),
        resource=resource,
        purposes=RETENTION,
    )


@router.post(
    "/legal-holds",
    status_code=status.HTTP_201_CREATED,
    summary="Pause destruction of a person or household (legal hold)",
    description="Officer only, `X-Purpose: legal_claims`. A hold on a child keeps its "
    "household's adults too; on a household, every member. A held record past its date "
    "is still refused to everyone but the officer (`retention_expired`).",
    responses={410: {"description": "The subject was already destroyed"}},
)
def place_legal_hold(
    body: schemas.LegalHoldCreate,
    idempotency: IdempotencyDep,
    request: Request,
    response: Response,
    caller: CallerDep,
    declared: PurposeDep,
    session: SessionDep,
) -> schemas.LegalHoldRead:
    subject = _subject(session, caller, declared, body.subject_id)
    check(
        session,
        request,
        response,
        caller,
        declared,
        action=Action.WRITE,
        categories=HOLD_CATEGORIES,
        subject=subject,
        resource="legal_hold",
        purposes=LEGAL,
    )
    hold = retention_service.place_hold(
        session, body.subject_id, subject.state.kind, body.reason, caller.sub
    )
    result = schemas.LegalHoldRead(**retention_service.hold_values(hold))
    idempotency.remember(session, status.HTTP_201_CREATED, result)
    return result


@router.delete(
    "/legal-holds/{hold_id}",
    summary="Release a legal hold (kept on record as released)",
    responses={
        404: {"description": "No legal hold with this id"},
        409: {"description": "Already released"},
    },
)
def release_legal_hold(
    hold_id: HoldId,
    request: Request,
    response: Response,
    caller: CallerDep,
    declared: PurposeDep,
    session: SessionDep,
) -> schemas.LegalHoldRead:
    hold = session.get(LegalHold, hold_id)
    if hold is None:
        raise NotFound("No legal hold with this id.")
    check(
        session,
        request,
        response,
        caller,
        declared,
        action=Action.WRITE,
        categories=HOLD_CATEGORIES,
        subject=Subject(hold.subject_id, RecordState(kind=SubjectKind(hold.subject_kind))),
        resource="legal_hold",
        purposes=LEGAL,
    )
    retention_service.release_hold(session, hold, caller.sub)
    return schemas.LegalHoldRead(**retention_service.hold_values(hold))


@router.get(
    "/retention/due",
    summary="What falls due for destruction before a date, soonest first",
    description="Children by their own date (fifth birthday, or 25th with family-worker "
    "support), adults and households by the household's (the last child's). Opaque ids, "
    "dates and rules only; `held` marks what a legal hold or an open subject request "
    "keeps. Officer only, `X-Purpose: subject_rights`.",
)
def list_due(
    before: Annotated[date, Query(description="List destruction dates before this day.")],
    request: Request,
    response: Response,
    caller: CallerDep,
    declared: PurposeDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> schemas.DuePage:
    _on_everything(
        session,
        request,
        response,
        caller,
        declared,
        action=Action.LIST,
        categories=DUE_CATEGORIES,
        resource="retention_due",
    )
    items, next_cursor = retention_service.due(session, before=before, limit=limit, cursor=cursor)
    return schemas.DuePage(
        items=[
            schemas.DueRead(
                subject_id=item.subject_id,
                subject_kind=item.subject_kind,
                destroy_on=item.destroy_on,
                rule=item.rule,
                held=item.held,
            )
            for item in items
        ],
        next_cursor=next_cursor,
    )


@router.post(
    "/retention/sweep",
    summary="Destroy everything past its date and not held (`dry_run=true` to preview)",
    description="Works a batch of households at a time, each batch in its own "
    "transaction: a failing batch is rolled back alone and counted in `failed_batches`, "
    "and a second run finishes the job. Every destruction is logged in the destruction "
    "log (opaque id, rule, date); the audit trail is not touched and still verifies. "
    "The same sweep runs nightly as `ieys retention-sweep`. Officer only, "
    "`X-Purpose: subject_rights`.",
)
def sweep(
    request: Request,
    response: Response,
    caller: CallerDep,
    declared: PurposeDep,
    session: SessionDep,
    dry_run: Annotated[bool, Query(description="Count what would go; change nothing.")] = False,
    batch: Annotated[
        int, Query(ge=1, le=5000, description="Households per transaction.")
    ] = retention_service.DEFAULT_BATCH,
) -> schemas.SweepRead:
    _on_everything(
        session,
        request,
        response,
        caller,
        declared,
        action=Action.READ if dry_run else Action.WRITE,
        categories=frozenset(Category),
        resource="retention_sweep",
    )
    if not dry_run:
        # The decision commits first: a batch that fails must not take it with it.
        session.commit()
        audit_service.take_pending(session)
    report = retention_service.sweep(session, on=today(), batch=batch, dry_run=dry_run)
    return schemas.SweepRead(
        on=report.on,
        dry_run=report.dry_run,
        households_examined=report.households_examined,
        destroyed=dict(report.destroyed),
        kept=report.kept,
        failed_batches=report.failed_batches,
        failed_households=len(report.failed_households),
    )
