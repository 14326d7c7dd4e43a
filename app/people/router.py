"""/v1/families and /v1/people: the shared record, behind the lawful-basis check."""

from dataclasses import dataclass
from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Response, status
from pydantic import BaseModel

from app.decisions.access import Access, From, declare
from app.decisions.guard import Context, today
from app.notifications import service as notifications_service
from app.people import records, schemas
from app.people import service as people_service
from app.people.models import Family
from app.people.service import PersonView
from app.platform.categories import categories_of, only
from app.platform.crypto import KeyRing, get_key_ring
from app.platform.db import SessionDep
from app.platform.identifiers import NhsNumber, Upn
from app.platform.problems import PreconditionRequired, Unprocessable
from app.policy.vocabulary import Action, Category, RecordKind
from app.relationships import service as relationships_service
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

HOUSEHOLD_READ: Final = categories_of(schemas.FamilyRead) | categories_of(schemas.PersonRead)


def _rectified(ctx: Context, view: PersonView | None, body: Any) -> dict[str, Any] | None:
    """Art 16: the audit event names each changed field with a keyed hash of its old
    value, and the rectification case the change answers."""
    if view is None:
        return None
    detail: dict[str, Any] = {
        "rectified": people_service.rectified_hashes(ctx.session, view, body, get_key_ring())
    }
    case_id = ctx.request.headers.get("x-subject-request-id")
    if case_id:
        detail["subject_request_id"] = case_id
    return detail


CreateFamily = Annotated[
    Access,
    declare(
        "create_family",
        Action.WRITE,
        schemas.FamilyCreate,
        "family",
        subject=From.NEW_HOUSEHOLD,
        body=schemas.FamilyCreate,
        idempotent=True,
        versioned=True,
    ),
]
ReadFamily = Annotated[
    Access,
    declare(
        "read_family",
        Action.READ,
        HOUSEHOLD_READ,
        "family",
        subject=From.HOUSEHOLD,
        record=RecordKind.HOUSEHOLD,
    ),
]
CreatePerson = Annotated[
    Access,
    declare(
        "create_person",
        Action.WRITE,
        schemas.PersonCreate,
        "person",
        subject=From.NEW_PERSON,
        body=schemas.PersonCreate,
        idempotent=True,
        versioned=True,
    ),
]


@dataclass(frozen=True, slots=True)
class Identifier:
    nhs_number: str | None
    upn: str | None


def _identifier(
    nhs_number: Annotated[
        NhsNumber | None, Query(description="An exact NHS number (10 digits).")
    ] = None,
    upn: Annotated[Upn | None, Query(description="An exact unique pupil number.")] = None,
) -> Identifier:
    if (nhs_number is None) == (upn is None):
        raise Unprocessable("nhs_number", "give exactly one of nhs_number and upn")
    return Identifier(nhs_number=nhs_number, upn=upn)


FindPerson = Annotated[
    Access,
    declare(
        "find_people",
        Action.READ,
        schemas.PersonRead,
        "person",
        subject=From.IDENTIFIER,
        query=_identifier,
        commits_first=True,
    ),
]
ReadPerson = Annotated[
    Access,
    declare(
        "read_person",
        Action.READ,
        schemas.PersonRead,
        "person",
        subject=From.PERSON,
        commits_first=True,
        versioned=True,
    ),
]
PatchPerson = Annotated[
    Access,
    declare(
        "patch_person",
        Action.WRITE,
        schemas.PersonPatch,
        "person",
        subject=From.PERSON,
        body=schemas.PersonPatch,
        detail=_rectified,
        versioned=True,
    ),
]
WriteSupport = Annotated[
    Access,
    declare(
        "record_family_worker_support",
        Action.WRITE,
        schemas.FamilyWorkerSupportCreate,
        "family_worker_support",
        subject=From.PERSON,
        body=schemas.FamilyWorkerSupportCreate,
        record=RecordKind.FAMILY_WORKER_SUPPORT,
        idempotent=True,
    ),
]


@router.post(
    "/families",
    status_code=status.HTTP_201_CREATED,
    summary="Create a household",
    response_model_exclude_unset=True,
)
def create_family(
    body: schemas.FamilyCreate, granted: CreateFamily, response: Response, session: SessionDep
) -> schemas.FamilyRead:
    assert granted.subject_id is not None
    family = people_service.create_family(
        session, body, get_key_ring(), family_id=granted.subject_id, wrapped_key=granted.family_key
    )
    result = granted.only(schemas.FamilyRead, _family_values(family, members=[]))
    response.headers["ETag"] = people_service.etag(family.version)
    granted.remember(session, status.HTTP_201_CREATED, result)
    return result


