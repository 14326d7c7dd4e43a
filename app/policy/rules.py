"""DOMAIN.md's rule tables as data.

The engine (`engine.decide`) reads these tables and nothing else; `GET /v1/policy`
serves the same tables through `policy_document()`, so what is published is what is
enforced. Reference data (organisations, nurseries, recipients) lives in app/reference.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, TypeVar

from app.policy.vocabulary import (
    ART9_CATEGORIES,
    MIN_JUSTIFICATION_LENGTH,
    SPECIAL_CATEGORIES,
    Action,
    Basis,
    Category,
    ConsentType,
    Purpose,
    Reason,
    RecordKind,
    Role,
)

ALL_CATEGORIES: Final = frozenset(Category)

# DOMAIN.md, "Roles and the purposes they may declare".
ROLE_PURPOSES: Final[Mapping[Role, frozenset[Purpose]]] = MappingProxyType(
    {
        Role.HEALTH_VISITOR: frozenset(
            {
                Purpose.SERVICE_INVITATION,
                Purpose.NEEDS_ASSESSMENT,
                Purpose.EARLY_HELP,
                Purpose.HEALTH_CARE,
                Purpose.SAFEGUARDING,
            }
        ),
        Role.CHILDRENS_CENTRE_WORKER: frozenset(
            {
                Purpose.SERVICE_INVITATION,
                Purpose.NEEDS_ASSESSMENT,
                Purpose.EARLY_HELP,
                Purpose.SAFEGUARDING,
            }
        ),
        Role.FAMILY_WORKER: frozenset(
            {
                Purpose.SERVICE_INVITATION,
                Purpose.NEEDS_ASSESSMENT,
                Purpose.EARLY_HELP,
                Purpose.SAFEGUARDING,
            }
        ),
        Role.CAMHS_CLINICIAN: frozenset({Purpose.HEALTH_CARE, Purpose.SAFEGUARDING}),
        Role.SPEECH_LANGUAGE_THERAPIST: frozenset({Purpose.HEALTH_CARE, Purpose.SAFEGUARDING}),
        # Own nursery's children only: the scope step (3) enforces that.
        Role.NURSERY_PRACTITIONER: frozenset({Purpose.NURSERY_CARE, Purpose.SAFEGUARDING}),
        # Aggregate endpoints only: see AGGREGATE_ONLY_PURPOSES.
        Role.PUBLIC_HEALTH_ANALYST: frozenset(
            {Purpose.TAKE_UP_MONITORING, Purpose.IMPACT_EVALUATION}
        ),
        Role.DATA_PROTECTION_OFFICER: frozenset({Purpose.SUBJECT_RIGHTS, Purpose.LEGAL_CLAIMS}),
    }
)

# DOMAIN.md, "Purposes": the categories each purpose may reach.
PURPOSE_CATEGORIES: Final[Mapping[Purpose, frozenset[Category]]] = MappingProxyType(
    {
        Purpose.SERVICE_INVITATION: frozenset({Category.IDENTITY, Category.CONTACT}),
        # Aggregates of age band (from date of birth: identity), area (from postcode:
        # contact), services and ethnicity; only counts leave (AGGREGATE_ONLY_PURPOSES).
        Purpose.TAKE_UP_MONITORING: frozenset(
            {Category.IDENTITY, Category.CONTACT, Category.SERVICES, Category.ETHNICITY}
        ),
        # Aggregates of services and of health and education outcomes, grouped by area,
        # age band or service.
        Purpose.IMPACT_EVALUATION: frozenset(
            {
                Category.IDENTITY,
                Category.CONTACT,
                Category.SERVICES,
                Category.HEALTH,
                Category.EDUCATION,
            }
        ),
        # Never ethnicity: Sch 1 para 8 may not support a measure about one family, and an
        # outreach list is one.
        Purpose.NEEDS_ASSESSMENT: frozenset(
            {Category.IDENTITY, Category.CONTACT, Category.CIRCUMSTANCES}
        ),
        Purpose.EARLY_HELP: frozenset(
            {
                Category.IDENTITY,
                Category.CONTACT,
                Category.HOUSEHOLD,
                Category.CIRCUMSTANCES,
                Category.ETHNICITY,
                Category.HEALTH,
                Category.EDUCATION,
                Category.SERVICES,
            }
        ),
        Purpose.HEALTH_CARE: frozenset(
            {
                Category.IDENTITY,
                Category.CONTACT,
                Category.HOUSEHOLD,
                Category.ETHNICITY,
                Category.HEALTH,
                Category.SERVICES,
            }
        ),
        Purpose.NURSERY_CARE: frozenset(
            {
                Category.IDENTITY,
                Category.CONTACT,
                Category.HOUSEHOLD,
                Category.HEALTH,
                Category.SAFEGUARDING,
            }
        ),
        Purpose.SAFEGUARDING: ALL_CATEGORIES,
        Purpose.SUBJECT_RIGHTS: ALL_CATEGORIES,
        Purpose.LEGAL_CLAIMS: ALL_CATEGORIES,
    }
)

# "No row-level data leaves under these purposes": only counts, and counts only for them.
AGGREGATE_ONLY_PURPOSES: Final = frozenset({Purpose.TAKE_UP_MONITORING, Purpose.IMPACT_EVALUATION})

READING_ACTIONS: Final = frozenset({Action.READ, Action.LIST, Action.AGGREGATE})
"""Actions for which categories the purpose cannot reach are withheld, not denied."""

# Art 18: storage continues; only these purposes go on.
RESTRICTION_EXEMPT: Final = frozenset(
    {Purpose.SUBJECT_RIGHTS, Purpose.LEGAL_CLAIMS, Purpose.SAFEGUARDING}
)

# Art 21: an upheld objection stops these; safeguarding (compelling grounds) and
# health_care (direct care) go on.
OBJECTION_STOPS: Final = frozenset(
    {
        Purpose.SERVICE_INVITATION,
        Purpose.NEEDS_ASSESSMENT,
        Purpose.TAKE_UP_MONITORING,
        Purpose.IMPACT_EVALUATION,
    }
)

JUSTIFICATION_PURPOSES: Final = frozenset({Purpose.SAFEGUARDING})
"""Purposes that need a written justification of MIN_JUSTIFICATION_LENGTH characters."""

REVIEW_PURPOSES: Final = frozenset({Purpose.SAFEGUARDING})
"""Purposes whose every allowed use is flagged for the data protection officer's review."""

