"""A package as a FHIR R4 `Bundle` (type `collection`), for portability (Art 20).

Each person is a `Patient`; a carer with parental responsibility appears beside each
child as a `RelatedPerson`, and so does each family relationship recorded; consents are
`Consent`s; health, circumstances and education are `Observation`s (allergies an
`AllergyIntolerance`; education's carry the category `education` of IEYS_SYSTEM's
data categories beside FHIR's `social-history`), contacts `Encounter`s, safeguarding
records `Flag`s and documents `DocumentReference`s (their content by its URL). An access
package's statements (Art 15(1) and (2): rights, complaint, sources, automated
decision-making, transfers) are a `Composition`, one section each, its narrative
rendered from the package's `statements`, the same object the JSON package carries.
Ethnicity is the UK Core ethnic category extension on the Patient. Codes outside FHIR's
own systems are the service's (IEYS_SYSTEM).

Pure: the package in, the bundle out as plain JSON. `validated` checks it with the
`fhir.resources` models before it leaves (FHIR R4B, which is R4 for these resources).
"""

from collections.abc import Iterable
from html import escape
from typing import Any, Final
from uuid import NAMESPACE_URL, UUID, uuid5

from app.rights.schemas import HeldRecord, Statements, SubjectPackage

IEYS_SYSTEM: Final = "https://ieys.camden.gov.uk/fhir/CodeSystem"
NHS_NUMBER: Final = "https://fhir.nhs.uk/Id/nhs-number"
UPN: Final = "https://ieys.camden.gov.uk/fhir/Id/unique-pupil-number"
ETHNIC_CATEGORY_EXTENSION: Final = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
)
ETHNIC_CATEGORY_SYSTEM: Final = "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland"
ROLE_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
ACT_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION: Final = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_CATEGORY: Final = f"{IEYS_SYSTEM}/data-category"
UCUM: Final = "http://unitsofmeasure.org"
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


def _ref(resource_id: UUID | str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource_id}"}


def _derived_id(*parts: object) -> str:
    """A stable id for a resource the service holds as a field, not a row."""
    return str(uuid5(NAMESPACE_URL, "ieys:" + ":".join(str(p) for p in parts)))


def _instant(value: Any) -> str:
    return str(value.isoformat())


def _patient(record: HeldRecord, person_id: UUID) -> dict[str, Any]:
    patient: dict[str, Any] = {"resourceType": "Patient", "id": str(person_id)}
    person = record.person
    if person is not None:
        identifiers = []
        if person.nhs_number:
            identifiers.append({"system": NHS_NUMBER, "value": person.nhs_number})
        if person.upn:
            identifiers.append({"system": UPN, "value": person.upn})
        if identifiers:
            patient["identifier"] = identifiers
        if person.given_name or person.family_name:
            name: dict[str, Any] = {"use": "official"}
            if person.family_name:
                name["family"] = person.family_name
            if person.given_name:
                name["given"] = [person.given_name]
            patient["name"] = [name]
        if person.sex:
            patient["gender"] = _GENDER[person.sex.value]
        if person.date_of_birth:
            patient["birthDate"] = person.date_of_birth.isoformat()
        telecom = []
        if person.phone:
            telecom.append({"system": "phone", "value": person.phone})
        if person.email:
            telecom.append({"system": "email", "value": person.email})
        if telecom:
            patient["telecom"] = telecom
        if person.address:
            lines = [line for line in (person.address.line1, person.address.line2) if line]
            patient["address"] = [
                {"line": lines, "city": "London", "postalCode": person.address.postcode}
            ]
    special = record.special_category
    if special is not None and special.ethnicity is not None:
        patient["extension"] = [
            {
                "url": ETHNIC_CATEGORY_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [{"system": ETHNIC_CATEGORY_SYSTEM, "code": special.ethnicity.value}]
                },
            }
        ]
    return patient


