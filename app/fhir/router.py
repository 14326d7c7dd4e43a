"""/fhir/R4: the shared record as FHIR R4 (UK Core) resources, read-only.

The same decision as /v1, not a second one: every operation declares its access like a
/v1 operation (`declare`), so the token, `X-Purpose`, `X-Justification`, object scope,
consent, restriction, objection and retention are decided by the same steps with the
same facts, audited once per read or search result set, with the same headers. A
search of people (`Patient`, `RelatedPerson`) decides each person found exactly as a
read of that person; a search of a patient's records (`Encounter`, `Observation`,
`Consent`, `Flag`) is decided like the /v1 list of those records. Resources are mapped
by `app.fhir.resources` (the portability export's code); categories the decision
withheld leave their elements out and the resource carries `meta.security` REDACTED.
Refusals are `OperationOutcome`s with the /v1 status (`app.fhir.outcome`).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Final
from uuid import UUID

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import StringConstraints
from sqlalchemy.orm import Session

from app.consent.schemas import ConsentRead
from app.contacts.schemas import ContactRead
from app.decisions.access import Access, From, Member, declare
from app.decisions.guard import Allowed, today
from app.fhir import capability
from app.fhir import resources as fhir
from app.fhir import service as fhir_service
from app.fhir.outcome import FHIR_JSON
from app.people import service as people_service
from app.people.schemas import PersonRead
from app.people.service import PersonView
from app.platform.categories import categories_of, only
from app.platform.crypto import KeyRing, get_key_ring
from app.platform.db import SessionDep
from app.platform.identifiers import is_valid_nhs_number
from app.platform.problems import Unprocessable
from app.policy.vocabulary import Action, Category, RecordKind
from app.safeguarding.schemas import SafeguardingRead

router = APIRouter(prefix="/fhir/R4", tags=["fhir"])

KeysDep = Annotated[KeyRing, Depends(get_key_ring)]

PATIENT: Final = categories_of(PersonRead) | {Category.ETHNICITY}
"""A Patient: identity, contact, and the ethnic category extension."""
RELATED_PERSON: Final = frozenset({Category.IDENTITY, Category.CONTACT, Category.HOUSEHOLD})
"""A carer beside a child: who they are, how to reach them, how they are related."""
ENCOUNTER: Final = frozenset({Category.SERVICES})
"""A contact: never its notes, and a review's outcome is an Observation's."""
OBSERVATION: Final = frozenset({Category.HEALTH})
"""A development review's outcome (health data)."""
CONSENT: Final = categories_of(ConsentRead)
FLAG: Final = categories_of(SafeguardingRead)

MAX_MATCHES: Final = 200
"""A people search finding more than this is refused (422): narrow it."""
DEFAULT_COUNT: Final = 20
MAX_COUNT: Final = 100


class FhirResponse(Response):
    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _answer(
    body: dict[str, Any], decided: Response, headers: dict[str, str] | None = None
) -> FhirResponse:
    """A returned response does not take the dependency's headers: carry the decision's
    (`X-Decision-Id`, `X-Lawful-Basis`, `X-Withheld-Categories`)."""
    carried = {k: v for k, v in decided.headers.items() if k.lower().startswith("x-")}
    return FhirResponse(body, headers={**carried, **(headers or {})})