@router.get(
    "/families/{family_id}",
    summary="Read a household and its members",
    description="A read of each member, each decided exactly as a read of that person "
    "(their consents, the household's child protection plans, restriction, objection, "
    "retention) and audited in that member's access log. The members allowed are "
    "returned, each with only its allowed categories; the household's address, telephone "
    "and email where at least one member's decision allows `contact`. Denied (403) only "
    "when every member is. `X-Decision-Id` names the first returned member's decision.",
    response_model_exclude_unset=True,
)
def read_family(granted: ReadFamily, session: SessionDep, keys: KeysDep) -> schemas.FamilyRead:
    family = granted.family
    assert family is not None
    members: list[schemas.PersonRead] = []
    shown: list[UUID] = []
    left_out = 0
    reached: set[Category] = set()
    for member in granted.members:
        allowed = member.allowed.categories
        if not member.allowed.decision.allowed or Category.HOUSEHOLD not in allowed:
            left_out += member.allowed.decision.allowed is False
            reached |= allowed
            continue
        reached |= allowed
        members.append(only(schemas.PersonRead, member.person.values(), allowed))
        shown.append(member.person.id)
    if not granted.members:
        reached |= granted.categories
    values = _family_values(family, members=members)
    values["members_withheld"] = left_out
    # Only the relationships of members whose decision reached `household`.
    values["relationships"] = relationships_service.of_people(session, family.id, shown, keys)
    return only(schemas.FamilyRead, values, frozenset(reached))


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
    body: schemas.PersonCreate, granted: CreatePerson, response: Response, session: SessionDep
) -> schemas.PersonRead:
    assert granted.subject_id is not None
    people_service.create_person(session, body, today(), person_id=granted.subject_id)
    view = people_service.find(session, granted.subject_id)
    assert view is not None
    response.headers["ETag"] = view.etag
    result = granted.only(schemas.PersonRead, view.values())
    granted.remember(session, status.HTTP_201_CREATED, result)
    return result


@router.get(
    "/people",
    summary="Find a person by an exact NHS number or unique pupil number",
    description="A read of the person found, decided and audited like `GET "
    "/v1/people/{id}` (the same headers; a denial is 403). No person with that identifier: "
    "an empty page (the lookup is still audited).",
    response_model_exclude_unset=True,
)
async def find_people(granted: FindPerson) -> schemas.PersonPage:
    # async: no I/O here (the guard read the row and committed), so no second hop.
    if granted.person is None:
        return schemas.PersonPage(items=[])
    return schemas.PersonPage(items=[granted.only(schemas.PersonRead, granted.person.values())])


@router.get(
    "/people/{person_id}",
    summary="Read a person (only the categories the decision allows)",
    response_model_exclude_unset=True,
)
async def read_person(granted: ReadPerson, response: Response) -> schemas.PersonRead:
    # async: no I/O here (the guard read the row), so no second thread-pool hop.
    person = granted.the_person()
    response.headers["ETag"] = person.etag
    return granted.only(schemas.PersonRead, person.values())


@router.patch(
    "/people/{person_id}",
    summary="Rectify identity or contact fields (If-Match required)",
    description="The audit event's `detail` records `rectified`: each changed field with "
    "a keyed hash of its old value (never the value), and, with `X-Subject-Request-Id`, "
    "the rectification case it answers. Every recipient that received a corrected "
    "category is told of the correction (Art 19, `GET /v1/people/{id}/notifications`), in "
    "the same transaction: if that cannot be recorded, nothing changes (503 "
    "`notifications_not_recorded`). A child's date of birth may not be set to one "
    "that makes the child 5 or older today (422).",
    response_model_exclude_unset=True,
)
def patch_person(
    body: schemas.PersonPatch,
    granted: PatchPerson,
    response: Response,
    session: SessionDep,
    keys: KeysDep,
    subject_request_id: SubjectRequestId = None,
) -> schemas.PersonRead:
    if_match = granted.if_match
    if if_match is None:
        raise PreconditionRequired("Send If-Match with the ETag from your last read.")
    current = granted.the_person()
    case = None
    if subject_request_id is not None:
        case = rights_service.rectification_case(session, subject_request_id, current.id)
    rectified = people_service.changed_fields(current, body)
    people_service.patch_person(session, current, body, if_match, today())
    if case is not None:
        rights_service.record_rectification(
            session, case, rectified, granted.decision_id, granted.caller.sub
        )
    view = people_service.find(session, current.id)
    assert view is not None
    if notifications_service.disclosed(session, current.id):
        notifications_service.rectified(
            session,
            keys,
            view,
            schemas.PersonRead,
            current.values(),
            view.values(),
            granted.decision_id,
        )
    response.headers["ETag"] = view.etag
    return granted.only(schemas.PersonRead, view.values())