NO_LIST_PURPOSES: Final = frozenset({Purpose.SAFEGUARDING})
"""An override reaches only the subject named, never a list of subjects."""

# The notice: early help is offered "in almost all cases" on consent.
CONSENT_PURPOSES: Final[Mapping[Purpose, ConsentType]] = MappingProxyType(
    {Purpose.EARLY_HELP: ConsentType.EARLY_HELP_SUPPORT}
)
"""Purposes that rest on consent, with the consent type each needs."""

# The notice: no consent "when working as part of a child protection plan overseen by
# social work when legal duty and public task will be the legal basis".
CP_PLAN_LIFTS_CONSENT: Final = frozenset({Purpose.EARLY_HELP})

# The notice: "We will not share your information outside of the service without your
# express permission unless there are concerns that your child is at risk of harm."
SHARE_WITHOUT_CONSENT_PURPOSES: Final = frozenset({Purpose.SAFEGUARDING})

# Art 7(1): the controller must be able to demonstrate that the data subject consented.
# Recording or withdrawing a consent is that obligation, so it cannot need the consent
# it records.
CONSENT_FREE_ACTIONS: Final = frozenset({Action.RECORD_CONSENT})
"""Actions that never rest on consent: step 8 does not apply to them."""

# Art 7(1): a worker who may offer early help reads a person's consent records to know
# whether to ask, so reading them rests on the same legal obligation as recording them.
CONSENT_FREE_RECORDS: Final = frozenset({RecordKind.CONSENT, RecordKind.CONSENT_WITHDRAWAL})
"""Records whose reading or writing never rests on consent."""

# Art 7(3): withdrawing must be as easy as giving, so a restriction (Art 18) or an
# objection (Art 21) never stops a withdrawal being recorded.
UNSTOPPABLE_RECORDS: Final = frozenset({RecordKind.CONSENT_WITHDRAWAL})
"""Records steps 5 and 6 never refuse."""