def _ok(schema: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": description,
            "content": {FHIR_JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
    }


# --- query parameters ------------------------------------------------------------

Count = Annotated[
    int,
    Query(alias="_count", ge=1, le=MAX_COUNT, description="Entries per page (default 20)."),
]
Offset = Annotated[
    int,
    Query(
        alias="_offset",
        ge=0,
        le=100_000,
        description="Entries to skip: the `next` link of the previous page sets it.",
    ),
]
PatientParam = Annotated[
    str,
    Query(
        description="The patient: `Patient/{id}` or the id.",
        pattern=r"^(Patient/)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
        r"[0-9a-fA-F]{12}$",
    ),
]
DAY: Final = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"


def _day(name: str, text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Unprocessable(name, "not a calendar date (YYYY-MM-DD)") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise Unprocessable(name, f"a year from {FIRST_YEAR} to {LAST_YEAR}")
    return day


FIRST_YEAR: Final = 1900
LAST_YEAR: Final = 2999
"""The days a search may name: a contact or a birth of the service's, and far beyond."""


@dataclass(frozen=True, slots=True)
class PeopleQuery:
    nhs_number: str | None
    family: str | None
    given: str | None
    born: date | None
    offset: int
    count: int


NHS_IDENTIFIER: Final = f"{fhir.NHS_NUMBER}|"


def _people_query(
    identifier: Annotated[
        str | None,
        Query(
            description="`https://fhir.nhs.uk/Id/nhs-number|{NHS number}`: the person with "
            "that NHS number.",
            pattern=r"^https://fhir\.nhs\.uk/Id/nhs-number\|[0-9]{10}$",
        ),
    ] = None,
    family: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="The start of the family name, any case.",
        ),
    ] = None,
    given: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="The start of a given name, any case."),
    ] = None,
    birthdate: Annotated[
        str | None,
        Query(pattern=rf"^(eq)?{DAY}$", description="The date of birth (`YYYY-MM-DD`)."),
    ] = None,
    count: Count = DEFAULT_COUNT,
    offset: Offset = 0,
) -> PeopleQuery:
    nhs_number = None
    if identifier is not None:
        nhs_number = identifier.removeprefix(NHS_IDENTIFIER)
        if not is_valid_nhs_number(nhs_number):
            raise Unprocessable("identifier", "not a valid NHS number")
    if identifier is None and family is None and given is None and birthdate is None:
        raise Unprocessable("identifier", "search by identifier, family, given or birthdate")
    born = _day("birthdate", birthdate.removeprefix("eq")) if birthdate is not None else None
    return PeopleQuery(
        nhs_number=nhs_number,
        family=family.strip() or None if family is not None else None,
        given=given.strip() or None if given is not None else None,
        born=born,
        offset=offset,
        count=count,
    )


def _patients(session: Session, query: PeopleQuery) -> list[PersonView]:
    found = people_service.search(
        session,
        nhs_number=query.nhs_number,
        family=query.family,
        given=query.given,
        born=query.born,
        limit=MAX_MATCHES + 1,
    )
    if len(found) > MAX_MATCHES:
        raise Unprocessable("family", f"more than {MAX_MATCHES} people match: narrow the search")
    return found


@dataclass(frozen=True, slots=True)
class RecordsQuery:
    patient: UUID
    dates: tuple[fhir_service.DateBound, ...]
    offset: int
    count: int


def _patient_id(patient: str) -> UUID:
    return UUID(patient.removeprefix("Patient/"))


def _records_query(patient: PatientParam, count: Count = DEFAULT_COUNT, offset: Offset = 0) -> Any:
    return RecordsQuery(patient=_patient_id(patient), dates=(), offset=offset, count=count)


def _encounters_query(
    patient: PatientParam,
    date_: Annotated[
        list[Annotated[str, StringConstraints(pattern=rf"^(eq|ge|gt|le|lt)?{DAY}$")]] | None,
        Query(
            alias="date",
            max_length=2,
            description="When the contact happened: a day (`YYYY-MM-DD`, UK local), with a "
            "prefix `eq` (the default), `ge`, `gt`, `le` or `lt`; give two for a range "
            "(`date=ge2025-01-01&date=lt2025-02-01`).",
        ),
    ] = None,
    count: Count = DEFAULT_COUNT,
    offset: Offset = 0,
) -> Any:
    bounds = []
    for value in date_ or []:
        prefix = value[:2] if value[:2].isalpha() else "eq"
        text = value[2:] if value[:2].isalpha() else value
        bounds.append(fhir_service.DateBound(prefix=prefix, day=_day("date", text)))
    return RecordsQuery(
        patient=_patient_id(patient), dates=tuple(bounds), offset=offset, count=count
    )


@dataclass(frozen=True, slots=True)
class CarersQuery:
    patient: UUID
    offset: int
    count: int