def _related_person(carer_id: UUID, child_id: UUID, carer: HeldRecord | None) -> dict[str, Any]:
    related: dict[str, Any] = {
        "resourceType": "RelatedPerson",
        "id": _derived_id("related", carer_id, child_id),
        "identifier": [{"system": f"{IEYS_SYSTEM}/person", "value": str(carer_id)}],
        "patient": _ref(child_id),
        "relationship": [
            {
                "coding": [
                    {"system": ROLE_CODE, "code": "PRN", "display": "parent"},
                ],
                "text": "carer with parental responsibility",
            }
        ],
    }
    if carer is not None and carer.person is not None:
        person = carer.person
        if person.family_name or person.given_name:
            name: dict[str, Any] = {}
            if person.family_name:
                name["family"] = person.family_name
            if person.given_name:
                name["given"] = [person.given_name]
            related["name"] = [name]
    return related


def _observation(
    subject_id: UUID, key: str, text: str, value: str, category: str
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": _derived_id("observation", subject_id, key),
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": category}]}],
        "code": {"coding": [{"system": f"{IEYS_SYSTEM}/field", "code": key}], "text": text},
        "subject": _ref(subject_id),
        "valueString": value,
    }


def _health(record: HeldRecord, subject_id: UUID) -> list[dict[str, Any]]:
    special = record.special_category
    if special is None or special.health is None:
        return []
    out = []
    health = special.health
    for key, text in _HEALTH_TEXT.items():
        value = getattr(health, key)
        if value:
            out.append(_observation(subject_id, key, text, value, "survey"))
    if health.allergies:
        out.append(
            {
                "resourceType": "AllergyIntolerance",
                "id": _derived_id("allergy", subject_id),
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/"
                            "allergyintolerance-clinical",
                            "code": "active",
                        }
                    ]
                },
                "code": {"text": health.allergies},
                "patient": _ref(subject_id),
            }
        )
    return out


def _circumstances(record: HeldRecord, subject_id: UUID) -> list[dict[str, Any]]:
    if record.circumstances is None:
        return []
    return [
        _observation(subject_id, key, text, value, "social-history")
        for key, text in _CIRCUMSTANCES_TEXT.items()
        if (value := getattr(record.circumstances, key))
    ]


def _education_observation(subject_id: UUID, key: str, text: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": _derived_id("education", subject_id, key),
        "status": "final",
        "category": _EDUCATION_CATEGORY,
        "code": {"coding": [{"system": f"{IEYS_SYSTEM}/education", "code": key}], "text": text},
        "subject": _ref(subject_id),
    }


def _education(record: HeldRecord, subject_id: UUID) -> list[dict[str, Any]]:
    education = record.education
    if education is None:
        return []
    out = []
    if education.attendance_percent is not None:
        observation = _education_observation(subject_id, "attendance_percent", "Attendance")
        observation["valueQuantity"] = {
            "value": education.attendance_percent,
            "unit": "%",
            "system": UCUM,
            "code": "%",
        }
        out.append(observation)
    for key, text, value in (
        ("behaviour", "Behaviour", education.behaviour),
        ("attainment", "Attainment against the EYFS expected level", education.attainment),
    ):
        if value is not None:
            observation = _education_observation(subject_id, key, text)
            observation["valueCodeableConcept"] = {
                "coding": [{"system": f"{IEYS_SYSTEM}/education-{key}", "code": value.value}]
            }
            out.append(observation)
    for index, exclusion in enumerate(education.exclusions or []):
        observation = _education_observation(subject_id, f"exclusion:{index}", "Exclusion")
        period = {"start": exclusion.from_.isoformat()}
        if exclusion.to is not None:
            period["end"] = exclusion.to.isoformat()
        observation["effectivePeriod"] = period
        observation["valueString"] = exclusion.reason
        out.append(observation)
    return out


def _relationships(record: HeldRecord, subject_id: UUID) -> list[dict[str, Any]]:
    out = []
    for relationship in record.relationships:
        code = _RELATIONSHIP_CODE.get(relationship.kind.value)
        coding = [{"system": f"{IEYS_SYSTEM}/relationship-kind", "code": relationship.kind}]
        if code is not None:
            coding.insert(0, {"system": ROLE_CODE, "code": code[0], "display": code[1]})
        related: dict[str, Any] = {
            "resourceType": "RelatedPerson",
            "id": str(relationship.id),
            "patient": _ref(subject_id),
            "relationship": [{"coding": coding, "text": relationship.kind.value.replace("_", " ")}],
        }
        if relationship.to_person_id is not None:
            related["identifier"] = [
                {"system": f"{IEYS_SYSTEM}/person", "value": str(relationship.to_person_id)}
            ]
        out.append(related)
    return out