def _declaring(purpose: Purpose) -> frozenset[Role]:
    return frozenset(role for role in Role if purpose in ROLE_PURPOSES[role])


# DOMAIN.md "Who may record what": records that belong to one profession. Each names
# the roles that may write it and, per role, the purposes it may be written under.
RECORD_WRITERS: Final[Mapping[RecordKind, Mapping[Role, frozenset[Purpose]]]] = MappingProxyType(
    {
        # Drives retention to 25 for the household.
        RecordKind.FAMILY_WORKER_SUPPORT: MappingProxyType(
            {Role.FAMILY_WORKER: frozenset({Purpose.EARLY_HELP, Purpose.SAFEGUARDING})}
        ),
        # A plan or status children's social care decided, recorded by those it told.
        RecordKind.SAFEGUARDING_STATUS: MappingProxyType(
            {
                role: frozenset({Purpose.SAFEGUARDING})
                for role in (
                    Role.HEALTH_VISITOR,
                    Role.FAMILY_WORKER,
                    Role.CHILDRENS_CENTRE_WORKER,
                )
            }
        ),
        RecordKind.SAFEGUARDING_NOTE: MappingProxyType(
            {role: ROLE_PURPOSES[role] for role in _declaring(Purpose.SAFEGUARDING)}
        ),
        RecordKind.DEVELOPMENT_REVIEW: MappingProxyType(
            {Role.HEALTH_VISITOR: frozenset({Purpose.HEALTH_CARE})}
        ),
        # The one write step 3 does not stop: it is how a child comes into scope.
        RecordKind.ENROLMENT: MappingProxyType(
            {Role.NURSERY_PRACTITIONER: frozenset({Purpose.NURSERY_CARE})}
        ),
    }
)
"""Who may write each record that belongs to one profession; any other role is denied
(`purpose_not_permitted`)."""

OFFICER: Final = frozenset({Purpose.SUBJECT_RIGHTS})
LEGAL: Final = frozenset({Purpose.LEGAL_CLAIMS})

# API.md: which purposes an endpoint serves, where it serves fewer than its categories
# would let in. Every other operation serves each purpose that may reach its categories.
OPERATION_PURPOSES: Final[Mapping[str, frozenset[Purpose]]] = MappingProxyType(
    {
        "create_subject_request": OFFICER,
        "list_subject_requests": OFFICER,
        "read_subject_request": OFFICER,
        "extend_subject_request": OFFICER,
        "pause_subject_request": OFFICER,
        "resume_subject_request": OFFICER,
        "decide_subject_request": OFFICER,
        "lift_subject_request": OFFICER,
        "export_subject_request": OFFICER,
        "list_events": OFFICER,
        "verify_trail": OFFICER,
        "access_log": OFFICER,
        "list_overrides": OFFICER,
        "review_override": OFFICER,
        "list_due": OFFICER,
        "sweep": OFFICER,
        "list_notifications": OFFICER,
        "close_notification": OFFICER,
        "person_notifications": OFFICER,
        "place_legal_hold": LEGAL,
        "list_legal_holds": LEGAL,
        "release_legal_hold": LEGAL,
        "list_invitations": frozenset({Purpose.SERVICE_INVITATION}),
        "needs_assessment": frozenset({Purpose.NEEDS_ASSESSMENT}),
        "take_up_report": frozenset({Purpose.TAKE_UP_MONITORING}),
        "impact_report": frozenset({Purpose.IMPACT_EVALUATION}),
    }
)
"""Operations (by OpenAPI operation id) narrowed to the purposes API.md names."""


# Legal texts ------------------------------------------------------------------------