def _record_routes(
    kind: records.PersonRecord,
    *,
    path: str,
    read_summary: str,
    write_summary: str,
    write_description: str | None = None,
) -> None:
    """`GET` and `PUT /people/{person_id}/<path>` for a per-person record: read it (only
    the categories the decision allows), replace it (If-Match from the last read)."""
    read_operation, write_operation = f"read_{kind.name}", f"write_{kind.name}"
    write_description = " ".join(
        part
        for part in (
            write_description,
            "Replacing a record that exists is a rectification: every recipient that "
            "received a category it corrects is told (Art 19), in the same transaction; if "
            "that cannot be recorded, nothing changes (503 `notifications_not_recorded`).",
        )
        if part
    )
    Read = Annotated[
        Access,
        declare(
            read_operation,
            Action.READ,
            kind.schema,
            kind.name,
            subject=From.PERSON,
            versioned=True,
        ),
    ]
    Write = Annotated[
        Access,
        declare(
            write_operation,
            Action.WRITE,
            kind.schema,
            kind.name,
            subject=From.PERSON,
            body=kind.schema,
            versioned=True,
            # A first write creates the record: it has no tag to send yet.
            if_match_required=False,
        ),
    ]

    def read_record(
        granted: Read, response: Response, session: SessionDep, keys: KeysDep
    ) -> BaseModel:
        values, version = records.read(session, kind, granted.the_person(), keys)
        response.headers["ETag"] = people_service.etag(version)
        return granted.only(kind.schema, values)

    def write_record(
        body: BaseModel,
        granted: Write,
        response: Response,
        session: SessionDep,
        keys: KeysDep,
    ) -> BaseModel:
        person = granted.the_person()
        notify = notifications_service.disclosed(session, person.id)
        before, old_version = records.read(session, kind, person, keys) if notify else ({}, 0)
        version = records.write(session, kind, person, body, keys, granted.if_match)
        if notify and old_version:
            after = body.model_dump(exclude_unset=False)
            notifications_service.rectified(
                session, keys, person, kind.schema, before, after, granted.decision_id
            )
        response.headers["ETag"] = people_service.etag(version)
        return body

    write_record.__annotations__["body"] = kind.schema
    common: dict[str, Any] = {"response_model": kind.schema, "response_model_exclude_unset": True}
    router.add_api_route(
        f"/people/{{person_id}}/{path}",
        read_record,
        methods=["GET"],
        name=read_operation,
        summary=read_summary,
        **common,
    )
    router.add_api_route(
        f"/people/{{person_id}}/{path}",
        write_record,
        methods=["PUT"],
        name=write_operation,
        summary=write_summary,
        description=write_description,
        **common,
    )


_record_routes(
    records.SPECIAL_CATEGORY,
    path="special-category",
    read_summary="Read ethnicity and health (special category data)",
    write_summary="Record ethnicity and health (stored encrypted)",
)
_record_routes(
    records.EDUCATION,
    path="education",
    read_summary="Read a child's attendance, exclusions, behaviour and attainment",
    write_summary="Record a child's education (stored encrypted)",
    write_description="Replaces the record (If-Match from the last read once it exists). "
    "Held only for a child with a unique pupil number or a nursery place (an enrolment at a "
    "maintained nursery): anyone else is 422 naming `person_id`, and nothing is stored. "
    "`behaviour` is `no_concerns`, `some_concerns` or `significant_concerns`; `attainment` "
    "is progress against the EYFS expected level: `emerging`, `expected` or `exceeding`. "
    "An exclusion's `to` may not be before its `from` (422 naming it).",
)
_record_routes(
    records.CIRCUMSTANCES,
    path="circumstances",
    read_summary="Read work status, family make-up, legal status and accommodation",
    write_summary="Record circumstances",
)


@router.post(
    "/people/{person_id}/family-worker-support",
    status_code=status.HTTP_201_CREATED,
    summary="Record that a family worker supports the family (keeps data to age 25)",
    description="A `family_worker` only, under `early_help` or `safeguarding` (DOMAIN.md "
    "'Who may record what'); any other role is 403 `purpose_not_permitted`.",
)
def record_family_worker_support(
    body: schemas.FamilyWorkerSupportCreate, granted: WriteSupport, session: SessionDep
) -> schemas.FamilyWorkerSupportRead:
    support, kept_until = people_service.record_family_worker_support(
        session, granted.the_person(), body, recorded_by=granted.caller.sub
    )
    result = schemas.FamilyWorkerSupportRead(
        id=support.id,
        family_id=support.family_id,
        person_id=support.person_id,
        started_on=support.started_on,
        retention_until=kept_until,
    )
    granted.remember(session, status.HTTP_201_CREATED, result)
    return result
