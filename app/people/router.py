"""/v1/families and /v1/people: the shared record, behind the lawful-basis check."""

from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Header, Request, Response, status

from app.auth.deps import CallerDep
from app.decisions.guard import PurposeDep, Subject, check, today
from app.decisions.subjects import (
    FamilyAccess,
    PersonAccess,
    PersonId,
    family_guard,
    person_guard,
    person_subject,
)
from app.people import schemas
from app.people import service as people_service
from app.people.models import Family
from app.platform.categories import categories_of, only
from app.platform.crypto import KeyRing, get_key_ring
from app.platform.db import SessionDep
from app.platform.idempotency import IdempotencyDep
from app.platform.problems import PreconditionRequired
from app.policy import engine
from app.policy.model import Ask, RecordState
from app.policy.vocabulary import Action, SubjectKind
from app.rights import service as rights_service

router = APIRouter(tags=["people"])

KeysDep = Annotated[KeyRing, Depends(get_key_ring)]
SubjectRequestId = Annotated[
    UUID | None,
    Header(
        alias="X-Subject-Request-Id",
        description="A rectification request (Art 16) this change answers: an open "
        "`rectification` case about this person. The change is recorded on the case; the "
        "old values are kept only as sha256 hashes in the audit event.",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag from your last read. Missing: 428; stale: 412.",
    ),
]

ReadPerson = Annotated[
    PersonAccess,
    Depends(person_guard(Action.READ, schemas.PersonRead, "person", completes_read=True)),
]
ReadFamily = Annotated[
    FamilyAccess, Depends(family_guard(Action.READ, schemas.FamilyRead, "family"))
]
ReadSpecial = Annotated[
    PersonAccess,
    Depends(person_guard(Action.READ, schemas.SpecialCategory, "special_category")),
]
WriteSpecial = Annotated[
    PersonAccess,
    Depends(person_guard(Action.WRITE, schemas.SpecialCategory, "special_category")),
]
ReadCircumstances = Annotated[
    PersonAccess, Depends(person_guard(Action.READ, schemas.Circumstances, "circumstances"))
]
WriteCircumstances = Annotated[
    PersonAccess, Depends(person_guard(Action.WRITE, schemas.Circumstances, "circumstances"))
]
WriteSupport = Annotated[
    PersonAccess,
    Depends(person_guard(Action.WRITE, schemas.FamilyWorkerSupportCreate, "family_worker_support")),
]


@router.post(
    "/families",
    status_code=status.HTTP_201_CREATED,
    summary="Create a household",
    response_model_exclude_unset=True,
)
def create_family(
    body: schemas.FamilyCreate,
    idempotency: IdempotencyDep,
    request: Request,
    response: Response,
    caller: CallerDep,
    declared: PurposeDep,
    session: SessionDep,
    keys: KeysDep,
) -> schemas.FamilyRead:
    new_id = uuid4()
    allowed = check(
        session,
        request,
        response,
        caller,
        declared,
        action=Action.WRITE,
        categories=categories_of(schemas.FamilyCreate),
        subject=Subject(new_id, RecordState(kind=SubjectKind.FAMILY)),
        resource="family",
    )
    family = people_service.create_family(session, body, keys, family_id=new_id)
    result = allowed.only(schemas.FamilyRead, _family_values(family, members=[]))
    response.headers["ETag"] = people_service.etag(family.version)
    idempotency.remember(session, status.HTTP_201_CREATED, result)
    return result


@router.get(
    "/families/{family_id}",
    summary="Read a household and its members",
    response_model_exclude_unset=True,
)
def read_family(
    access: ReadFamily,
    request: Request,
    caller: CallerDep,
    declared: PurposeDep,
    session: SessionDep,
) -> schemas.FamilyRead:
    family = access.family
    members: list[schemas.PersonRead] = []
    withheld = 0
    if "household" in access.allowed.categories:
        # Each member is its own subject: its own restriction, objection, retention.
        for view in people_service.members(session, family.id):
            member_access = _member_decision(view, access, caller, declared)
            if member_access is None:
                withheld += 1
            else:
                members.append(member_access)
    values = _family_values(family, members=members)
    values["members_withheld"] = withheld
    return access.allowed.only(schemas.FamilyRead, values)