def _documents(record: HeldRecord, subject_id: UUID) -> list[dict[str, Any]]:
    return [
        {
            "resourceType": "DocumentReference",
            "id": str(document.id),
            "status": "current",
            "type": {"coding": [{"system": f"{IEYS_SYSTEM}/document-kind", "code": document.kind}]},
            "category": [{"coding": [{"system": DATA_CATEGORY, "code": document.category}]}],
            "subject": _ref(subject_id),
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
        for document in record.documents
    ]


def _encounters(record: HeldRecord, subject_id: UUID) -> list[dict[str, Any]]:
    out = []
    for contact in record.contacts:
        if contact.id is None or contact.kind is None:
            continue
        code, display = _ENCOUNTER_CLASS.get(contact.kind.value, _AMBULATORY)
        encounter: dict[str, Any] = {
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
            "subject": _ref(subject_id),
        }
        if contact.occurred_at is not None:
            encounter["period"] = {"start": _instant(contact.occurred_at)}
        if contact.service:
            encounter["serviceType"] = {"text": contact.service}
        out.append(encounter)
        if contact.review is not None and contact.outcome is not None:
            out.append(
                _observation(
                    subject_id,
                    f"review:{contact.id}",
                    f"Development review {contact.review.value}",
                    contact.outcome.value,
                    "exam",
                )
            )
    return out


def _flags(record: HeldRecord, subject_id: UUID) -> list[dict[str, Any]]:
    out = []
    for item in record.safeguarding:
        if item.id is None or item.kind is None:
            continue
        flag: dict[str, Any] = {
            "resourceType": "Flag",
            "id": str(item.id),
            "status": "active" if item.end_date is None else "inactive",
            "code": {
                "coding": [{"system": f"{IEYS_SYSTEM}/safeguarding-kind", "code": item.kind}],
                "text": item.summary or item.kind.value,
            },
            "subject": _ref(subject_id),
        }
        if item.start_date is not None:
            period = {"start": item.start_date.isoformat()}
            if item.end_date is not None:
                period["end"] = item.end_date.isoformat()
            flag["period"] = period
        out.append(flag)
    return out


def _consents(
    record: HeldRecord, subject_id: UUID, performers: dict[UUID, str]
) -> list[dict[str, Any]]:
    out = []
    for consent in record.consents:
        if consent.id is None or consent.type is None:
            continue
        provision: dict[str, Any] = {"type": "permit"}
        if consent.given_at is not None:
            period = {"start": _instant(consent.given_at)}
            if consent.withdrawn_at is not None:
                period["end"] = _instant(consent.withdrawn_at)
            provision["period"] = period
        if consent.categories:
            provision["class"] = [
                {"system": f"{IEYS_SYSTEM}/data-category", "code": c.value}
                for c in consent.categories
            ]
        if consent.recipient:
            provision["actor"] = [
                {
                    "role": {"coding": [{"system": PARTICIPATION, "code": "IRCP"}]},
                    "reference": {"display": consent.recipient},
                }
            ]
        resource: dict[str, Any] = {
            "resourceType": "Consent",
            "id": str(consent.id),
            "status": "active" if consent.withdrawn_at is None else "inactive",
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
                {"coding": [{"system": f"{IEYS_SYSTEM}/consent-type", "code": consent.type}]},
            ],
            "patient": _ref(subject_id),
            "policyRule": {"coding": [{"system": ACT_CODE, "code": "OPTIN"}]},
            "provision": provision,
        }
        if consent.given_at is not None:
            resource["dateTime"] = _instant(consent.given_at)
        if consent.given_by_id is not None and consent.given_by_id in performers:
            resource["performer"] = [{"reference": performers[consent.given_by_id]}]
        else:
            resource["performer"] = [{"display": "a carer with parental responsibility"}]
        out.append(resource)
    return out


XHTML: Final = "http://www.w3.org/1999/xhtml"


def _div(*parts: str) -> dict[str, str]:
    return {"status": "generated", "div": f'<div xmlns="{XHTML}">{"".join(parts)}</div>'}


