"""/v1/subject-requests: the data protection officer's cases (Arts 12, 15-22).

Every endpoint runs under `subject_rights` (API.md), which only the data protection
officer may declare, and is decided and audited about the case's subject, so the
subject's access log shows that their request was handled. Fulfilling an access,
portability or erasure request reaches everything held: it is decided on the live
record (an erased subject answers 410).
"""

from typing import Annotated, Any, Final
from uuid import UUID, uuid4

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.decisions.access import Access, From, Shape, declare
from app.decisions.guard import Context, today
from app.people import service as people_service
from app.platform.categories import categories_of
from app.platform.crypto import KeyRing, get_key_ring
from app.platform.db import SessionDep
from app.platform.problems import Conflict
from app.policy.vocabulary import Action, Category
from app.rights import schemas
from app.rights import service as rights_service
from app.rights.models import SubjectRequest

router = APIRouter(tags=["rights"])

CASE_CATEGORIES: Final = categories_of(schemas.SubjectRequestRead)
EVERYTHING: Final = frozenset(Category)
RESOURCE: Final = "subject_request"
FHIR_JSON: Final = "application/fhir+json"

KeysDep = Annotated[KeyRing, Depends(get_key_ring)]
Limit = Annotated[int, Query(ge=1, le=200, description="Cases per page.")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` from the previous page.")
]

CASE_RESPONSES: Final[dict[int | str, dict[str, object]]] = {
    404: {"description": "No case with this id"},
    409: {"description": "Not possible in the case's state (decided, paused, too late)"},
}


def _on_case(operation: str, action: Action, body: type[BaseModel] | None = None) -> Any:
    """The case itself (opaque ids, dates, outcome): decided about its subject, whether
    or not the subject's record still exists."""
    return declare(operation, action, CASE_CATEGORIES, RESOURCE, subject=From.CASE, body=body)


def _decided(body: schemas.DecideBody | None, _query: object) -> Shape:
    """Fulfilling a request reaches everything held, on the live record (410 once
    erased); refusing it touches the case alone."""
    if body is None:
        return Shape()
    if body.outcome is schemas.RequestOutcome.REFUSED:
        return Shape(live=False)
    return Shape(categories=EVERYTHING, live=True)


def _decision_detail(ctx: Context, _view: object, body: schemas.DecideBody) -> dict[str, object]:
    return {"subject_request_id": ctx.request.path_params["request_id"], "outcome": body.outcome}


CreateCase = Annotated[
    Access,
    declare(
        "create_subject_request",
        Action.WRITE,
        CASE_CATEGORIES,
        RESOURCE,
        subject=From.BODY_PERSON,
        body=schemas.SubjectRequestCreate,
        related="requester_id",
        idempotent=True,
    ),
]
ListCases = Annotated[
    Access,
    declare("list_subject_requests", Action.LIST, CASE_CATEGORIES, RESOURCE),
]
ReadCase = Annotated[Access, _on_case("read_subject_request", Action.READ)]
ExtendCase = Annotated[Access, _on_case("extend_subject_request", Action.WRITE, schemas.ExtendBody)]
PauseCase = Annotated[Access, _on_case("pause_subject_request", Action.WRITE, schemas.ReasonBody)]
ResumeCase = Annotated[Access, _on_case("resume_subject_request", Action.WRITE, schemas.ReasonBody)]
LiftCase = Annotated[Access, _on_case("lift_subject_request", Action.WRITE, schemas.ReasonBody)]
DecideCase = Annotated[
    Access,
    declare(
        "decide_subject_request",
        Action.WRITE,
        CASE_CATEGORIES,
        RESOURCE,
        subject=From.CASE,
        body=schemas.DecideBody,
        shape=_decided,
        detail=_decision_detail,
    ),
]
ExportCase = Annotated[
    Access,
    declare(
        "export_subject_request",
        Action.READ,
        EVERYTHING,
        RESOURCE,
        subject=From.CASE,
        live=True,
    ),
]


def _the_case(granted: Access) -> SubjectRequest:
    assert granted.case is not None
    return granted.case


def _read(session: Session, case: SubjectRequest) -> schemas.SubjectRequestRead:
    history = rights_service.events(session, [case.id])[case.id]
    return schemas.SubjectRequestRead(
        **rights_service.values(
            case,
            history,
            today(),
            package_available=rights_service.has_package(session, case.id),
        )
    )


@router.post(
    "/subject-requests",
    status_code=status.HTTP_201_CREATED,
    summary="Receive a subject request (the Art 12(3) clock starts)",
    description="`due_at` is one calendar month after receipt (the same date next month, "
    "or its last day), moved to the next working day when it falls on a weekend or an "
    "England and Wales bank holiday. The requester is the subject, or for a child a "
    "carer of the household with parental responsibility. Officer only: `X-Purpose: "
    "subject_rights`.",
)
def create_subject_request(
    body: schemas.SubjectRequestCreate, granted: CreateCase, session: SessionDep
) -> schemas.SubjectRequestRead:
    case = rights_service.create(
        session,
        body,
        granted.the_person(),
        people_service.find(session, body.requester_id),
        granted.caller.sub,
        request_id=uuid4(),
        decision_id=granted.decision_id,
    )
    result = _read(session, case)
    granted.remember(session, status.HTTP_201_CREATED, result)
    return result