def _member_decision(
    view: people_service.PersonView,
    access: FamilyAccess,
    caller: CallerDep,
    declared: PurposeDep,
) -> schemas.PersonRead | None:
    state = RecordState(
        kind=view.kind,
        destruction_date=view.destruction_date,
        restricted=bool(view.row.restricted),
        objection_upheld=bool(view.row.objection_upheld),
    )
    decision = engine.decide(
        Ask(
            role=caller.role,
            org=caller.org,
            purpose=declared.purpose,
            action=Action.READ,
            categories=categories_of(schemas.PersonRead),
            on=today(),
            justification=declared.justification,
            nursery_id=caller.nursery_id,
        ),
        state,
    )
    if not decision.allowed:
        return None
    return only(schemas.PersonRead, view.values(), decision.allowed_categories)


def _family_values(family: Family, *, members: list[schemas.PersonRead]) -> dict[str, object]:
    return {
        "id": family.id,
        "address": {
            "line1": family.address_line1,
            "line2": family.address_line2,
            "postcode": family.postcode,
        },
        "phone": family.phone,
        "email": family.email,
        "members": members,
    }


@router.post(
    "/people",
    status_code=status.HTTP_201_CREATED,
    summary="Create a person in a household",
    response_model_exclude_unset=True,
)
def create_person(
    body: schemas.PersonCreate,
    idempotency: IdempotencyDep,
    request: Request,
    response: Response,
    caller: CallerDep,
    declared: PurposeDep,
    session: SessionDep,
) -> schemas.PersonRead:
    new_id = uuid4()
    allowed = check(
        session,
        request,
        response,
        caller,
        declared,
        action=Action.WRITE,
        categories=categories_of(schemas.PersonCreate),
        subject=Subject(new_id, RecordState(kind=SubjectKind(body.kind.value))),
        resource="person",
    )
    people_service.create_person(session, body, today(), person_id=new_id)
    view = people_service.find(session, new_id)
    assert view is not None
    response.headers["ETag"] = view.etag
    result = allowed.only(schemas.PersonRead, view.values())
    idempotency.remember(session, status.HTTP_201_CREATED, result)
    return result


@router.get(
    "/people/{person_id}",
    summary="Read a person (only the categories the decision allows)",
    response_model_exclude_unset=True,
)
async def read_person(access: ReadPerson, response: Response) -> schemas.PersonRead:
    # async: no I/O here (the guard read the row), so no second thread-pool hop.
    response.headers["ETag"] = access.person.etag
    return access.allowed.only(schemas.PersonRead, access.person.values())


@router.patch(
    "/people/{person_id}",
    summary="Rectify identity or contact fields (If-Match required)",
    description="The audit event's `detail` records `rectified`: each changed field with "
    "the sha256 of its old value (never the value), and, with `X-Subject-Request-Id`, the "
    "rectification case it answers.",
    response_model_exclude_unset=True,
    responses={
        412: {"description": "If-Match does not match the current ETag"},
        428: {"description": "If-Match is missing"},
    },
)
def patch_person(
    person_id: PersonId,
    body: schemas.PersonPatch,
    request: Request,
    response: Response,
    caller: CallerDep,
    declared: PurposeDep,
    session: SessionDep,
    keys: KeysDep,
    if_match: IfMatch = None,
    subject_request_id: SubjectRequestId = None,
) -> schemas.PersonRead:
    if if_match is None:
        raise PreconditionRequired("Send If-Match with the ETag from your last read.")
    current, subject = person_subject(session, caller, declared, person_id, action=Action.WRITE)
    case = None
    detail: dict[str, Any] | None = None
    if current is not None:
        if subject_request_id is not None:
            case = rights_service.rectification_case(session, subject_request_id, person_id)
        detail = {"rectified": people_service.rectified_hashes(session, current, body, keys)}
        if case is not None:
            detail["subject_request_id"] = str(case.id)
    allowed = check(
        session,
        request,
        response,
        caller,
        declared,
        action=Action.WRITE,
        categories=categories_of(schemas.PersonPatch),
        subject=subject,
        resource="person",
        detail=detail,
    )
    assert current is not None, "a gone record is never allowed"
    people_service.patch_person(session, current, body, if_match, today())
    if case is not None and detail is not None:
        rights_service.record_rectification(
            session, case, list(detail["rectified"]), allowed.decision_id, caller.sub
        )
    view = people_service.find(session, person_id)
    assert view is not None
    response.headers["ETag"] = view.etag
    return allowed.only(schemas.PersonRead, view.values())


