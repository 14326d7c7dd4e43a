"""The CapabilityStatement `GET /fhir/R4/metadata` answers: exactly what the facade does.

Written as data beside the routes it describes (app.fhir.router); a test holds the two
to each other (every route is in it, every interaction it names is served).
"""

from typing import Any, Final

from app.fhir.resources import PROFILED, UK_CORE

COMMON: Final = (
    ("_count", "number", "Entries per page (1 to 100, default 20)."),
    ("_offset", "number", "Entries to skip (the `next` link sets it)."),
)
PATIENT_PARAM: Final = ("patient", "reference", "The patient: `Patient/{id}` or the id.")

RESOURCES: Final[tuple[tuple[str, tuple[str, ...], tuple[tuple[str, str, str], ...], str], ...]] = (
    (
        "Patient",
        ("read", "search-type"),
        (
            ("identifier", "token", "`https://fhir.nhs.uk/Id/nhs-number|{NHS number}`."),
            ("family", "string", "The start of the family name, any case."),
            ("given", "string", "The start of a given name, any case."),
            ("birthdate", "date", "The date of birth, exactly."),
        ),
        "Children, carers and household members. Each person found is decided as a read.",
    ),
    (
        "RelatedPerson",
        ("search-type",),
        (PATIENT_PARAM,),
        "The carers with parental responsibility of a child.",
    ),
    (
        "Encounter",
        ("search-type",),
        (
            PATIENT_PARAM,
            ("date", "date", "A day, with a prefix eq, ge, gt, le or lt; up to two."),
        ),
        "Contacts: home visits, centre contacts, group sessions, calls, meetings, reviews.",
    ),
    (
        "Observation",
        ("search-type",),
        (PATIENT_PARAM,),
        "Development review outcomes (Healthy Child Programme), linked to their Encounter.",
    ),
    ("Consent", ("search-type",), (PATIENT_PARAM,), "Consents, active and withdrawn."),
    (
        "Flag",
        ("search-type",),
        (PATIENT_PARAM,),
        "An active child protection plan or looked-after status: only under purposes "
        "that reach safeguarding.",
    ),
)

SECURITY: Final = (
    "A bearer JWT on every call but this one, and `X-Purpose` (why the data is processed: "
    "GET /v1/policy lists the purposes) with `X-Justification` for `safeguarding`. Every "
    "read and search is decided by the lawful-basis check and audited, as on /v1; "
    "`X-Decision-Id`, `X-Lawful-Basis` and `X-Withheld-Categories` say how. Elements of "
    "categories withheld are left out and the resource carries `meta.security` REDACTED. "
    "Refusals are OperationOutcomes with the /v1 status."
)


def statement(base: str) -> dict[str, Any]:
    rest_resources = []
    for kind, interactions, params, documentation in RESOURCES:
        resource: dict[str, Any] = {
            "type": kind,
            "documentation": documentation,
            "interaction": [{"code": code} for code in interactions],
        }
        if kind in PROFILED:
            resource["profile"] = UK_CORE + kind
        if "read" in interactions:
            resource["versioning"] = "versioned"
            resource["readHistory"] = False
        resource["searchParam"] = [
            {"name": name, "type": kind_, "documentation": text}
            for name, kind_, text in (*params, *COMMON)
        ]
        rest_resources.append(resource)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-02",
        "publisher": "London Borough of Camden: Integrated Early Years Service",
        "kind": "instance",
        "software": {"name": "Integrated Early Years Service API"},
        "implementation": {"description": "The shared record, read-only, as FHIR R4", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Read-only: writes stay on /v1.",
                "security": {"description": SECURITY},
                "resource": rest_resources,
            }
        ],
    }