BASIS_TEXT: Final[Mapping[Basis, str]] = MappingProxyType(
    {
        Basis.ART6_1_A: (
            "UK GDPR Article 6(1)(a): the data subject has given consent to the processing "
            "of their personal data for one or more specific purposes."
        ),
        Basis.ART6_1_C: (
            "UK GDPR Article 6(1)(c): processing is necessary for compliance with a legal "
            "obligation to which the controller is subject."
        ),
        Basis.ART6_1_E: (
            "UK GDPR Article 6(1)(e): processing is necessary for the performance of a task "
            "carried out in the public interest or in the exercise of official authority "
            "vested in the controller."
        ),
        Basis.ART9_2_A: (
            "UK GDPR Article 9(2)(a): the data subject has given explicit consent to the "
            "processing of those personal data for one or more specified purposes."
        ),
        Basis.ART9_2_F: (
            "UK GDPR Article 9(2)(f): processing is necessary for the establishment, "
            "exercise or defence of legal claims."
        ),
        Basis.ART9_2_G: (
            "UK GDPR Article 9(2)(g): processing is necessary for reasons of substantial "
            "public interest, on the basis of domestic law which is proportionate to the "
            "aim pursued, respects the essence of the right to data protection and provides "
            "for suitable and specific measures to safeguard the fundamental rights and the "
            "interests of the data subject."
        ),
        Basis.ART9_2_H: (
            "UK GDPR Article 9(2)(h): processing is necessary for the purposes of "
            "preventive or occupational medicine, medical diagnosis, the provision of "
            "health or social care or treatment or the management of health or social care "
            "systems."
        ),
    }
)

SCHEDULE1_TEXT: Final[Mapping[int, str]] = MappingProxyType(
    {
        2: (
            "DPA 2018 Schedule 1 paragraph 2: health or social care purposes, by or under "
            "the responsibility of a professional under a duty of confidentiality."
        ),
        6: (
            "DPA 2018 Schedule 1 paragraph 6: statutory and government purposes, here "
            "compliance with the data protection legislation."
        ),
        8: (
            "DPA 2018 Schedule 1 paragraph 8: equality of opportunity or treatment; never "
            "for a measure or decision about an individual, and not for a subject who has "
            "objected in writing."
        ),
        18: (
            "DPA 2018 Schedule 1 paragraph 18: safeguarding of children and of individuals at risk."
        ),
    }
)


@dataclass(frozen=True, slots=True)
class Condition:
    """One lawful basis or condition, with its legal text and Schedule 1 paragraph."""

    basis: Basis
    schedule1_paragraph: int | None = None

    @property
    def text(self) -> str:
        if self.schedule1_paragraph is None:
            return BASIS_TEXT[self.basis]
        return f"{BASIS_TEXT[self.basis]} {SCHEDULE1_TEXT[self.schedule1_paragraph]}"


@dataclass(frozen=True, slots=True, eq=False)
class PurposeBases:
    """The Art 6 basis of a purpose and, per Art 9 category it reaches, the Art 9 condition.

    Compared and hashed by identity: each is one entry of these tables, and the engine
    keeps what it derives from an entry (the citations of an allowance) keyed by it."""

    art6: Condition
    art9: Mapping[Category, Condition]


def _art9(categories: frozenset[Category], condition: Condition) -> Mapping[Category, Condition]:
    return MappingProxyType(dict.fromkeys(categories & ART9_CATEGORIES, condition))


_PUBLIC_TASK: Final = Condition(Basis.ART6_1_E)
_SAFEGUARDING_INTEREST: Final = Condition(Basis.ART9_2_G, 18)
_HEALTH_CARE: Final = Condition(Basis.ART9_2_H, 2)

# Consent: Art 6(1)(a) and, for every special or safeguarding category, Art 9(2)(a).
CONSENT_BASES: Final = PurposeBases(
    art6=Condition(Basis.ART6_1_A),
    art9=_art9(ART9_CATEGORIES, Condition(Basis.ART9_2_A)),
)

