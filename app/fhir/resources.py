"""FHIR R4 resources from the service's records: one mapping per resource, in one place.

The facade (`/fhir/R4`, app.fhir.router) and the portability export (a `Bundle` of type
`collection`, app.rights.fhir) both build their resources here, so they never disagree.
Each function takes what a decision allowed (the `/v1` read schemas, with only the
allowed categories set) and a `Ref`, which says how one resource points at another: by
`urn:uuid:` inside an export bundle, by `Type/id` on the facade.

Resources declare their UK Core profile in `meta.profile` where UK Core has one; NHS
numbers use the NHS number system; ethnicity is the UK Core ethnic category extension,
present only where the service holds it and the decision reached it; organisations are
named by ODS code (the council, which has none, by its GSS code). Development reviews
are `Observation`s linked to their `Encounter`, coded by the service's own code system
and by SNOMED CT where `app/fhir/codes.py` holds a concept for the review. Codes outside
FHIR's own systems are the service's (IEYS_SYSTEM). Pure: values in, JSON out.
"""

from collections.abc import Callable, Iterable
from typing import Any, Final
from uuid import NAMESPACE_URL, UUID, uuid5

from app.consent.schemas import ConsentRead
from app.contacts.schemas import ContactRead
from app.fhir import codes
from app.people.schemas import PersonRead
from app.platform.identifiers import ETHNIC_CATEGORY_DESCRIPTIONS, EthnicCategory
from app.policy.vocabulary import Category
from app.reference import catalogue
from app.rights.schemas import HeldRecord
from app.safeguarding.schemas import SafeguardingRead

IEYS_SYSTEM: Final = "https://ieys.camden.gov.uk/fhir/CodeSystem"
NHS_NUMBER: Final = "https://fhir.nhs.uk/Id/nhs-number"
ODS_CODE: Final = "https://fhir.nhs.uk/Id/ods-organization-code"
GSS_CODE: Final = "https://ieys.camden.gov.uk/fhir/Id/gss-code"
UPN: Final = "https://ieys.camden.gov.uk/fhir/Id/unique-pupil-number"
PERSON_ID: Final = "https://ieys.camden.gov.uk/fhir/Id/person"
UK_CORE: Final = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
ETHNIC_CATEGORY_EXTENSION: Final = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
)
ETHNIC_CATEGORY_SYSTEM: Final = "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland"
SECURITY: Final = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
REDACTED: Final = {"system": SECURITY, "code": "REDACTED", "display": "redacted"}
SNOMED: Final = "http://snomed.info/sct"
ROLE_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
ACT_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION: Final = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_CATEGORY: Final = f"{IEYS_SYSTEM}/data-category"
UCUM: Final = "http://unitsofmeasure.org"

PROFILED: Final = frozenset(
    {
        "Patient",
        "RelatedPerson",
        "Encounter",
        "Observation",
        "Flag",
        "AllergyIntolerance",
        "DocumentReference",
    }
)
"""The resources UK Core profiles (Consent has no UK Core profile: base R4)."""

Ref = Callable[[str, UUID | str], dict[str, str]]
"""How a resource points at another: (resource type, id) to a Reference."""


def urn(_resource_type: str, resource_id: UUID | str) -> dict[str, str]:
    """Inside a bundle of its own (the export): by the entry's `fullUrl`."""
    return {"reference": f"urn:uuid:{resource_id}"}


def relative(resource_type: str, resource_id: UUID | str) -> dict[str, str]:
    """On the facade: a relative literal reference, `Patient/{id}`."""
    return {"reference": f"{resource_type}/{resource_id}"}


def profiled(resource: dict[str, Any], *, withheld: Iterable[Category] = ()) -> dict[str, Any]:
    """`meta.profile` where UK Core has one; `meta.security` REDACTED where categories
    the resource would carry were withheld by the decision (their elements are absent)."""
    meta: dict[str, Any] = dict(resource.get("meta", {}))
    if resource["resourceType"] in PROFILED:
        meta["profile"] = [UK_CORE + resource["resourceType"]]
    if any(True for _ in withheld):
        meta["security"] = [REDACTED]
    if meta:
        resource["meta"] = meta
    return resource


