"""The FHIR bodies in the OpenAPI document: JSON Schemas for the components.

FHIR's own definitions are the reference (each resource validates with `fhir.resources`
in the tests); these say what this service puts in them, and each element's data
category (`x-category`), so a schema-driven client knows what it may receive.
"""

from typing import Any, Final

from app.platform.categories import CATEGORY_KEY

_OBJECT: Final = {"type": "object"}
_ARRAY: Final = {"type": "array", "items": {"type": "object"}}
_STRING: Final = {"type": "string"}


def _resource(
    name: str, description: str, elements: dict[str, tuple[dict[str, Any], str]], **extra: Any
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "resourceType": {"type": "string", "enum": [name], CATEGORY_KEY: extra.pop("main")},
    }
    for element, (schema, category) in elements.items():
        properties[element] = {**schema, CATEGORY_KEY: category}
    return {
        "type": "object",
        "description": description,
        "required": ["resourceType", *extra.pop("required", ["id"])],
        "properties": properties,
        "additionalProperties": True,
    }


def _meta(category: str) -> tuple[dict[str, Any], str]:
    return (
        {
            "type": "object",
            "description": "`profile`: the UK Core profile; `security`: REDACTED where "
            "categories were withheld; `versionId` on a read.",
        },
        category,
    )


SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "FhirPatient": _resource(
        "Patient",
        "UKCore-Patient: a child, carer or household member.",
        {
            "id": (_STRING, "identity"),
            "meta": _meta("identity"),
            "identifier": (_ARRAY, "identity"),
            "name": (_ARRAY, "identity"),
            "gender": (_STRING, "identity"),
            "birthDate": (_STRING, "identity"),
            "telecom": (_ARRAY, "contact"),
            "address": (_ARRAY, "contact"),
            "extension": (_ARRAY, "ethnicity"),
        },
        main="identity",
    ),
    "FhirRelatedPerson": _resource(
        "RelatedPerson",
        "UKCore-RelatedPerson: a carer with parental responsibility, beside a child.",
        {
            "id": (_STRING, "identity"),
            "meta": _meta("identity"),
            "identifier": (_ARRAY, "identity"),
            "patient": (_OBJECT, "identity"),
            "name": (_ARRAY, "identity"),
            "telecom": (_ARRAY, "contact"),
            "address": (_ARRAY, "contact"),
            "relationship": (_ARRAY, "household"),
        },
        main="identity",
    ),
    "FhirEncounter": _resource(
        "Encounter",
        "UKCore-Encounter: a contact (never its notes).",
        {
            "id": (_STRING, "services"),
            "meta": _meta("services"),
            "status": (_STRING, "services"),
            "class": (_OBJECT, "services"),
            "type": (_ARRAY, "services"),
            "subject": (_OBJECT, "services"),
            "period": (_OBJECT, "services"),
            "serviceType": (_OBJECT, "services"),
            "serviceProvider": (_OBJECT, "services"),
        },
        main="services",
    ),
    "FhirObservation": _resource(
        "Observation",
        "UKCore-Observation: a development review's outcome, linked to its Encounter.",
        {
            "id": (_STRING, "health"),
            "meta": _meta("health"),
            "status": (_STRING, "health"),
            "category": (_ARRAY, "health"),
            "code": (_OBJECT, "health"),
            "subject": (_OBJECT, "health"),
            "encounter": (_OBJECT, "health"),
            "effectiveDateTime": (_STRING, "health"),
            "valueCodeableConcept": (_OBJECT, "health"),
        },
        main="health",
    ),
    "FhirConsent": _resource(
        "Consent",
        "A consent record (base R4: UK Core has no Consent profile).",
        {
            "id": (_STRING, "services"),
            "meta": _meta("services"),
            "status": (_STRING, "services"),
            "scope": (_OBJECT, "services"),
            "category": (_ARRAY, "services"),
            "patient": (_OBJECT, "services"),
            "dateTime": (_STRING, "services"),
            "performer": (_ARRAY, "identity"),
            "policyRule": (_OBJECT, "services"),
            "provision": (_OBJECT, "services"),
        },
        main="services",
    ),
    "FhirFlag": _resource(
        "Flag",
        "UKCore-Flag: an active child protection plan or looked-after status.",
        {
            "id": (_STRING, "safeguarding"),
            "meta": _meta("safeguarding"),
            "status": (_STRING, "safeguarding"),
            "category": (_ARRAY, "safeguarding"),
            "code": (_OBJECT, "safeguarding"),
            "subject": (_OBJECT, "safeguarding"),
            "period": (_OBJECT, "safeguarding"),
        },
        main="safeguarding",
    ),
}
"""The resources the facade returns, each element tagged with its category."""

RESOURCE_REFS: Final = [{"$ref": f"#/components/schemas/{name}"} for name in SCHEMAS]

ENVELOPES: Final[dict[str, dict[str, Any]]] = {
    "FhirBundle": {
        "type": "object",
        "description": "A `searchset` Bundle: `total` matches, `link` `self` and (when "
        "there are more) `next`, and this page's entries.",
        "required": ["resourceType", "type", "total", "link", "entry"],
        "properties": {
            "resourceType": {"type": "string", "enum": ["Bundle"]},
            "type": {"type": "string", "enum": ["searchset"]},
            "total": {"type": "integer", "minimum": 0},
            "link": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["relation", "url"],
                    "properties": {
                        "relation": {"type": "string", "enum": ["self", "next"]},
                        "url": {"type": "string"},
                    },
                },
            },
            "entry": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["fullUrl", "resource", "search"],
                    "properties": {
                        "fullUrl": {"type": "string"},
                        "resource": {"oneOf": RESOURCE_REFS},
                        "search": {"type": "object"},
                    },
                },
            },
        },
        "additionalProperties": True,
    },
    "FhirCapabilityStatement": {
        "type": "object",
        "description": "What the server supports: resources, interactions, search parameters.",
        "required": ["resourceType", "status", "kind", "fhirVersion", "format", "rest"],
        "properties": {
            "resourceType": {"type": "string", "enum": ["CapabilityStatement"]},
            "status": {"type": "string"},
            "kind": {"type": "string"},
            "fhirVersion": {"type": "string"},
            "format": {"type": "array", "items": {"type": "string"}},
            "rest": {"type": "array", "items": {"type": "object"}},
        },
        "additionalProperties": True,
    },
    "OperationOutcome": {
        "type": "object",
        "description": "A refusal: the FHIR issue type, the service's problem code (for a "
        "denial, the decision's `reason`) in `details`, the text in `diagnostics`, the "
        "decision's id in an extension. Names a field at fault, never a value.",
        "required": ["resourceType", "issue"],
        "properties": {
            "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
            "issue": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["severity", "code"],
                    "properties": {
                        "severity": {"type": "string", "enum": ["error"]},
                        "code": {"type": "string"},
                        "details": {"type": "object"},
                        "diagnostics": {"type": "string"},
                    },
                },
            },
            "extension": {"type": "array", "items": {"type": "object"}},
        },
        "additionalProperties": True,
    },
}
"""Bodies that are no one's data of themselves: the envelope, the server, a refusal."""