# DOMAIN.md, "Purposes", column "lawful basis".
PURPOSE_BASES: Final[Mapping[Purpose, PurposeBases]] = MappingProxyType(
    {
        Purpose.SERVICE_INVITATION: PurposeBases(_PUBLIC_TASK, MappingProxyType({})),
        Purpose.TAKE_UP_MONITORING: PurposeBases(
            _PUBLIC_TASK, MappingProxyType({Category.ETHNICITY: Condition(Basis.ART9_2_G, 8)})
        ),
        Purpose.IMPACT_EVALUATION: PurposeBases(
            _PUBLIC_TASK, MappingProxyType({Category.HEALTH: _HEALTH_CARE})
        ),
        Purpose.NEEDS_ASSESSMENT: PurposeBases(_PUBLIC_TASK, MappingProxyType({})),
        # On consent; where a child protection plan is active, CP_PLAN_BASES instead.
        Purpose.EARLY_HELP: PurposeBases(
            CONSENT_BASES.art6,
            _art9(PURPOSE_CATEGORIES[Purpose.EARLY_HELP], Condition(Basis.ART9_2_A)),
        ),
        Purpose.HEALTH_CARE: PurposeBases(
            _PUBLIC_TASK, _art9(PURPOSE_CATEGORIES[Purpose.HEALTH_CARE], _HEALTH_CARE)
        ),
        Purpose.NURSERY_CARE: PurposeBases(
            _PUBLIC_TASK,
            _art9(PURPOSE_CATEGORIES[Purpose.NURSERY_CARE], _SAFEGUARDING_INTEREST),
        ),
        Purpose.SAFEGUARDING: PurposeBases(
            _PUBLIC_TASK, _art9(ALL_CATEGORIES, _SAFEGUARDING_INTEREST)
        ),
        # Art 15-22 requests are a legal obligation; special categories rest on Sch 1
        # para 6 (compliance with the data protection legislation).
        Purpose.SUBJECT_RIGHTS: PurposeBases(
            Condition(Basis.ART6_1_C), _art9(ALL_CATEGORIES, Condition(Basis.ART9_2_G, 6))
        ),
        # Art 9(2)(f) needs no Schedule 1 condition.
        Purpose.LEGAL_CLAIMS: PurposeBases(
            _PUBLIC_TASK, _art9(ALL_CATEGORIES, Condition(Basis.ART9_2_F))
        ),
    }
)
"""The bases each purpose relies on when it does not rest on consent at the time."""

# Art 7(1): recording or withdrawing a consent is a legal obligation, whatever the
# purpose it is recorded under; special categories rest on Sch 1 para 6 (compliance
# with the data protection legislation), as for subject rights.
ACTION_BASES: Final[Mapping[Action, PurposeBases]] = MappingProxyType(
    {
        Action.RECORD_CONSENT: PurposeBases(
            Condition(Basis.ART6_1_C), _art9(ALL_CATEGORIES, Condition(Basis.ART9_2_G, 6))
        )
    }
)
"""Actions whose bases are their own, whatever the purpose declared."""

RECORD_BASES: Final[Mapping[RecordKind, PurposeBases]] = MappingProxyType(
    dict.fromkeys(CONSENT_FREE_RECORDS, ACTION_BASES[Action.RECORD_CONSENT])
)
"""Records whose bases are their own: consent records rest on Art 7(1), 6(1)(c)."""

# Early help under an active child protection plan: public task and Sch 1 para 18.
CP_PLAN_BASES: Final[Mapping[Purpose, PurposeBases]] = MappingProxyType(
    {
        Purpose.EARLY_HELP: PurposeBases(
            _PUBLIC_TASK,
            _art9(PURPOSE_CATEGORIES[Purpose.EARLY_HELP], _SAFEGUARDING_INTEREST),
        )
    }
)


# Legal gateways ---------------------------------------------------------------------

CHILDREN_ACTS: Final = "Children Act 1989 and 2004"
NHS_ACT_2006: Final = "National Health Service Act 2006"


@dataclass(frozen=True, slots=True)
class LegalGateway:
    name: str
    text: str
    purposes: frozenset[Purpose]
    """Purposes whose allowed decisions name this gateway."""