def _p(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def _ul(items: Iterable[str]) -> str:
    listed = "".join(f"<li>{escape(item)}</li>" for item in items)
    return f"<ul>{listed}</ul>" if listed else ""


def _section(code: str, title: str, *parts: str) -> dict[str, Any]:
    return {
        "title": title,
        "code": {"coding": [{"system": f"{IEYS_SYSTEM}/access-statement", "code": code}]},
        "text": _div(*parts),
    }


def _composition(package: SubjectPackage, statements: Statements) -> dict[str, Any]:
    """The statements as a Composition: one section each, rendered from `statements`."""
    complaint = statements.complaint
    sources = statements.sources
    transfers = statements.transfers
    return {
        "resourceType": "Composition",
        "id": _derived_id("statements", package.request_id),
        "status": "final",
        "type": {
            "coding": [{"system": f"{IEYS_SYSTEM}/composition-type", "code": "access-statements"}],
            "text": "What UK GDPR Article 15(1) and (2) require beside the data",
        },
        "subject": _ref(package.subject_id),
        "date": _instant(package.generated_at),
        "author": [{"display": statements.controller}],
        "title": "Your rights, and where your data came from and went",
        "section": [
            _section(
                "rights",
                "Your rights",
                _p(statements.rights_notice),
                _ul(f"{r.article}: {r.statement}" for r in statements.rights),
                _p(statements.how_to_exercise),
            ),
            _section(
                "complaint",
                "The right to complain",
                _p(complaint.notice),
                _ul(
                    (
                        complaint.authority,
                        complaint.website,
                        complaint.telephone,
                        complaint.email,
                        complaint.address,
                    )
                ),
            ),
            _section(
                "sources",
                "Where data not collected from you came from",
                _p(sources.notice),
                _ul((*sources.safeguarding, *sources.documents)),
            ),
            _section(
                "automated-decision-making",
                "Automated decision-making",
                _p(statements.automated_decision_making.notice),
            ),
            _section(
                "transfers",
                "Transfers outside the UK",
                _p(transfers.statement),
                _ul(f"{t.name} ({t.country}): {t.safeguard}" for t in transfers.recipients),
            ),
        ],
    }


def bundle(package: SubjectPackage, requester_id: UUID) -> dict[str, Any]:
    """The package as a FHIR R4 collection Bundle (plain JSON)."""
    resources: list[dict[str, Any]] = []
    subject_record = next((r for r in package.people if r.relationship == "subject"), None)
    ids: dict[int, UUID] = {}
    for index, record in enumerate(package.people):
        person_id = record.person.id if record.person and record.person.id else None
        ids[index] = person_id or (
            package.subject_id if record.relationship == "subject" else UUID(_derived_id(index))
        )
    if package.statements is not None:
        resources.append(_composition(package, package.statements))
    performers: dict[UUID, str] = {package.subject_id: f"urn:uuid:{package.subject_id}"}
    for index, record in enumerate(package.people):
        person_id = ids[index]
        resources.append(_patient(record, person_id))
        if record.relationship == "child" and subject_record is not None:
            # The subject is the child's carer: beside the child, a RelatedPerson.
            related = _related_person(package.subject_id, person_id, subject_record)
            resources.append(related)
        elif record.relationship == "subject" and requester_id != package.subject_id:
            related = _related_person(requester_id, person_id, None)
            performers[requester_id] = f"urn:uuid:{related['id']}"
            resources.append(related)
    for index, record in enumerate(package.people):
        person_id = ids[index]
        resources.extend(_consents(record, person_id, performers))
        resources.extend(_health(record, person_id))
        resources.extend(_circumstances(record, person_id))
        resources.extend(_education(record, person_id))
        resources.extend(_relationships(record, person_id))
        resources.extend(_documents(record, person_id))
        resources.extend(_encounters(record, person_id))
        resources.extend(_flags(record, person_id))
    return {
        "resourceType": "Bundle",
        "id": str(package.request_id),
        "type": "collection",
        "timestamp": _instant(package.generated_at),
        "entry": [
            {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
            for resource in resources
        ],
    }


def validated(document: dict[str, Any]) -> dict[str, Any]:
    """The bundle, checked against the FHIR models (raises on anything invalid)."""
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(document)
    return document
