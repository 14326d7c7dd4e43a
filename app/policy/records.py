"""The record of processing activities (UK GDPR Art 30) and the appropriate policy
document (DPA 2018 Sch 1 Part 4), rendered from the rule tables that decide.

Pure: no I/O. The purposes, categories, roles, bases and Schedule 1 conditions come
from app.policy.rules, read when the record is made, so the published record is always
what the engine enforces (a test changes a table and sees both change). What the tables
do not hold (the controller, the organisations, the recipients outside the service and
the retention periods) is passed in as data by the caller, from the same reference data
and retention rules the service runs on.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from app.policy import rules
from app.policy.rules import JsonValue, PurposeBases
from app.policy.vocabulary import (
    ART9_CATEGORIES,
    SPECIAL_CATEGORIES,
    Action,
    Category,
    ConsentType,
    Purpose,
    RecordKind,
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


UNITED_KINGDOM: Final = "United Kingdom"


@dataclass(frozen=True, slots=True)
class Recipient:
    code: str
    name: str
    consent_type: ConsentType | None
    purpose: str
    country: str
    transfer_safeguard: str | None
    """The UK GDPR Chapter V safeguard of a transfer to it, where it is outside the UK."""

    @property
    def outside_the_uk(self) -> bool:
        """Not known to be in the UK: a share to it may be a transfer (Chapter V)."""
        return self.country != UNITED_KINGDOM


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


def _condition(
    bases: PurposeBases, reached: frozenset[Category] = rules.ALL_CATEGORIES
) -> dict[str, JsonValue]:
    """The Art 6 basis and, for each Art 9 category in `reached`, the Art 9 condition."""
    art9: dict[str, JsonValue] = {}
    for category in Category:
        if category in bases.art9 and category in reached:
            condition = bases.art9[category]
            art9[category.value] = {
                "code": condition.basis.value,
                "schedule1_paragraph": condition.schedule1_paragraph,
            }
    return {"art6": bases.art6.basis.value, "art9": art9}


# --- every basis a purpose can rest on, and when ----------------------------------------


@dataclass(frozen=True, slots=True)
class Footing:
    """One set of bases the engine can name under a purpose, and when it does."""

    when: str
    bases: PurposeBases
    reached: frozenset[Category]
    """The categories processed on this footing: the Art 9 conditions named are theirs."""

    def document(self) -> dict[str, JsonValue]:
        return {"when": self.when, **_condition(self.bases, self.reached)}

    @property
    def paragraphs(self) -> frozenset[int]:
        return frozenset(
            condition.schedule1_paragraph
            for category, condition in self.bases.art9.items()
            if category in self.reached and condition.schedule1_paragraph is not None
        )


OwnBasesKey = Action | RecordKind
"""An action (rules.ACTION_BASES) or a record (rules.RECORD_BASES) with bases of its own."""

PLAN: Final = "a child protection plan is active for any child of the subject's household"
"""DOMAIN.md step 8: the fact under which CP_PLAN_BASES replace a purpose's own."""