_EDUCATION_CATEGORY: Final = [
    {"coding": [{"system": OBSERVATION_CATEGORY, "code": "social-history"}]},
    {"coding": [{"system": DATA_CATEGORY, "code": "education", "display": "Education"}]},
]
_RELATIONSHIP_CODE: Final = {
    "parent": ("PRN", "parent"),
    "step_parent": ("STPPRN", "step parent"),
    "grandparent": ("GRPRN", "grandparent"),
    "sibling": ("SIB", "sibling"),
    "half_sibling": ("HSIB", "half-sibling"),
    "child": ("CHILD", "child"),
    "other_relative": ("FAMMEMB", "family member"),
    "partner": ("SIGOTHR", "significant other"),
}
"""v3 RoleCode for the kinds it has a code for; the others are the service's own."""

_GENDER: Final = {
    "female": "female",
    "male": "male",
    "indeterminate": "other",
    "not_known": "unknown",
}
_ENCOUNTER_CLASS: Final = {
    "home_visit": ("HH", "home health"),
    "call": ("VR", "virtual"),
}
_AMBULATORY: Final = ("AMB", "ambulatory")
_HEALTH_TEXT: Final = {
    "medical_history": "Medical history",
    "wellbeing": "Physical and emotional wellbeing",
    "needs": "Needs",
}
_CIRCUMSTANCES_TEXT: Final = {
    "work_status": "Work status",
    "family_makeup": "Family make-up",
    "legal_status": "Legal status",
    "accommodation": "Accommodation",
}


def derived_id(*parts: object) -> str:
    """A stable id for a resource the service holds as a field, not a row."""
    return str(uuid5(NAMESPACE_URL, "ieys:" + ":".join(str(p) for p in parts)))


def _instant(value: Any) -> str:
    return str(value.isoformat())


def _name(person: PersonRead, *, official: bool) -> list[dict[str, Any]] | None:
    if not (person.given_name or person.family_name):
        return None
    name: dict[str, Any] = {"use": "official"} if official else {}
    if person.family_name:
        name["family"] = person.family_name
    if person.given_name:
        name["given"] = [person.given_name]
    return [name]


def _telecom(person: PersonRead) -> list[dict[str, str]]:
    telecom = []
    if person.phone:
        telecom.append({"system": "phone", "value": person.phone})
    if person.email:
        telecom.append({"system": "email", "value": person.email})
    return telecom


def _address(person: PersonRead) -> list[dict[str, Any]] | None:
    if not person.address:
        return None
    lines = [line for line in (person.address.line1, person.address.line2) if line]
    return [{"line": lines, "city": "London", "postalCode": person.address.postcode}]


def ethnic_category(ethnicity: EthnicCategory) -> dict[str, Any]:
    """The UK Core ethnic category extension (NHS Data Dictionary codes)."""
    return {
        "url": ETHNIC_CATEGORY_EXTENSION,
        "valueCodeableConcept": {
            "coding": [
                {
                    "system": ETHNIC_CATEGORY_SYSTEM,
                    "code": ethnicity.value,
                    "display": ETHNIC_CATEGORY_DESCRIPTIONS[ethnicity],
                }
            ]
        },
    }


def patient(
    person: PersonRead | None, person_id: UUID, ethnicity: EthnicCategory | None = None
) -> dict[str, Any]:
    """A person as a `Patient`: the fields the decision allowed, ethnicity where held."""
    resource: dict[str, Any] = {"resourceType": "Patient", "id": str(person_id)}
    if person is not None:
        identifiers = []
        if person.nhs_number:
            identifiers.append({"system": NHS_NUMBER, "value": person.nhs_number})
        if person.upn:
            identifiers.append({"system": UPN, "value": person.upn})
        if identifiers:
            resource["identifier"] = identifiers
        if (name := _name(person, official=True)) is not None:
            resource["name"] = name
        if person.sex:
            resource["gender"] = _GENDER[person.sex.value]
        if person.date_of_birth:
            resource["birthDate"] = person.date_of_birth.isoformat()
        if telecom := _telecom(person):
            resource["telecom"] = telecom
        if (address := _address(person)) is not None:
            resource["address"] = address
    if ethnicity is not None:
        resource["extension"] = [ethnic_category(ethnicity)]
    return profiled(resource)