def _carers_query(patient: PatientParam, count: Count = DEFAULT_COUNT, offset: Offset = 0) -> Any:
    return CarersQuery(patient=_patient_id(patient), offset=offset, count=count)


def _carers(session: Session, query: CarersQuery) -> list[PersonView]:
    child = people_service.find(session, query.patient)
    return [] if child is None else people_service.carers_of(session, child)


# --- declared access ---------------------------------------------------------------
# Every operation reads and writes nothing: its decision is committed before it reads
# (`commits_first`), so the audit event holds no write lock while records are decrypted.

ReadPatient = Annotated[
    Access,
    declare(
        "fhir_read_patient",
        Action.READ,
        PATIENT,
        "person",
        subject=From.PERSON,
        versioned=True,
        commits_first=True,
    ),
]
SearchPatients = Annotated[
    Access,
    declare(
        "fhir_search_patient",
        Action.READ,
        PATIENT,
        "person",
        subject=From.SEARCH,
        query=_people_query,
        candidates=_patients,
        commits_first=True,
    ),
]
SearchRelatedPeople = Annotated[
    Access,
    declare(
        "fhir_search_related_person",
        Action.READ,
        RELATED_PERSON,
        "person",
        subject=From.SEARCH,
        query=_carers_query,
        candidates=_carers,
        commits_first=True,
    ),
]
SearchEncounters = Annotated[
    Access,
    declare(
        "fhir_search_encounter",
        Action.READ,
        ENCOUNTER,
        "contact",
        subject=From.QUERY_PERSON,
        query=_encounters_query,
        commits_first=True,
    ),
]
SearchObservations = Annotated[
    Access,
    declare(
        "fhir_search_observation",
        Action.READ,
        OBSERVATION,
        "contact",
        subject=From.QUERY_PERSON,
        query=_records_query,
        commits_first=True,
    ),
]
SearchConsents = Annotated[
    Access,
    declare(
        "fhir_search_consent",
        Action.READ,
        CONSENT,
        "consent",
        subject=From.QUERY_PERSON,
        query=_records_query,
        commits_first=True,
        record=RecordKind.CONSENT,
    ),
]
SearchFlags = Annotated[
    Access,
    declare(
        "fhir_search_flag",
        Action.READ,
        FLAG,
        "safeguarding",
        subject=From.QUERY_PERSON,
        query=_records_query,
        commits_first=True,
    ),
]


# --- answers -----------------------------------------------------------------------


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + router.prefix


def _searchset(
    request: Request,
    response: Response,
    found: Sequence[dict[str, Any]],
    *,
    total: int,
    offset: int,
    count: int,
) -> FhirResponse:
    """A `searchset` Bundle: `total` matches, this page's entries, `self` and `next`."""
    links = [{"relation": "self", "url": str(request.url)}]
    if offset + count < total:
        following = request.url.include_query_params(_count=count, _offset=offset + count)
        links.append({"relation": "next", "url": str(following)})
    base = _base(request)
    return _answer(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": total,
            "link": links,
            "entry": [
                {
                    "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
                    "resource": resource,
                    "search": {"mode": "match"},
                }
                for resource in found
            ],
        },
        response,
    )


def _withheld(allowed: Allowed, held: frozenset[Category]) -> frozenset[Category]:
    return held - allowed.categories


def _patient(session: Session, keys: KeyRing, view: PersonView, allowed: Allowed) -> dict[str, Any]:
    person = only(PersonRead, view.values(), allowed.categories)
    ethnicity = None
    if Category.ETHNICITY in allowed.categories:
        ethnicity = fhir_service.ethnicity(session, view, keys)
    resource = fhir.patient(person, view.id, ethnicity)
    resource["meta"]["versionId"] = str(view.row.version)
    return fhir.profiled(resource, withheld=_withheld(allowed, PATIENT))


def _empty(request: Request, response: Response, count: int, offset: int) -> FhirResponse:
    return _searchset(request, response, [], total=0, offset=offset, count=count)


def _members(granted: Access, make: Callable[[Member], dict[str, Any]]) -> list[dict[str, Any]]:
    return [make(member) for member in granted.members]


