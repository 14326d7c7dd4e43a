"""/v1/legal-holds (under `legal_claims`) and /v1/retention (under `subject_rights`, the
officer applying the retention policy): the data protection officer's endpoints."""

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Query, status

from app.decisions.access import Access, From, Shape, declare
from app.decisions.guard import today
from app.platform.categories import categories_of
from app.platform.db import SessionDep, complete
from app.platform.identifiers import IsoDate
from app.policy.vocabulary import Action, Category
from app.retention import schemas
from app.retention import service as retention_service

router = APIRouter(tags=["retention"])

HOLD_CATEGORIES: Final = categories_of(schemas.LegalHoldRead)
DUE_CATEGORIES: Final = categories_of(schemas.DueRead)


@dataclass(frozen=True, slots=True)
class SweepAsk:
    dry_run: bool
    batch: int


def _sweep_ask(
    dry_run: Annotated[bool, Query(description="Count what would go; change nothing.")] = False,
    batch: Annotated[
        int, Query(ge=1, le=5000, description="Households per transaction.")
    ] = retention_service.DEFAULT_BATCH,
) -> SweepAsk:
    return SweepAsk(dry_run=dry_run, batch=batch)


def _sweep_action(_body: None, query: SweepAsk | None) -> Shape:
    return Shape(action=Action.READ if query is not None and query.dry_run else Action.WRITE)


PlaceHold = Annotated[
    Access,
    declare(
        "place_legal_hold",
        Action.WRITE,
        HOLD_CATEGORIES,
        "legal_hold",
        subject=From.BODY_SUBJECT,
        body=schemas.LegalHoldCreate,
        idempotent=True,
    ),
]
ReleaseHold = Annotated[
    Access,
    declare("release_legal_hold", Action.WRITE, HOLD_CATEGORIES, "legal_hold", subject=From.HOLD),
]
ListHolds = Annotated[
    Access,
    declare(
        "list_legal_holds",
        Action.LIST,
        categories_of(schemas.LegalHoldPage),
        "legal_hold",
    ),
]
ListDue = Annotated[Access, declare("list_due", Action.LIST, DUE_CATEGORIES, "retention_due")]
Sweep = Annotated[
    Access,
    declare(
        "sweep",
        Action.WRITE,
        frozenset(Category),
        "retention_sweep",
        query=_sweep_ask,
        shape=_sweep_action,
    ),
]


@router.get(
    "/legal-holds",
    summary="Legal holds, newest first (in force unless `active=false` is asked)",
    description="Officer only, `X-Purpose: legal_claims`: the holds pausing destruction, "
    "so one can be released.",
)
def list_legal_holds(
    _granted: ListHolds,
    session: SessionDep,
    active: bool = True,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> schemas.LegalHoldPage:
    found = retention_service.holds_page(session, active=active, limit=limit, cursor=cursor)
    return schemas.LegalHoldPage(
        items=[schemas.LegalHoldRead(**retention_service.hold_values(h)) for h in found.items],
        next_cursor=found.next_cursor,
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
    body: schemas.LegalHoldCreate, granted: PlaceHold, session: SessionDep
) -> schemas.LegalHoldRead:
    assert granted.subject_kind is not None
    hold = retention_service.place_hold(
        session, body.subject_id, granted.subject_kind, body.reason, granted.caller.sub
    )
    result = schemas.LegalHoldRead(**retention_service.hold_values(hold))
    granted.remember(session, status.HTTP_201_CREATED, result)
    return result


@router.delete(
    "/legal-holds/{hold_id}",
    summary="Release a legal hold (kept on record as released)",
    responses={
        404: {"description": "No legal hold with this id"},
        409: {"description": "Already released"},
    },
)
def release_legal_hold(granted: ReleaseHold, session: SessionDep) -> schemas.LegalHoldRead:
    hold = granted.hold
    assert hold is not None
    retention_service.release_hold(session, hold, granted.caller.sub)
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
    _granted: ListDue,
    before: Annotated[IsoDate, Query(description="List destruction dates before this day.")],
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> schemas.DuePage:
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
def sweep(granted: Sweep, session: SessionDep) -> schemas.SweepRead:
    ask: SweepAsk = granted.query
    if not ask.dry_run:
        # The decision commits first: a batch that fails must not take it with it.
        complete(session)
    report = retention_service.sweep(session, on=today(), batch=ask.batch, dry_run=ask.dry_run)
    return schemas.SweepRead(
        on=report.on,
        dry_run=report.dry_run,
        households_examined=report.households_examined,
        destroyed=dict(report.destroyed),
        kept=report.kept,
        failed_batches=report.failed_batches,
        failed_households=len(report.failed_households),
    )