def related_person_id(carer_id: UUID, child_id: UUID) -> str:
    """A carer as the `RelatedPerson` of one child: stable, one per carer and child."""
    return derived_id("related", carer_id, child_id)


def related_person(
    carer_id: UUID, child_id: UUID, carer: PersonRead | None, ref: Ref, *, relationship: bool
) -> dict[str, Any]:
    """A carer with parental responsibility, beside a child. `relationship`: the
    decision reached `household`, which says how the two are related."""
    related: dict[str, Any] = {
        "resourceType": "RelatedPerson",
        "id": related_person_id(carer_id, child_id),
        "identifier": [{"system": PERSON_ID, "value": str(carer_id)}],
        "patient": ref("Patient", child_id),
    }
    if relationship:
        related["relationship"] = [
            {
                "coding": [{"system": ROLE_CODE, "code": "PRN", "display": "parent"}],
                "text": "carer with parental responsibility",
            }
        ]
    if carer is not None:
        if (name := _name(carer, official=False)) is not None:
            related["name"] = name
        if telecom := _telecom(carer):
            related["telecom"] = telecom
        if (address := _address(carer)) is not None:
            related["address"] = address
    return profiled(related)


def _observation(
    subject_id: UUID, key: str, text: str, value: str, category: str, ref: Ref
) -> dict[str, Any]:
    return profiled(
        {
            "resourceType": "Observation",
            "id": derived_id("observation", subject_id, key),
            "status": "final",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": category}]}],
            "code": {"coding": [{"system": f"{IEYS_SYSTEM}/field", "code": key}], "text": text},
            "subject": ref("Patient", subject_id),
            "valueString": value,
        }
    )


def health(record: HeldRecord, subject_id: UUID, ref: Ref) -> list[dict[str, Any]]:
    special = record.special_category
    if special is None or special.health is None:
        return []
    out = []
    held = special.health
    for key, text in _HEALTH_TEXT.items():
        value = getattr(held, key)
        if value:
            out.append(_observation(subject_id, key, text, value, "survey", ref))
    if held.allergies:
        out.append(
            profiled(
                {
                    "resourceType": "AllergyIntolerance",
                    "id": derived_id("allergy", subject_id),
                    "clinicalStatus": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/"
                                "allergyintolerance-clinical",
                                "code": "active",
                            }
                        ]
                    },
                    "code": {"text": held.allergies},
                    "patient": ref("Patient", subject_id),
                }
            )
        )
    return out


def circumstances(record: HeldRecord, subject_id: UUID, ref: Ref) -> list[dict[str, Any]]:
    if record.circumstances is None:
        return []
    return [
        _observation(subject_id, key, text, value, "social-history", ref)
        for key, text in _CIRCUMSTANCES_TEXT.items()
        if (value := getattr(record.circumstances, key))
    ]


def _education_observation(subject_id: UUID, key: str, text: str, ref: Ref) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": derived_id("education", subject_id, key),
        "status": "final",
        "category": _EDUCATION_CATEGORY,
        "code": {"coding": [{"system": f"{IEYS_SYSTEM}/education", "code": key}], "text": text},
        "subject": ref("Patient", subject_id),
    }


def education(record: HeldRecord, subject_id: UUID, ref: Ref) -> list[dict[str, Any]]:
    held = record.education
    if held is None:
        return []
    out = []
    if held.attendance_percent is not None:
        observation = _education_observation(subject_id, "attendance_percent", "Attendance", ref)
        observation["valueQuantity"] = {
            "value": held.attendance_percent,
            "unit": "%",
            "system": UCUM,
            "code": "%",
        }
        out.append(observation)
    for key, text, value in (
        ("behaviour", "Behaviour", held.behaviour),
        ("attainment", "Attainment against the EYFS expected level", held.attainment),
    ):
        if value is not None:
            observation = _education_observation(subject_id, key, text, ref)
            observation["valueCodeableConcept"] = {
                "coding": [{"system": f"{IEYS_SYSTEM}/education-{key}", "code": value.value}]
            }
            out.append(observation)
    for index, exclusion in enumerate(held.exclusions or []):
        observation = _education_observation(subject_id, f"exclusion:{index}", "Exclusion", ref)
        period = {"start": exclusion.from_.isoformat()}
        if exclusion.to is not None:
            period["end"] = exclusion.to.isoformat()
        observation["effectivePeriod"] = period
        observation["valueString"] = exclusion.reason
        out.append(observation)
    return [profiled(o) for o in out]