# --- routes --------------------------------------------------------------------------


@router.get(
    "/metadata",
    summary="The CapabilityStatement: what this FHIR server supports",
    description="No token: it holds no personal data. Read-only: `read` of `Patient`, "
    "`search-type` of every resource listed, with the search parameters named.",
    response_class=FhirResponse,
    responses=_ok("FhirCapabilityStatement", "The server's CapabilityStatement"),
)
def fhir_capabilities(request: Request) -> FhirResponse:
    return FhirResponse(capability.statement(_base(request)))


@router.get(
    "/Patient/{person_id}",
    summary="Read a Patient (a child, carer or household member)",
    description="Decided and audited like `GET /v1/people/{id}`. Categories withheld "
    "leave their elements out (ethnicity: the UK Core ethnic category extension) and "
    "the Patient carries `meta.security` REDACTED. `ETag` and `meta.versionId` give the "
    "record's version.",
    response_class=FhirResponse,
    responses=_ok("FhirPatient", "The Patient"),
)
def fhir_read_patient(
    granted: ReadPatient, response: Response, session: SessionDep, keys: KeysDep
) -> FhirResponse:
    view = granted.the_person()
    resource = _patient(session, keys, view, granted.allowed)
    return _answer(resource, response, {"ETag": f'W/"{view.row.version}"'})


@router.get(
    "/Patient",
    summary="Search Patients by NHS number, name or date of birth",
    description="Each person found is decided exactly as a read of that person; those "
    "allowed are returned (`total` counts them), the search audited as one event naming "
    "every person returned. Denied (403) only when every person found is; none found is "
    "an empty `searchset`. At least one parameter; more than 200 people found is 422.",
    response_class=FhirResponse,
    responses=_ok("FhirBundle", "A searchset Bundle of Patients"),
)
def fhir_search_patient(
    granted: SearchPatients,
    request: Request,
    response: Response,
    session: SessionDep,
    keys: KeysDep,
) -> FhirResponse:
    query: PeopleQuery = granted.query
    found = _members(granted, lambda m: _patient(session, keys, m.person, m.allowed))
    return _searchset(
        request, response, found, total=granted.total or 0, offset=query.offset, count=query.count
    )


@router.get(
    "/RelatedPerson",
    summary="Search the carers of a child (carers with parental responsibility)",
    description="Each carer is decided as a read of that carer (a nursery practitioner "
    "reaches no carer: `out_of_scope`). `relationship` is household data: left out, "
    "with `meta.security` REDACTED, where the decision does not reach `household`.",
    response_class=FhirResponse,
    responses=_ok("FhirBundle", "A searchset Bundle of RelatedPersons"),
)
def fhir_search_related_person(
    granted: SearchRelatedPeople, request: Request, response: Response
) -> FhirResponse:
    query: CarersQuery = granted.query

    def related(member: Member) -> dict[str, Any]:
        allowed = member.allowed
        carer = only(PersonRead, member.person.values(), allowed.categories)
        resource = fhir.related_person(
            member.person.id,
            query.patient,
            carer,
            fhir.relative,
            relationship=Category.HOUSEHOLD in allowed.categories,
        )
        return fhir.profiled(resource, withheld=_withheld(allowed, RELATED_PERSON))

    found = _members(granted, related)
    return _searchset(
        request, response, found, total=granted.total or 0, offset=query.offset, count=query.count
    )


@router.get(
    "/Encounter",
    summary="Search a patient's contacts (visits, calls, sessions, reviews)",
    description="Decided like `GET /v1/people/{id}/contacts` (category `services`). The "
    "most recent first. A development review's outcome is its Observation's.",
    response_class=FhirResponse,
    responses=_ok("FhirBundle", "A searchset Bundle of Encounters"),
)
def fhir_search_encounter(
    granted: SearchEncounters,
    request: Request,
    response: Response,
    session: SessionDep,
    keys: KeysDep,
) -> FhirResponse:
    query: RecordsQuery = granted.query
    if granted.person is None:
        return _empty(request, response, query.count, query.offset)
    window = fhir_service.contacts(
        session,
        granted.person,
        keys,
        # Nothing encrypted: an Encounter carries neither the notes nor the outcome.
        allowed=frozenset(),
        dates=query.dates,
        offset=query.offset,
        count=query.count,
    )
    found = [
        resource
        for item in window.items
        if (resource := fhir.encounter(ContactRead(**item), query.patient, fhir.relative))
    ]
    return _searchset(
        request, response, found, total=window.total, offset=query.offset, count=query.count
    )