def _either(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _actions(purpose: Purpose) -> str:
    """The actions a purpose's own bases cover (engine step 2), in the vocabulary's words:
    not a share or an action with bases of its own, listed on their own footings."""
    if purpose in rules.AGGREGATE_ONLY_PURPOSES:
        return Action.AGGREGATE.value
    excluded = {Action.AGGREGATE, Action.SHARE, *rules.ACTION_BASES}
    if purpose in rules.NO_LIST_PURPOSES:
        excluded.add(Action.LIST)
    return _either([action.value for action in Action if action not in excluded])


def _justified(purpose: Purpose) -> str:
    return ", with a written justification" if purpose in rules.JUSTIFICATION_PURPOSES else ""


def _own_footings(
    purpose: Purpose, touched: Mapping[OwnBasesKey, frozenset[Category]]
) -> list[Footing]:
    """Actions and records whose bases are their own whatever the purpose (recording,
    withdrawing or reading consent records, Art 7(1)), under each purpose that reaches
    every category they touch; one footing per distinct set of bases."""
    if purpose in rules.AGGREGATE_ONLY_PURPOSES:
        return []
    reach = rules.PURPOSE_CATEGORIES[purpose]
    # In the vocabulary's order, so that the record reads the same on every run.
    own: list[tuple[OwnBasesKey, PurposeBases]] = [
        *(
            (action, rules.ACTION_BASES[action])
            for action in Action
            if action in rules.ACTION_BASES
        ),
        *((kind, rules.RECORD_BASES[kind]) for kind in RecordKind if kind in rules.RECORD_BASES),
    ]
    groups: dict[str, list[tuple[OwnBasesKey, PurposeBases]]] = {}
    for key, bases in own:
        if touched.get(key, reach) <= reach:
            groups.setdefault(repr(_condition(bases, reach)), []).append((key, bases))
    footings = []
    for members in groups.values():
        actions = [key.value for key, _ in members if isinstance(key, Action)]
        records = [key.value for key, _ in members if isinstance(key, RecordKind)]
        parts = [*actions]
        if records:
            parts.append(f"reading or writing a record of kind {_either(records)}")
        consent_free = all(
            key in rules.CONSENT_FREE_ACTIONS or key in rules.CONSENT_FREE_RECORDS
            for key, _ in members
        )
        when = ", or ".join(parts) + _justified(purpose)
        when += "; no consent needed" if consent_free else ""
        reached = frozenset().union(*(touched.get(key, reach) for key, _ in members)) & reach
        footings.append(Footing(when, members[0][1], reached))
    return footings


def _share_footings(purpose: Purpose, recipients: Sequence[Recipient]) -> list[Footing]:
    """A share outside the service: without consent under the purposes that may share so,
    otherwise on the consent type each recipient names (and the purpose's own consent)."""
    if purpose in rules.AGGREGATE_ONLY_PURPOSES:
        return []
    reach = rules.PURPOSE_CATEGORIES[purpose]
    if purpose in rules.SHARE_WITHOUT_CONSENT_PURPOSES:
        return [
            Footing(
                f"share with any recipient outside the service, without consent{when}", b, reach
            )
            for when, b in _public_footings(purpose)
        ]
    consent = rules.CONSENT_PURPOSES.get(purpose)
    also = ""
    if consent is not None:
        also = f", and an active {consent.value} consent"
        if _plan_lifts_consent(purpose):
            also += f" unless {PLAN}"
    return [
        Footing(
            f"share with {recipient.code}, on an active {recipient.consent_type.value} consent "
            f"naming it{also}{_justified(purpose)}",
            rules.CONSENT_BASES,
            reach,
        )
        for recipient in recipients
        if recipient.consent_type is not None
    ]


def _plan_lifts_consent(purpose: Purpose) -> bool:
    return purpose in rules.CP_PLAN_BASES and (
        purpose not in rules.CONSENT_PURPOSES or purpose in rules.CP_PLAN_LIFTS_CONSENT
    )


def _public_footings(purpose: Purpose) -> list[tuple[str, PurposeBases]]:
    """The purpose's bases when it rests on no consent: its own, or under a child
    protection plan those of CP_PLAN_BASES."""
    if not _plan_lifts_consent(purpose):
        return [(_justified(purpose), rules.PURPOSE_BASES[purpose])]
    return [
        (f", unless {PLAN}{_justified(purpose)}", rules.PURPOSE_BASES[purpose]),
        (f", while {PLAN}{_justified(purpose)}", rules.CP_PLAN_BASES[purpose]),
    ]


def footings(
    purpose: Purpose,
    recipients: Sequence[Recipient],
    touched: Mapping[OwnBasesKey, frozenset[Category]],
) -> list[Footing]:
    """Every set of bases the engine can name under `purpose`, and when each applies:
    the purpose's own (on consent, or under a child protection plan), actions and records
    with bases of their own, and shares outside the service."""
    reach = rules.PURPOSE_CATEGORIES[purpose]
    actions = _actions(purpose)
    consent = rules.CONSENT_PURPOSES.get(purpose)
    found: list[Footing] = []
    if consent is None:
        found += [Footing(actions + when, b, reach) for when, b in _public_footings(purpose)]
    else:
        lifted = _plan_lifts_consent(purpose)
        when = f"{actions}, on an active {consent.value} consent"
        when += f", unless {PLAN}" if lifted else ""
        found.append(Footing(when + _justified(purpose), rules.CONSENT_BASES, reach))
        if lifted:
            found.append(
                Footing(
                    f"{actions}, while {PLAN}{_justified(purpose)}; no consent needed",
                    rules.CP_PLAN_BASES[purpose],
                    reach,
                )
            )
    found += _own_footings(purpose, touched)
    found += _share_footings(purpose, recipients)
    return found


def _paragraphs(found: Sequence[Footing]) -> list[int]:
    """Every Schedule 1 paragraph the purpose's footings name."""
    return sorted(frozenset().union(*(footing.paragraphs for footing in found)))


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
        found.append(
            {
                "recipient": recipient.code,
                "name": recipient.name,
                "footing": footing,
                "country": recipient.country,
                "transfer_safeguard": recipient.transfer_safeguard,
            }
        )
    return found


def _activity(
    purpose: Purpose,
    found: Sequence[Footing],
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
        "lawful_bases": [footing.document() for footing in found],
        "schedule1_paragraphs": list(_paragraphs(found)),
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
    found: Mapping[Purpose, Sequence[Footing]], retention: Sequence[RetentionRule]
) -> dict[str, JsonValue]:
    conditions: list[JsonValue] = []
    for paragraph, text in sorted(rules.SCHEDULE1_TEXT.items()):
        if paragraph not in SCHEDULE1_NEEDS_POLICY:
            continue
        relying = [p for p in Purpose if paragraph in _paragraphs(found[p])]
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


def _transfers(recipients: Sequence[Recipient]) -> dict[str, JsonValue]:
    abroad = [recipient for recipient in recipients if recipient.outside_the_uk]
    statement = (
        "The service makes no transfer of its own. A share outside the service is a decision "
        "of its own, recorded as a disclosure. "
    )
    if abroad:
        statement += (
            "These recipients are outside the UK, or their country is not yet confirmed: a "
            "share to one of them is a transfer, resting on the safeguard named (UK GDPR "
            "Chapter V)."
        )
    else:
        statement += "Every recipient's reference data names the UK."
    return {
        "statement": statement,
        "recipients": [
            {
                "recipient": recipient.code,
                "name": recipient.name,
                "country": recipient.country,
                "transfer_safeguard": recipient.transfer_safeguard,
            }
            for recipient in abroad
        ],
    }


def records_of_processing(
    *,
    controller: Controller,
    organisations: Sequence[Organisation],
    recipients: Sequence[Recipient],
    retention: Sequence[RetentionRule],
    touched: Mapping[OwnBasesKey, frozenset[Category]],
) -> dict[str, JsonValue]:
    """The Art 30(1) record and the appropriate policy document, as JSON-ready data.

    `touched`: the categories each action or record with bases of its own processes (the
    consent records' schema), so that its footing is listed under the purposes that can
    reach them.
    """
    found = {purpose: footings(purpose, recipients, touched) for purpose in Purpose}
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
            _activity(purpose, found[purpose], organisations, recipients, retention)
            for purpose in Purpose
        ],
        "special_categories": [c.value for c in Category if c in SPECIAL_CATEGORIES],
        "transfers_outside_the_uk": _transfers(recipients),
        "security_measures": list(SECURITY_MEASURES),
        "appropriate_policy_document": _policy_document(found, retention),
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
    "lawful_bases",
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