@router.get(
    "/subject-requests",
    summary="List cases by due date (`overdue=true`: open and past due)",
    description="A paused case is not overdue: its clock is stopped.",
)
def list_subject_requests(
    _granted: ListCases,
    session: SessionDep,
    overdue: Annotated[bool | None, Query(description="Open and past `due_at`.")] = None,
    status_: Annotated[schemas.RequestStatus | None, Query(alias="status")] = None,
    type_: Annotated[schemas.RequestType | None, Query(alias="type")] = None,
    subject_id: UUID | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> schemas.SubjectRequestPage:
    on = today()
    found = rights_service.page(
        session,
        on=on,
        overdue=overdue,
        status=status_,
        type_=type_,
        subject_id=subject_id,
        limit=limit,
        cursor=cursor,
    )
    ids = [case.id for case in found.items]
    history = rights_service.events(session, ids)
    packaged = rights_service.packaged(session, ids)
    return schemas.SubjectRequestPage(
        items=[
            schemas.SubjectRequestRead(
                **rights_service.values(
                    case, history[case.id], on, package_available=case.id in packaged
                )
            )
            for case in found.items
        ],
        next_cursor=found.next_cursor,
    )


@router.get(
    "/subject-requests/{request_id}",
    summary="Read a case, with its history",
    responses={404: {"description": "No case with this id"}},
)
def read_subject_request(granted: ReadCase, session: SessionDep) -> schemas.SubjectRequestRead:
    return _read(session, _the_case(granted))


@router.post(
    "/subject-requests/{request_id}/extend",
    summary="Extend by one or two months (three in all at most), within the first month",
    responses={**CASE_RESPONSES, 422: {"description": "More than two further months in all"}},
)
def extend_subject_request(
    body: schemas.ExtendBody, granted: ExtendCase, session: SessionDep
) -> schemas.SubjectRequestRead:
    case = _the_case(granted)
    rights_service.extend(session, case, body.months, body.reason, granted.caller.sub, today())
    return _read(session, case)


@router.post(
    "/subject-requests/{request_id}/pause",
    summary="Stop the clock while waiting for proof of identity or clarification",
    responses=CASE_RESPONSES,
)
def pause_subject_request(
    body: schemas.ReasonBody, granted: PauseCase, session: SessionDep
) -> schemas.SubjectRequestRead:
    case = _the_case(granted)
    rights_service.pause(session, case, body.reason, granted.caller.sub)
    return _read(session, case)


@router.post(
    "/subject-requests/{request_id}/resume",
    summary="Restart the clock: due_at moves by the days paused",
    responses=CASE_RESPONSES,
)
def resume_subject_request(
    body: schemas.ReasonBody, granted: ResumeCase, session: SessionDep
) -> schemas.SubjectRequestRead:
    case = _the_case(granted)
    rights_service.resume(session, case, body.reason, granted.caller.sub, today())
    return _read(session, case)


@router.post(
    "/subject-requests/{request_id}/decide",
    summary="Decide the case: fulfilling it does what the right says",
    description="Access and portability: the package is built (GET …/export). Erasure: "
    "`fulfilled` erases everything held about the subject (rows deleted; the household's "
    "data key destroyed when no member remains; the person then answers 410); "
    "`partially_fulfilled` keeps the categories named in `exempt_categories` (held for a "
    "legal duty or public task, Art 17(3)(b), `identity` among them) and erases the rest, "
    "the subject's consents included. A subject under a legal hold is not erased whole "
    "(409). A carer's erasure also ends the consents they gave for a child: the case "
    "history lists them. Restriction: the subject is restricted (Art 18; only "
    "subject_rights, legal_claims and safeguarding go on). Objection: upheld (Art 21; "
    "service_invitation, needs_assessment, take_up_monitoring and impact_evaluation "
    "stop). `refused` changes nothing. Every outcome needs a reason.",
    responses={
        **CASE_RESPONSES,
        410: {"description": "The subject was erased or destroyed"},
    },
)
def decide_subject_request(
    body: schemas.DecideBody, granted: DecideCase, session: SessionDep, keys: KeysDep
) -> schemas.SubjectRequestRead:
    case = _the_case(granted)
    rights_service.decide(
        session,
        case,
        body,
        granted.person,
        keys,
        granted.caller.sub,
        today(),
        decision_id=granted.decision_id,
    )
    return _read(session, case)


@router.post(
    "/subject-requests/{request_id}/lift",
    summary="Lift a restriction or an upheld objection (recorded on the case)",
    responses=CASE_RESPONSES,
)
def lift_subject_request(
    body: schemas.ReasonBody, granted: LiftCase, session: SessionDep
) -> schemas.SubjectRequestRead:
    case = _the_case(granted)
    rights_service.lift(session, case, body.reason, granted.caller.sub, granted.decision_id)
    return _read(session, case)


@router.get(
    "/subject-requests/{request_id}/export",
    summary="The access or portability package: JSON, or a FHIR R4 Bundle",
    description=f"With `Accept: {FHIR_JSON}`, a FHIR R4 `Bundle` of type `collection`: "
    "Patient, RelatedPerson, Consent, Observation, AllergyIntolerance, Encounter, Flag and "
    "DocumentReference resources, and for an access request a Composition of the "
    "statements Art 15(1) and (2) require (the JSON package's `statements`). Only for a "
    "fulfilled (or partially fulfilled) access or portability request.",
    response_model=schemas.SubjectPackage,
    responses={
        200: {
            "content": {
                FHIR_JSON: {
                    "schema": {
                        "type": "object",
                        "description": "A FHIR R4 Bundle (type collection).",
                    }
                }
            }
        },
        404: {"description": "No case with this id"},
        409: {"description": "No package: not an access or portability request, or not fulfilled"},
        410: {"description": "The subject was erased or destroyed"},
    },
)
def export_subject_request(
    granted: ExportCase, request: Request, response: Response, session: SessionDep, keys: KeysDep
) -> Response:
    case = _the_case(granted)
    found = rights_service.stored_package(session, case, keys)
    if found is None:
        raise Conflict("This case has no package: only a fulfilled access or portability request.")
    # A returned Response does not take the dependency's headers: carry the decision's.
    headers = {k: v for k, v in response.headers.items() if k.lower().startswith("x-")}
    if FHIR_JSON in request.headers.get("accept", ""):
        return Response(
            content=orjson.dumps(rights_service.fhir_bundle(found, case)),
            media_type=FHIR_JSON,
            headers=headers,
        )
    return Response(content=found.model_dump_json(), media_type="application/json", headers=headers)