LEGAL_GATEWAYS: Final[tuple[LegalGateway, ...]] = (
    LegalGateway(
        name=CHILDREN_ACTS,
        text=(
            "A duty on the local authority and its relevant partners to make arrangements "
            "to promote co-operation to improve the well-being of children in its area, and "
            "to safeguard and promote their welfare."
        ),
        purposes=frozenset(
            {
                Purpose.SERVICE_INVITATION,
                Purpose.NEEDS_ASSESSMENT,
                Purpose.EARLY_HELP,
                Purpose.NURSERY_CARE,
                Purpose.SAFEGUARDING,
            }
        ),
    ),
    LegalGateway(
        name=NHS_ACT_2006,
        text=(
            "A duty on the National Health Service and local authorities to co-operate with "
            "one another to secure and advance the health and welfare of people."
        ),
        # Health visitors (NHS) work early help and safeguarding alongside the council.
        purposes=frozenset({Purpose.HEALTH_CARE, Purpose.EARLY_HELP, Purpose.SAFEGUARDING}),
    ),
)


# The decision order -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecisionStep:
    number: int
    reasons: tuple[Reason, ...]
    rule: str


DECISION_ORDER: Final[tuple[DecisionStep, ...]] = (
    DecisionStep(1, (Reason.GONE,), "The record was erased or destroyed: 410 Gone."),
    DecisionStep(
        2,
        (Reason.PURPOSE_NOT_PERMITTED,),
        "The caller's role may not declare this purpose, or the purpose may not reach a "
        "requested category: deny; a read instead drops those categories and names them as "
        "withheld, and is denied if no category remains. Take-up monitoring and impact "
        "evaluation produce aggregates only, and aggregates are produced only for them. "
        "Safeguarding never reaches a list.",
    ),
    DecisionStep(
        3,
        (Reason.OUT_OF_SCOPE,),
        "Object scope: a nursery practitioner reaches only children attending their "
        "nursery on the day, and no other person or family record.",
    ),
    DecisionStep(
        4,
        (Reason.RETENTION_EXPIRED,),
        "Retention has expired (on and after the destruction date) and the record is not "
        "yet destroyed: deny, except for the data protection officer; a legal hold does "
        "not lift this for anyone else.",
    ),
    DecisionStep(
        5,
        (Reason.PROCESSING_RESTRICTED,),
        "Processing is restricted (Art 18): deny everything except subject_rights, "
        "legal_claims and safeguarding. Storage continues.",
    ),
    DecisionStep(
        6,
        (Reason.OBJECTION_UPHELD,),
        "The subject objected (Art 21) and it was upheld: deny service_invitation, "
        "needs_assessment, take_up_monitoring and impact_evaluation; safeguarding and "
        "health_care go on.",
    ),
    DecisionStep(
        7,
        (Reason.JUSTIFICATION_REQUIRED,),
        f"Safeguarding without a written justification of at least "
        f"{MIN_JUSTIFICATION_LENGTH} characters: deny.",
    ),
    DecisionStep(
        8,
        (Reason.CONSENT_REQUIRED, Reason.CONSENT_WITHDRAWN),
        "A consent-based purpose (early_help with no active child protection plan; any "
        "share outside the service other than under safeguarding) needs an active consent "
        "of the right type (for a share, naming the recipient); none, or only withdrawn "
        "ones: deny. A read drops the categories the consent does not cover and names them "
        "as withheld; a share or write asking for a category it does not cover is denied. "
        "Recording or withdrawing a consent (record_consent) never needs the consent it "
        "records (Art 7(1)).",
    ),
    DecisionStep(
        9,
        (Reason.ALLOWED,),
        "Otherwise allow, naming every basis that applies: Art 6 and, for each special "
        "category reached, the Art 9 condition and the DPA 2018 Schedule 1 paragraph. "
        "Recording or withdrawing a consent rests on Art 6(1)(c), a legal obligation "
        "(Art 7(1)), whatever the purpose.",
    ),
)


# GET /v1/policy ---------------------------------------------------------------------

JsonValue = str | int | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


_Member = TypeVar("_Member", Role, Purpose, Category)


def _values(members: frozenset[_Member], order: type[_Member]) -> list[JsonValue]:
    """The members' wire values, in the vocabulary's order."""
    return [member.value for member in order if member in members]


def _condition_document(condition: Condition) -> dict[str, JsonValue]:
    return {
        "code": condition.basis.value,
        "text": condition.text,
        "schedule1_paragraph": condition.schedule1_paragraph,
    }