@router.get(
    "/people/{person_id}/special-category",
    summary="Read ethnicity and health (special category data)",
    response_model_exclude_unset=True,
)
def read_special_category(
    access: ReadSpecial, response: Response, session: SessionDep, keys: KeysDep
) -> schemas.SpecialCategory:
    values, version = people_service.read_special(session, access.person, keys)
    response.headers["ETag"] = people_service.etag(version)
    return access.allowed.only(schemas.SpecialCategory, values)


@router.put(
    "/people/{person_id}/special-category",
    summary="Record ethnicity and health (stored encrypted)",
    response_model_exclude_unset=True,
    responses={412: {"description": "Stale If-Match"}, 428: {"description": "If-Match missing"}},
)
def write_special_category(
    body: schemas.SpecialCategory,
    access: WriteSpecial,
    response: Response,
    session: SessionDep,
    keys: KeysDep,
    if_match: IfMatch = None,
) -> schemas.SpecialCategory:
    version = people_service.write_special(session, access.person, body, keys, if_match)
    response.headers["ETag"] = people_service.etag(version)
    return body


@router.get(
    "/people/{person_id}/circumstances",
    summary="Read work status, family make-up, legal status and accommodation",
    response_model_exclude_unset=True,
)
def read_circumstances(
    access: ReadCircumstances, response: Response, session: SessionDep
) -> schemas.Circumstances:
    values, version = people_service.read_circumstances(session, access.person.id)
    response.headers["ETag"] = people_service.etag(version)
    return access.allowed.only(schemas.Circumstances, values)


@router.put(
    "/people/{person_id}/circumstances",
    summary="Record circumstances",
    response_model_exclude_unset=True,
    responses={412: {"description": "Stale If-Match"}, 428: {"description": "If-Match missing"}},
)
def write_circumstances(
    body: schemas.Circumstances,
    access: WriteCircumstances,
    response: Response,
    session: SessionDep,
    if_match: IfMatch = None,
) -> schemas.Circumstances:
    version = people_service.write_circumstances(session, access.person.id, body, if_match)
    response.headers["ETag"] = people_service.etag(version)
    return body


@router.post(
    "/people/{person_id}/family-worker-support",
    status_code=status.HTTP_201_CREATED,
    summary="Record that a family worker supports the family (keeps data to age 25)",
)
def record_family_worker_support(
    body: schemas.FamilyWorkerSupportCreate,
    idempotency: IdempotencyDep,
    access: WriteSupport,
    caller: CallerDep,
    session: SessionDep,
) -> schemas.FamilyWorkerSupportRead:
    support, kept_until = people_service.record_family_worker_support(
        session, access.person, body, recorded_by=caller.sub
    )
    result = schemas.FamilyWorkerSupportRead(
        id=support.id,
        family_id=support.family_id,
        person_id=support.person_id,
        started_on=support.started_on,
        retention_until=kept_until,
    )
    idempotency.remember(session, status.HTTP_201_CREATED, result)
    return result
