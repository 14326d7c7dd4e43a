"""A package as a FHIR R4 `Bundle` (type `collection`), for portability (Art 20).

Each person is a `Patient`; a carer with parental responsibility appears beside each
child as a `RelatedPerson`, and so does each family relationship recorded; consents are
`Consent`s; health, circumstances and education are `Observation`s (allergies an
`AllergyIntolerance`; education's carry the category `education` of the service's data
categories beside FHIR's `social-history`), contacts `Encounter`s (a development
review's outcome an `Observation` linked to it), safeguarding records `Flag`s and
documents `DocumentReference`s (their content by its URL). Every resource is mapped by
`app.fhir.resources`, the same code the `/fhir/R4` facade answers with, so the two never
disagree; inside the bundle resources point at each other by `urn:uuid:`. An access
package's statements (Art 15(1) and (2): rights, complaint, sources, automated
decision-making, transfers) are a `Composition`, one section each, its narrative
rendered from the package's `statements`, the same object the JSON package carries.

Pure: the package in, the bundle out as plain JSON. `validated` checks it with the
`fhir.resources` models before it leaves (FHIR R4B, which is R4 for these resources).
"""

from collections.abc import Iterable
from html import escape
from typing import Any, Final
from uuid import UUID

from app.fhir import resources as fhir
from app.rights.schemas import Statements, SubjectPackage

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
        "code": {"coding": [{"system": f"{fhir.IEYS_SYSTEM}/access-statement", "code": code}]},
        "text": _div(*parts),
    }


def _composition(package: SubjectPackage, statements: Statements) -> dict[str, Any]:
    """The statements as a Composition: one section each, rendered from `statements`."""
    complaint = statements.complaint
    sources = statements.sources
    transfers = statements.transfers
    return {
        "resourceType": "Composition",
        "id": fhir.derived_id("statements", package.request_id),
        "status": "final",
        "type": {
            "coding": [
                {"system": f"{fhir.IEYS_SYSTEM}/composition-type", "code": "access-statements"}
            ],
            "text": "What UK GDPR Article 15(1) and (2) require beside the data",
        },
        "subject": fhir.urn("Patient", package.subject_id),
        "date": package.generated_at.isoformat(),
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
    ref = fhir.urn
    out: list[dict[str, Any]] = []
    subject_record = next((r for r in package.people if r.relationship == "subject"), None)
    ids: dict[int, UUID] = {}
    for index, record in enumerate(package.people):
        person_id = record.person.id if record.person and record.person.id else None
        ids[index] = person_id or (
            package.subject_id if record.relationship == "subject" else UUID(fhir.derived_id(index))
        )
    if package.statements is not None:
        out.append(_composition(package, package.statements))
    performers: dict[UUID, dict[str, str]] = {
        package.subject_id: ref("Patient", package.subject_id)
    }
    for index, record in enumerate(package.people):
        person_id = ids[index]
        special = record.special_category
        ethnicity = special.ethnicity if special is not None else None
        out.append(fhir.patient(record.person, person_id, ethnicity))
        if record.relationship == "child" and subject_record is not None:
            # The subject is the child's carer: beside the child, a RelatedPerson.
            out.append(
                fhir.related_person(
                    package.subject_id, person_id, subject_record.person, ref, relationship=True
                )
            )
        elif record.relationship == "subject" and requester_id != package.subject_id:
            related = fhir.related_person(requester_id, person_id, None, ref, relationship=True)
            performers[requester_id] = ref("RelatedPerson", related["id"])
            out.append(related)
    for index, record in enumerate(package.people):
        person_id = ids[index]
        out.extend(fhir.consents(record, person_id, ref, performers))
        out.extend(fhir.health(record, person_id, ref))
        out.extend(fhir.circumstances(record, person_id, ref))
        out.extend(fhir.education(record, person_id, ref))
        out.extend(fhir.relationships(record, person_id, ref))
        out.extend(fhir.documents(record, person_id, ref))
        out.extend(fhir.encounters(record, person_id, ref))
        out.extend(fhir.flags(record, person_id, ref))
    return {
        "resourceType": "Bundle",
        "id": str(package.request_id),
        "type": "collection",
        "timestamp": package.generated_at.isoformat(),
        "entry": [
            {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource} for resource in out
        ],
    }


def validated(document: dict[str, Any]) -> dict[str, Any]:
    """The bundle, checked against the FHIR models (raises on anything invalid)."""
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(document)
    return document