def relationships(record: HeldRecord, subject_id: UUID, ref: Ref) -> list[dict[str, Any]]:
    out = []
    for relationship in record.relationships:
        code = _RELATIONSHIP_CODE.get(relationship.kind.value)
        coding = [{"system": f"{IEYS_SYSTEM}/relationship-kind", "code": relationship.kind}]
        if code is not None:
            coding.insert(0, {"system": ROLE_CODE, "code": code[0], "display": code[1]})
        related: dict[str, Any] = {
            "resourceType": "RelatedPerson",
            "id": str(relationship.id),
            "patient": ref("Patient", subject_id),
            "relationship": [{"coding": coding, "text": relationship.kind.value.replace("_", " ")}],
        }
        if relationship.to_person_id is not None:
            related["identifier"] = [{"system": PERSON_ID, "value": str(relationship.to_person_id)}]
        out.append(profiled(related))
    return out


def documents(record: HeldRecord, subject_id: UUID, ref: Ref) -> list[dict[str, Any]]:
    return [
        profiled(
            {
                "resourceType": "DocumentReference",
                "id": str(document.id),
                "status": "current",
                "type": {
                    "coding": [{"system": f"{IEYS_SYSTEM}/document-kind", "code": document.kind}]
                },
                "category": [{"coding": [{"system": DATA_CATEGORY, "code": document.category}]}],
                "subject": ref("Patient", subject_id),
                "date": _instant(document.created_at),
                "content": [
                    {
                        "attachment": {
                            **(
                                {"contentType": document.media_type.value}
                                if document.media_type
                                else {}
                            ),
                            "url": f"/v1/documents/{document.id}/content",
                            "size": document.size,
                            **({"title": document.filename} if document.filename else {}),
                        }
                    }
                ],
                **({"description": f"From {document.source}"} if document.source else {}),
            }
        )
        for document in record.documents
    ]


def organisation_of(role: str) -> dict[str, Any] | None:
    """The organisation employing a role (reference data), as a logical reference by
    its ODS code (the council by its GSS code: a local authority has no ODS code here)."""
    for organisation in catalogue.organisations().values():
        if role in {r.value for r in organisation.roles}:
            system = ODS_CODE if organisation.kind == "nhs_trust" else GSS_CODE
            return {
                "identifier": {"system": system, "value": organisation.code},
                "display": organisation.name,
            }
    return None


def encounter(contact: ContactRead, subject_id: UUID, ref: Ref) -> dict[str, Any] | None:
    """A contact as an `Encounter` (its notes are never part of it)."""
    if contact.id is None or contact.kind is None:
        return None
    code, display = _ENCOUNTER_CLASS.get(contact.kind.value, _AMBULATORY)
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": str(contact.id),
        "status": "finished",
        "class": {"system": ACT_CODE, "code": code, "display": display},
        "type": [
            {
                "coding": [{"system": f"{IEYS_SYSTEM}/contact-kind", "code": contact.kind}],
                "text": contact.kind.value.replace("_", " "),
            }
        ],
        "subject": ref("Patient", subject_id),
    }
    if contact.occurred_at is not None:
        resource["period"] = {"start": _instant(contact.occurred_at)}
    if contact.service:
        resource["serviceType"] = {"text": contact.service}
    if contact.staff_role is not None:
        provider = organisation_of(contact.staff_role.value)
        if provider is not None:
            resource["serviceProvider"] = provider
    return profiled(resource)


def review_observation_id(contact_id: UUID) -> str:
    return derived_id("review", contact_id)