def _bases(activity: dict[str, JsonValue]) -> list[tuple[str, str, str]]:
    """(when, Art 6 basis, Art 9 conditions) of each of the activity's lawful bases."""
    found = activity["lawful_bases"]
    assert isinstance(found, list)
    rows = []
    for basis in found:
        assert isinstance(basis, dict)
        rows.append((str(basis["when"]), str(basis["art6"]), _art9_text(basis)))
    return rows


def _bases_text(activity: dict[str, JsonValue]) -> str:
    """One line per lawful basis: when it applies — the Art 6 basis; each Art 9 condition."""
    return "\n".join(
        f"{when} — {'; '.join(part for part in (art6, art9) if part)}"
        for when, art6, art9 in _bases(activity)
    )


def _recipients_text(activity: dict[str, JsonValue]) -> str:
    """Each recipient's code; for one outside the UK, its country and transfer safeguard."""
    found = activity["recipients_outside_the_service"]
    assert isinstance(found, list)
    parts = []
    for recipient in found:
        assert isinstance(recipient, dict)
        text = str(recipient["recipient"])
        if recipient["country"] != UNITED_KINGDOM:
            safeguard = recipient["transfer_safeguard"] or "none named"
            text += f" ({recipient['country']}; transfer safeguard: {safeguard})"
        parts.append(text)
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
                _bases_text(activity),
                _joined(activity["schedule1_paragraphs"]),
                str(activity["consent_type"] or ""),
                _joined(activity["roles"]),
                _joined(activity["organisations"], "name"),
                _recipients_text(activity),
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
    activities = record["processing_activities"]
    assert isinstance(activities, list)
    for activity, row in zip(activities, csv_rows(record), strict=True):
        assert isinstance(activity, dict)
        values = dict(zip(CSV_HEADER, row, strict=True))
        lines += [f"### {values['purpose']}", "", values["description"], ""]
        lines += ["| | |", "|---|---|"]
        for name in CSV_HEADER[2:]:
            if name == "lawful_bases":
                continue  # a table of its own, below
            lines.append(f"| {name.replace('_', ' ')} | {_cell(values[name]) or '—'} |")
        lines += ["", "#### Lawful bases", ""]
        lines += ["| when it applies | Art 6 | Art 9 and Schedule 1 |", "|---|---|---|"]
        for when, art6, art9 in _bases(activity):
            lines.append(f"| {_cell(when)} | {art6} | {_cell(art9) or '—'} |")
        lines.append("")
    transfers = record["transfers_outside_the_uk"]
    assert isinstance(transfers, dict)
    lines += ["## Transfers outside the UK", "", str(transfers["statement"]), ""]
    for recipient in transfers["recipients"]:  # type: ignore[union-attr]
        assert isinstance(recipient, dict)
        lines.append(
            f"- **{recipient['name']}** ({recipient['recipient']}): country "
            f"{recipient['country']}; transfer safeguard "
            f"{recipient['transfer_safeguard'] or 'none named'}"
        )
    lines += [
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