def _bases_document(bases: PurposeBases) -> dict[str, JsonValue]:
    return {
        "art6": _condition_document(bases.art6),
        "art9": {
            category.value: _condition_document(bases.art9[category])
            for category in Category
            if category in bases.art9
        },
    }


def _purpose_document(purpose: Purpose) -> dict[str, JsonValue]:
    consent_type = CONSENT_PURPOSES.get(purpose)
    cp_plan_bases = CP_PLAN_BASES.get(purpose)
    return {
        "purpose": purpose.value,
        "categories": _values(PURPOSE_CATEGORIES[purpose], Category),
        "roles": [role.value for role in Role if purpose in ROLE_PURPOSES[role]],
        "aggregate_only": purpose in AGGREGATE_ONLY_PURPOSES,
        "consent_type": consent_type.value if consent_type else None,
        "bases": _bases_document(PURPOSE_BASES[purpose]),
        "bases_with_child_protection_plan": (
            _bases_document(cp_plan_bases) if cp_plan_bases else None
        ),
        "restriction_exempt": purpose in RESTRICTION_EXEMPT,
        "stopped_by_objection": purpose in OBJECTION_STOPS,
        "justification_required": purpose in JUSTIFICATION_PURPOSES,
        "review_required": purpose in REVIEW_PURPOSES,
        "shares_without_consent": purpose in SHARE_WITHOUT_CONSENT_PURPOSES,
        "gateways": [gateway.name for gateway in LEGAL_GATEWAYS if purpose in gateway.purposes],
    }


def policy_document() -> dict[str, JsonValue]:
    """The whole rule set as JSON-serialisable data, served by GET /v1/policy."""
    return {
        "roles": [
            {"role": role.value, "purposes": _values(ROLE_PURPOSES[role], Purpose)} for role in Role
        ],
        "purposes": [_purpose_document(purpose) for purpose in Purpose],
        "categories": [
            {
                "category": category.value,
                "special": category in SPECIAL_CATEGORIES,
                "art9_condition_required": category in ART9_CATEGORIES,
            }
            for category in Category
        ],
        "bases": [{"code": basis.value, "text": BASIS_TEXT[basis]} for basis in Basis],
        "schedule1_paragraphs": [
            {"paragraph": paragraph, "text": text}
            for paragraph, text in sorted(SCHEDULE1_TEXT.items())
        ],
        "consent": {
            "purposes": [
                {
                    "purpose": purpose.value,
                    "consent_type": consent_type.value,
                    "not_needed_with_active_child_protection_plan": (
                        purpose in CP_PLAN_LIFTS_CONSENT
                    ),
                }
                for purpose, consent_type in CONSENT_PURPOSES.items()
            ],
            "types": [consent_type.value for consent_type in ConsentType],
            "bases": _bases_document(CONSENT_BASES),
            "share": (
                "A share outside the service needs an active consent of the type the "
                "recipient names, for that recipient, covering every category shared; "
                "without consent, only under "
                + ", ".join(p.value for p in Purpose if p in SHARE_WITHOUT_CONSENT_PURPOSES)
                + " with a justification."
            ),
            "withdrawal": (
                "Withdrawal takes effect at once for every later decision; it does not undo "
                "what was lawfully done before."
            ),
            "recording": (
                "Recording or withdrawing a consent is itself processing: the controller must "
                "be able to demonstrate consent (Art 7(1)), so it needs no consent and rests "
                "on a legal obligation."
            ),
        },
        "actions": [
            {
                "action": action.value,
                "reading": action in READING_ACTIONS,
                "never_rests_on_consent": action in CONSENT_FREE_ACTIONS,
                "bases": _bases_document(ACTION_BASES[action]) if action in ACTION_BASES else None,
            }
            for action in Action
        ],
        "gateways": [
            {
                "name": gateway.name,
                "text": gateway.text,
                "purposes": _values(gateway.purposes, Purpose),
            }
            for gateway in LEGAL_GATEWAYS
        ],
        "min_justification_length": MIN_JUSTIFICATION_LENGTH,
        "decision_order": [
            {
                "step": step.number,
                "reasons": [reason.value for reason in step.reasons],
                "rule": step.rule,
            }
            for step in DECISION_ORDER
        ],
    }