def review_observation(contact: ContactRead, subject_id: UUID, ref: Ref) -> dict[str, Any] | None:
    """A development review's outcome as an `Observation` linked to its `Encounter`:
    coded by the service's review code (and SNOMED CT where codes.py holds one)."""
    if contact.id is None or contact.review is None or contact.outcome is None:
        return None
    review = contact.review.value
    coding = [
        {
            "system": f"{IEYS_SYSTEM}/development-review",
            "code": review,
            "display": codes.REVIEW_DISPLAY[review],
        }
    ]
    snomed = codes.REVIEW_SNOMED.get(review)
    if snomed is not None:
        coding.insert(0, {"system": SNOMED, "code": snomed[0], "display": snomed[1]})
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": review_observation_id(contact.id),
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "exam"}]}],
        "code": {"coding": coding, "text": f"Development review: {codes.REVIEW_DISPLAY[review]}"},
        "subject": ref("Patient", subject_id),
        "encounter": ref("Encounter", contact.id),
        "valueCodeableConcept": {
            "coding": [
                {
                    "system": f"{IEYS_SYSTEM}/review-outcome",
                    "code": contact.outcome.value,
                    "display": codes.OUTCOME_DISPLAY[contact.outcome.value],
                }
            ]
        },
    }
    if contact.occurred_at is not None:
        resource["effectiveDateTime"] = _instant(contact.occurred_at)
    return profiled(resource)


def encounters(record: HeldRecord, subject_id: UUID, ref: Ref) -> list[dict[str, Any]]:
    out = []
    for contact in record.contacts:
        resource = encounter(contact, subject_id, ref)
        if resource is None:
            continue
        out.append(resource)
        observation = review_observation(contact, subject_id, ref)
        if observation is not None:
            out.append(observation)
    return out


def flag(item: SafeguardingRead, subject_id: UUID, ref: Ref) -> dict[str, Any] | None:
    """A safeguarding record as a `Flag` (a child protection plan or looked-after status
    is what CP-IS shares; the export carries every kind)."""
    if item.id is None or item.kind is None:
        return None
    resource: dict[str, Any] = {
        "resourceType": "Flag",
        "id": str(item.id),
        "status": "active" if item.end_date is None else "inactive",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/flag-category",
                        "code": "safety",
                        "display": "Safety",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {
                    "system": f"{IEYS_SYSTEM}/safeguarding-kind",
                    "code": item.kind,
                    "display": codes.SAFEGUARDING_DISPLAY[item.kind.value],
                }
            ],
            "text": item.summary or codes.SAFEGUARDING_DISPLAY[item.kind.value],
        },
        "subject": ref("Patient", subject_id),
    }
    if item.start_date is not None:
        period = {"start": item.start_date.isoformat()}
        if item.end_date is not None:
            period["end"] = item.end_date.isoformat()
        resource["period"] = period
    return profiled(resource)


def flags(record: HeldRecord, subject_id: UUID, ref: Ref) -> list[dict[str, Any]]:
    return [f for item in record.safeguarding if (f := flag(item, subject_id, ref)) is not None]


def consent(
    item: ConsentRead, subject_id: UUID, ref: Ref, performer: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """A consent record as a `Consent` (withdrawn: `inactive`, its period ended)."""
    if item.id is None or item.type is None:
        return None
    provision: dict[str, Any] = {"type": "permit"}
    if item.given_at is not None:
        period = {"start": _instant(item.given_at)}
        if item.withdrawn_at is not None:
            period["end"] = _instant(item.withdrawn_at)
        provision["period"] = period
    if item.categories:
        provision["class"] = [{"system": DATA_CATEGORY, "code": c.value} for c in item.categories]
    if item.recipient:
        provision["actor"] = [
            {
                "role": {"coding": [{"system": PARTICIPATION, "code": "IRCP"}]},
                "reference": {"display": item.recipient},
            }
        ]
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": str(item.id),
        "status": "active" if item.withdrawn_at is None else "inactive",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [
            {"coding": [{"system": "http://loinc.org", "code": "59284-0"}]},
            {"coding": [{"system": f"{IEYS_SYSTEM}/consent-type", "code": item.type}]},
        ],
        "patient": ref("Patient", subject_id),
        "policyRule": {"coding": [{"system": ACT_CODE, "code": "OPTIN"}]},
        "provision": provision,
    }
    if item.given_at is not None:
        resource["dateTime"] = _instant(item.given_at)
    resource["performer"] = [performer or {"display": "a carer with parental responsibility"}]
    return profiled(resource)


def consents(
    record: HeldRecord, subject_id: UUID, ref: Ref, performers: dict[UUID, dict[str, str]]
) -> list[dict[str, Any]]:
    out = []
    for item in record.consents:
        performer = performers.get(item.given_by_id) if item.given_by_id else None
        resource = consent(item, subject_id, ref, performer)
        if resource is not None:
            out.append(resource)
    return out
