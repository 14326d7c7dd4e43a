"""The record of processing activities (UK GDPR Art 30) and the appropriate policy
document (DPA 2018 Sch 1 Part 4), rendered from the rule tables that decide.

Pure: no I/O. The purposes, categories, roles, bases and Schedule 1 conditions come
from app.policy.rules, read when the record is made, so the published record is always
what the engine enforces (a test changes a table and sees both change). What the tables
do not hold (the controller, the organisations, the recipients outside the service and
the retention periods) is passed in as data by the caller, from the same reference data
and retention rules the service runs on.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from app.policy import rules
from app.policy.rules import JsonValue, PurposeBases
from app.policy.vocabulary import (
    ART9_CATEGORIES,
    SPECIAL_CATEGORIES,
    Category,
    ConsentType,
    Purpose,
    Role,
)

SCHEDULE1_PART2: Final = range(6, 29)
"""DPA 2018 Sch 1 Part 2 (substantial public interest, paragraphs 6 to 28): relying on
one needs an appropriate policy document (Sch 1 para 5), as does para 1 of Part 1."""
SCHEDULE1_NEEDS_POLICY: Final = frozenset({1, *SCHEDULE1_PART2})


@dataclass(frozen=True, slots=True)
class Controller:
    name: str
    service: str
    address: str
    telephone: str
    dpo_name: str
    dpo_email: str
    dpo_address: str
    complaints: str


@dataclass(frozen=True, slots=True)
class Organisation:
    code: str
    name: str
    roles: frozenset[Role]


@dataclass(frozen=True, slots=True)
class Recipient:
    code: str
    name: str
    consent_type: ConsentType | None
    purpose: str


@dataclass(frozen=True, slots=True)
class RetentionRule:
    records: str
    kept_until: str


# The privacy notice's own words for each purpose (DOMAIN.md, "Purposes").
PURPOSE_DESCRIPTIONS: Final[dict[Purpose, str]] = {
    Purpose.SERVICE_INVITATION: "Invite families to services right for the child's age and "
    "stage of development, local to home.",
    Purpose.TAKE_UP_MONITORING: "Monitor the take-up of services and that they meet the needs "
    "of local families.",
    Purpose.IMPACT_EVALUATION: "Evaluate the impact of specific activities on improving "
    "outcomes for children.",
    Purpose.NEEDS_ASSESSMENT: "Make sure the service meets the needs of families who may need "
    "additional help.",
    Purpose.EARLY_HELP: "Assess a family's need for early help and record the ongoing "
    "relationship through home visits and centre contacts.",
    Purpose.HEALTH_CARE: "Provide health visiting, CAMHS and speech and language care.",
    Purpose.NURSERY_CARE: "Keep children in the council's maintained nurseries safe and meet "
    "their needs.",
    Purpose.SAFEGUARDING: "Act where a child may be at risk of harm.",
    Purpose.SUBJECT_RIGHTS: "Answer a data subject's request under UK GDPR Articles 15 to 22.",
    Purpose.LEGAL_CLAIMS: "Establish, exercise or defend legal claims.",
}

DATA_SUBJECTS: Final = (
    "Children under five (and, where a family worker supported the family, up to 25)",
    "Their parents and carers",
    "Other members of their households",
)
NURSERY_SUBJECTS: Final = ("Children attending the caller's maintained nursery",)
"""Decision step 3: a nursery practitioner reaches no one else."""

SECURITY_MEASURES: Final = (
    "Every request carries a verified bearer token naming the caller's role and "
    "organisation; a role must belong to its organisation.",
    "Every request that touches personal data declares its purpose and is decided by one "
    "function from the rule tables published here; a response carries only the categories "
    "the decision allowed.",
    "Every ethnicity, health and safeguarding field and every contact note is encrypted "
    "(AES-256-GCM) under its household's own key, wrapped by a service key; destroying a "
    "household's key makes every copy unreadable.",
    "Every decision, allowed or denied, is written to an append-only audit trail sealed into "
    "a hash chain that detects an altered, removed or reordered event.",
    "Aggregates leave only after statistical disclosure control.",
)


def _condition(bases: PurposeBases) -> dict[str, JsonValue]:
    art9: dict[str, JsonValue] = {}
    for category in Category:
        if category in bases.art9:
            condition = bases.art9[category]
            art9[category.value] = {
                "code": condition.basis.value,
                "schedule1_paragraph": condition.schedule1_paragraph,
            }
    return {"art6": bases.art6.basis.value, "art9": art9}


def _paragraphs(purpose: Purpose) -> list[int]:
    tables = [rules.PURPOSE_BASES[purpose]]
    if purpose in rules.CP_PLAN_BASES:
        tables.append(rules.CP_PLAN_BASES[purpose])
    if purpose in rules.CONSENT_PURPOSES:
        tables.append(rules.CONSENT_BASES)
    found = {
        condition.schedule1_paragraph
        for bases in tables
        for category, condition in bases.art9.items()
        if category in rules.PURPOSE_CATEGORIES[purpose]
        and condition.schedule1_paragraph is not None
    }
    return sorted(found)


def _recipients(purpose: Purpose, recipients: Sequence[Recipient]) -> list[JsonValue]:
    """Who outside the service the purpose may share with, and on what footing.

    Aggregate-only purposes share nothing; a purpose that shares without consent reaches
    every recipient; any other row-level purpose reaches a recipient only on a consent of
    the type the recipient names.
    """
    if purpose in rules.AGGREGATE_ONLY_PURPOSES:
        return []
    found: list[JsonValue] = []
    for recipient in recipients:
        if purpose in rules.SHARE_WITHOUT_CONSENT_PURPOSES:
            footing = "without consent, with a written justification"
        elif recipient.consent_type is not None:
            footing = f"with an active {recipient.consent_type.value} consent"
        else:
            continue
        found.append({"recipient": recipient.code, "name": recipient.name, "footing": footing})
    return found


def _activity(
    purpose: Purpose,
    organisations: Sequence[Organisation],
    recipients: Sequence[Recipient],
    retention: Sequence[RetentionRule],
) -> dict[str, JsonValue]:
    categories = rules.PURPOSE_CATEGORIES[purpose]
    roles = [role for role in Role if purpose in rules.ROLE_PURPOSES[role]]
    consent = rules.CONSENT_PURPOSES.get(purpose)
    cp_bases = rules.CP_PLAN_BASES.get(purpose)
    nursery_only = roles == [Role.NURSERY_PRACTITIONER]
    return {
        "purpose": purpose.value,
        "description": PURPOSE_DESCRIPTIONS[purpose],
        "data_subjects": list(NURSERY_SUBJECTS if nursery_only else DATA_SUBJECTS),
        "categories": [c.value for c in Category if c in categories],
        "special_categories": [c.value for c in Category if c in categories & ART9_CATEGORIES],
        "aggregate_only": purpose in rules.AGGREGATE_ONLY_PURPOSES,
        "lawful_basis": _condition(rules.PURPOSE_BASES[purpose]),
        "consent_type": consent.value if consent else None,
        "lawful_basis_with_child_protection_plan": _condition(cp_bases) if cp_bases else None,
        "schedule1_paragraphs": list(_paragraphs(purpose)),
        "roles": [role.value for role in roles],
        "organisations": [
            {"code": org.code, "name": org.name}
            for org in organisations
            if any(role in org.roles for role in roles)
        ],
        "recipients_outside_the_service": _recipients(purpose, recipients),
        "gateways": [g.name for g in rules.LEGAL_GATEWAYS if purpose in g.purposes],
        "stopped_by_restriction": purpose not in rules.RESTRICTION_EXEMPT,
        "stopped_by_objection": purpose in rules.OBJECTION_STOPS,
        "justification_required": purpose in rules.JUSTIFICATION_PURPOSES,
        "reviewed_by_the_data_protection_officer": purpose in rules.REVIEW_PURPOSES,
        "retention": [{"records": r.records, "kept_until": r.kept_until} for r in retention],
    }


def _principles(retention: Sequence[RetentionRule]) -> list[JsonValue]:
    purposes_of = {
        role: ", ".join(p.value for p in Purpose if p in rules.ROLE_PURPOSES[role]) for role in Role
    }
    aggregate = ", ".join(p.value for p in Purpose if p in rules.AGGREGATE_ONLY_PURPOSES)
    return [
        {
            "principle": "Lawfulness, fairness and transparency (Art 5(1)(a))",
            "how": "Every request declares its purpose; one function decides it from the bases "
            "above and names them in X-Lawful-Basis; the privacy notice tells families each "
            "purpose and basis.",
        },
        {
            "principle": "Purpose limitation (Art 5(1)(b))",
            "how": "A role may declare only its purposes: "
            + "; ".join(f"{role.value}: {purposes_of[role]}" for role in Role)
            + ". An endpoint serves only the purposes it is for.",
        },
        {
            "principle": "Data minimisation (Art 5(1)(c))",
            "how": "Each purpose reaches only its categories (above); a read returns only the "
            f"categories allowed and names the rest as withheld; {aggregate} produce counts "
            "only, after disclosure control.",
        },
        {
            "principle": "Accuracy (Art 5(1)(d))",
            "how": "NHS numbers, unique pupil numbers, postcodes and ethnic category codes are "
            "validated on entry; identity and contact data can be rectified (Art 16), guarded "
            "against lost updates.",
        },
        {
            "principle": "Storage limitation (Art 5(1)(e))",
            "how": "Kept only as long as the retention rules allow: "
            + "; ".join(f"{r.records}: {r.kept_until}" for r in retention)
            + ". A record past its date is refused to everyone but the data protection "
            "officer, then destroyed.",
        },
        {
            "principle": "Integrity and confidentiality (Art 5(1)(f))",
            "how": " ".join(SECURITY_MEASURES),
        },
        {
            "principle": "Accountability (Art 5(2))",
            "how": "Every decision, allowed or denied, is audited with its reason and bases; "
            "safeguarding overrides are reviewed by the data protection officer; this record "
            "is generated from the rule tables that decide.",
        },
    ]


def _policy_document(
    retention: Sequence[RetentionRule],
) -> dict[str, JsonValue]:
    conditions: list[JsonValue] = []
    for paragraph, text in sorted(rules.SCHEDULE1_TEXT.items()):
        if paragraph not in SCHEDULE1_NEEDS_POLICY:
            continue
        relying = [p for p in Purpose if paragraph in _paragraphs(p)]
        if not relying:
            continue
        conditions.append(
            {
                "schedule1_paragraph": paragraph,
                "text": text,
                "purposes": [p.value for p in relying],
                "categories": [
                    c.value
                    for c in Category
                    if c in ART9_CATEGORIES
                    and any(c in rules.PURPOSE_CATEGORIES[p] for p in relying)
                ],
            }
        )
    return {
        "conditions": conditions,
        "principles": _principles(retention),
        "retention_and_erasure": {
            "retention": [{"records": r.records, "kept_until": r.kept_until} for r in retention],
            "erasure": "Destruction is real deletion: the household's key for its encrypted "
            "fields is destroyed with it, and a destruction log records an opaque id, the rule "
            "applied and the date, never a name. A legal hold set by the data protection "
            "officer pauses destruction. Data held on consent is erased on request; data held "
            "for a legal duty or public task may be kept (Art 17(3)(b)), the officer deciding "
            "with a recorded reason. Health records also live on NHS systems.",
        },
    }


def records_of_processing(
    *,
    controller: Controller,
    organisations: Sequence[Organisation],
    recipients: Sequence[Recipient],
    retention: Sequence[RetentionRule],
) -> dict[str, JsonValue]:
    """The Art 30(1) record and the appropriate policy document, as JSON-ready data."""
    return {
        "controller": {
            "name": controller.name,
            "service": controller.service,
            "address": controller.address,
            "telephone": controller.telephone,
            "data_protection_officer": {
                "name": controller.dpo_name,
                "email": controller.dpo_email,
                "address": controller.dpo_address,
            },
            "complaints": controller.complaints,
        },
        "organisations": [
            {
                "code": org.code,
                "name": org.name,
                "roles": [role.value for role in Role if role in org.roles],
            }
            for org in organisations
        ],
        "processing_activities": [
            _activity(purpose, organisations, recipients, retention) for purpose in Purpose
        ],
        "special_categories": [c.value for c in Category if c in SPECIAL_CATEGORIES],
        "transfers_outside_the_uk": "The recipients' reference data names no country outside "
        "the UK, and the service makes no transfer of its own. A share outside the service is "
        "a decision of its own, recorded as a disclosure; a recipient abroad (IPINFA may be) "
        "needs its country and the Chapter V safeguard added to its reference data, and so "
        "to this record.",
        "security_measures": list(SECURITY_MEASURES),
        "appropriate_policy_document": _policy_document(retention),
    }


# --- renderings --------------------------------------------------------------------------

CSV_HEADER: Final = (
    "purpose",
    "description",
    "data_subjects",
    "categories",
    "special_categories",
    "aggregate_only",
    "art6_basis",
    "art9_conditions",
    "schedule1_paragraphs",
    "consent_type",
    "roles",
    "organisations",
    "recipients_outside_the_service",
    "retention",
)


def _joined(values: JsonValue, key: str | None = None) -> str:
    if not isinstance(values, list):
        return ""
    parts = [str(v[key]) if key and isinstance(v, dict) else str(v) for v in values]
    return "; ".join(parts)


def _art9_text(basis: JsonValue) -> str:
    if not isinstance(basis, dict) or not isinstance(basis["art9"], dict):
        return ""
    parts = []
    for category, condition in basis["art9"].items():
        assert isinstance(condition, dict)
        paragraph = condition["schedule1_paragraph"]
        suffix = f" (Sch 1 para {paragraph})" if paragraph is not None else ""
        parts.append(f"{category}: {condition['code']}{suffix}")
    return "; ".join(parts)


def csv_rows(record: dict[str, JsonValue]) -> list[list[str]]:
    """One row per processing activity, in CSV_HEADER's columns."""
    activities = record["processing_activities"]
    assert isinstance(activities, list)
    rows = []
    for activity in activities:
        assert isinstance(activity, dict)
        basis = activity["lawful_basis"]
        assert isinstance(basis, dict)
        rows.append(
            [
                str(activity["purpose"]),
                str(activity["description"]),
                _joined(activity["data_subjects"]),
                _joined(activity["categories"]),
                _joined(activity["special_categories"]),
                "yes" if activity["aggregate_only"] else "no",
                str(basis["art6"]),
                _art9_text(basis),
                _joined(activity["schedule1_paragraphs"]),
                str(activity["consent_type"] or ""),
                _joined(activity["roles"]),
                _joined(activity["organisations"], "name"),
                _joined(activity["recipients_outside_the_service"], "recipient"),
                "; ".join(
                    f"{r['records']}: {r['kept_until']}"
                    for r in activity["retention"]  # type: ignore[union-attr]
                    if isinstance(r, dict)
                ),
            ]
        )
    return rows


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown(record: dict[str, JsonValue]) -> str:
    """The record and the policy document as a Markdown document."""
    controller = record["controller"]
    assert isinstance(controller, dict)
    dpo = controller["data_protection_officer"]
    assert isinstance(dpo, dict)
    lines = [
        f"# Record of processing activities: {controller['service']}",
        "",
        "UK GDPR Article 30(1). Generated from the rule tables that decide every request.",
        "",
        "## Controller",
        "",
        f"- **Controller:** {controller['name']}, {controller['address']}, "
        f"{controller['telephone']}",
        f"- **Data protection officer:** {dpo['name']}, {dpo['email']}, {dpo['address']}",
        f"- **Complaints:** {controller['complaints']}",
        "",
        "## Organisations in the service",
        "",
        "| organisation | code | roles |",
        "|---|---|---|",
    ]
    for org in record["organisations"]:  # type: ignore[union-attr]
        assert isinstance(org, dict)
        lines.append(f"| {_cell(org['name'])} | {org['code']} | {_joined(org['roles'])} |")
    lines += ["", "## Processing activities", ""]
    for row in csv_rows(record):
        values = dict(zip(CSV_HEADER, row, strict=True))
        lines += [f"### {values['purpose']}", "", values["description"], ""]
        lines += ["| | |", "|---|---|"]
        for name in CSV_HEADER[2:]:
            lines.append(f"| {name.replace('_', ' ')} | {_cell(values[name]) or '—'} |")
        lines.append("")
    lines += [
        "## Transfers outside the UK",
        "",
        str(record["transfers_outside_the_uk"]),
        "",
        "## Security measures",
        "",
        *(f"- {m}" for m in record["security_measures"]),  # type: ignore[union-attr]
        "",
        "# Appropriate policy document",
        "",
        "DPA 2018 Schedule 1 Part 4: the conditions relied on, how the principles are met, "
        "and the retention and erasure policy.",
        "",
        "## Conditions relied on",
        "",
    ]
    document = record["appropriate_policy_document"]
    assert isinstance(document, dict)
    for condition in document["conditions"]:  # type: ignore[union-attr]
        assert isinstance(condition, dict)
        lines += [
            f"### Schedule 1 paragraph {condition['schedule1_paragraph']}",
            "",
            str(condition["text"]),
            "",
            f"- **Purposes:** {_joined(condition['purposes'])}",
            f"- **Categories:** {_joined(condition['categories'])}",
            "",
        ]
    lines += ["## How the principles are met", ""]
    for principle in document["principles"]:  # type: ignore[union-attr]
        assert isinstance(principle, dict)
        lines += [f"- **{principle['principle']}:** {principle['how']}"]
    policy = document["retention_and_erasure"]
    assert isinstance(policy, dict)
    lines += ["", "## Retention and erasure", ""]
    for rule in policy["retention"]:  # type: ignore[union-attr]
        assert isinstance(rule, dict)
        lines.append(f"- **{rule['records']}:** {rule['kept_until']}")
    lines += ["", str(policy["erasure"]), ""]
    return "\n".join(lines)