@router.get(
    "/Observation",
    summary="Search a patient's development review outcomes",
    description="Each Healthy Child Programme review recorded, as an Observation linked "
    "to its Encounter. The outcome is health data: a purpose (or a consent) that does not "
    "reach `health` is denied.",
    response_class=FhirResponse,
    responses=_ok("FhirBundle", "A searchset Bundle of Observations"),
)
def fhir_search_observation(
    granted: SearchObservations,
    request: Request,
    response: Response,
    session: SessionDep,
    keys: KeysDep,
) -> FhirResponse:
    query: RecordsQuery = granted.query
    if granted.person is None:
        return _empty(request, response, query.count, query.offset)
    window = fhir_service.contacts(
        session,
        granted.person,
        keys,
        # The outcome only: never the notes.
        allowed=granted.categories & OBSERVATION,
        reviews_only=True,
        offset=query.offset,
        count=query.count,
    )
    found = [
        resource
        for item in window.items
        if (resource := fhir.review_observation(ContactRead(**item), query.patient, fhir.relative))
    ]
    return _searchset(
        request, response, found, total=window.total, offset=query.offset, count=query.count
    )


@router.get(
    "/Consent",
    summary="Search a patient's consents, active and withdrawn",
    description="Decided like `GET /v1/people/{id}/consents` (on art6-1-c: the service "
    "must be able to show consent). A withdrawn consent is `inactive`, its period ended.",
    response_class=FhirResponse,
    responses=_ok("FhirBundle", "A searchset Bundle of Consents"),
)
def fhir_search_consent(
    granted: SearchConsents, request: Request, response: Response, session: SessionDep
) -> FhirResponse:
    query: RecordsQuery = granted.query
    if granted.person is None:
        return _empty(request, response, query.count, query.offset)
    window = fhir_service.consents(session, query.patient, offset=query.offset, count=query.count)
    found = []
    for item in window.items:
        consent = only(ConsentRead, item, granted.categories)
        performer = None
        if consent.given_by_id == query.patient:
            performer = fhir.relative("Patient", query.patient)
        elif consent.given_by_id is not None:
            performer = fhir.relative(
                "RelatedPerson", fhir.related_person_id(consent.given_by_id, query.patient)
            )
        resource = fhir.consent(consent, query.patient, fhir.relative, performer)
        if resource is not None:
            found.append(fhir.profiled(resource, withheld=_withheld(granted.allowed, CONSENT)))
    return _searchset(
        request, response, found, total=window.total, offset=query.offset, count=query.count
    )


@router.get(
    "/Flag",
    summary="Search a patient's active child protection plan or looked-after status",
    description="As CP-IS shares them: a child protection plan or looked-after status in "
    "force today. Only under purposes that reach `safeguarding` (`safeguarding` itself "
    "with `X-Justification`, flagged for the officer's review).",
    response_class=FhirResponse,
    responses=_ok("FhirBundle", "A searchset Bundle of Flags"),
)
def fhir_search_flag(
    granted: SearchFlags, request: Request, response: Response, session: SessionDep, keys: KeysDep
) -> FhirResponse:
    query: RecordsQuery = granted.query
    if granted.person is None:
        return _empty(request, response, query.count, query.offset)
    window = fhir_service.flags(
        session, granted.person, keys, today(), offset=query.offset, count=query.count
    )
    found = [
        resource
        for item in window.items
        if (resource := fhir.flag(SafeguardingRead(**item), query.patient, fhir.relative))
    ]
    return _searchset(
        request, response, found, total=window.total, offset=query.offset, count=query.count
    )
