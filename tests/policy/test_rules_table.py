"""Every role x purpose x category against DOMAIN.md's tables, written out here literally.

The expectations below are copied from DOMAIN.md by hand, not computed from
app/policy/rules.py, so a slip in either shows up as a failing row.
"""

import json
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from app.policy import rules
from app.policy.engine import decide
from app.policy.model import Ask, ConsentFact, Decision, RecordState
from app.policy.vocabulary import (
    Action,
    Basis,
    Category,
    ConsentType,
    Purpose,
    Reason,
    Role,
    SubjectKind,
)

TODAY = date(2025, 6, 2)
NURSERY = UUID("393afe6b-e844-5168-8740-9110acd48874")
JUSTIFICATION = "Disclosure by the child's carer at nursery pick-up"

# DOMAIN.md, "Roles and the purposes they may declare".
EXPECTED_ROLE_PURPOSES: dict[str, set[str]] = {
    "health_visitor": {
        "service_invitation",
        "needs_assessment",
        "early_help",
        "health_care",
        "safeguarding",
    },
    "childrens_centre_worker": {
        "service_invitation",
        "needs_assessment",
        "early_help",
        "safeguarding",
    },
    "family_worker": {"service_invitation", "needs_assessment", "early_help", "safeguarding"},
    "camhs_clinician": {"health_care", "safeguarding"},
    "speech_language_therapist": {"health_care", "safeguarding"},
    "nursery_practitioner": {"nursery_care", "safeguarding"},
    "public_health_analyst": {"take_up_monitoring", "impact_evaluation"},
    "data_protection_officer": {"subject_rights", "legal_claims"},
}

EVERY_CATEGORY = {
    "identity",
    "contact",
    "household",
    "circumstances",
    "ethnicity",
    "health",
    "safeguarding",
    "education",
    "services",
}

# DOMAIN.md, "Purposes", column "categories it may reach". The aggregate purposes reach
# the date of birth (identity) for age bands and the postcode (contact) for areas.
EXPECTED_PURPOSE_CATEGORIES: dict[str, set[str]] = {
    "service_invitation": {"identity", "contact"},
    "take_up_monitoring": {"identity", "contact", "services", "ethnicity"},
    "impact_evaluation": {"identity", "contact", "services", "health", "education"},
    "needs_assessment": {"identity", "contact", "circumstances"},
    "early_help": {
        "identity",
        "contact",
        "household",
        "circumstances",
        "ethnicity",
        "health",
        "education",
        "services",
    },
    "health_care": {"identity", "contact", "household", "ethnicity", "health", "services"},
    "nursery_care": {"identity", "contact", "household", "health", "safeguarding"},
    "safeguarding": EVERY_CATEGORY,
    "subject_rights": EVERY_CATEGORY,
    "legal_claims": EVERY_CATEGORY,
}

AGGREGATE_ONLY = {"take_up_monitoring", "impact_evaluation"}

# DOMAIN.md, "Purposes", column "lawful basis": the Art 6 basis, then per Art 9
# category the condition and its Schedule 1 paragraph.
ExpectedBases = tuple[str, dict[str, tuple[str, int | None]]]
SAFEGUARDING_INTEREST = ("art9-2-g", 18)
EXPECTED_BASES: dict[str, ExpectedBases] = {
    "service_invitation": ("art6-1-e", {}),
    "take_up_monitoring": ("art6-1-e", {"ethnicity": ("art9-2-g", 8)}),
    "impact_evaluation": ("art6-1-e", {"health": ("art9-2-h", 2)}),
    "needs_assessment": ("art6-1-e", {}),
    "early_help": ("art6-1-a", {"ethnicity": ("art9-2-a", None), "health": ("art9-2-a", None)}),
    "health_care": ("art6-1-e", {"ethnicity": ("art9-2-h", 2), "health": ("art9-2-h", 2)}),
    "nursery_care": (
        "art6-1-e",
        {"health": SAFEGUARDING_INTEREST, "safeguarding": SAFEGUARDING_INTEREST},
    ),
    "safeguarding": (
        "art6-1-e",
        {
            "ethnicity": SAFEGUARDING_INTEREST,
            "health": SAFEGUARDING_INTEREST,
            "safeguarding": SAFEGUARDING_INTEREST,
        },
    ),
    "subject_rights": (
        "art6-1-c",
        {"ethnicity": ("art9-2-g", 6), "health": ("art9-2-g", 6), "safeguarding": ("art9-2-g", 6)},
    ),
    "legal_claims": (
        "art6-1-e",
        {
            "ethnicity": ("art9-2-f", None),
            "health": ("art9-2-f", None),
            "safeguarding": ("art9-2-f", None),
        },
    ),
}

# Early help where a child protection plan is active: no consent.
EXPECTED_CP_PLAN_BASES: ExpectedBases = (
    "art6-1-e",
    {"ethnicity": SAFEGUARDING_INTEREST, "health": SAFEGUARDING_INTEREST},
)

ROLES = sorted(EXPECTED_ROLE_PURPOSES)
PURPOSES = sorted(EXPECTED_PURPOSE_CATEGORIES)
CATEGORIES = sorted(EVERY_CATEGORY)


def well_placed_ask(role: str, purpose: str, category: str, action: Action) -> Ask:
    """An ask that passes every step but the ones the tables decide."""
    return Ask(
        role=Role(role),
        org="E09000007",
        purpose=Purpose(purpose),
        action=action,
        categories=frozenset({Category(category)}),
        on=TODAY,
        justification=JUSTIFICATION,
        nursery_id=NURSERY,
    )


# A child at the caller's nursery who consented to early help in every category.
WELL_PLACED_CHILD = RecordState(
    kind=SubjectKind.CHILD,
    nursery_ids=frozenset({NURSERY}),
    consents=(
        ConsentFact(
            type=ConsentType.EARLY_HELP_SUPPORT,
            categories=frozenset(Category),
            recipient=None,
            withdrawn=False,
        ),
    ),
)


def cited(decision: Decision) -> tuple[str, dict[str, tuple[str, int | None]]]:
    art6 = [c.basis.value for c in decision.bases if c.basis.value.startswith("art6")]
    assert len(art6) == 1
    art9 = {
        category.value: (c.basis.value, c.schedule1_paragraph)
        for c in decision.bases
        if c.basis.value.startswith("art9")
        for category in c.categories
    }
    return art6[0], art9


def expected_citation(expected: ExpectedBases, category: str) -> ExpectedBases:
    art6, art9 = expected
    return art6, {category: art9[category]} if category in art9 else {}


def assert_as_the_table_says(decision: Decision, role: str, purpose: str, category: str) -> None:
    declarable = purpose in EXPECTED_ROLE_PURPOSES[role]
    if not declarable or category not in EXPECTED_PURPOSE_CATEGORIES[purpose]:
        assert (decision.allowed, decision.reason) == (False, Reason.PURPOSE_NOT_PERMITTED)
    else:
        assert (decision.allowed, decision.reason) == (True, Reason.ALLOWED)
        assert decision.allowed_categories == {Category(category)}
        assert cited(decision) == expected_citation(EXPECTED_BASES[purpose], category)


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("role", ROLES)
def test_a_read_of_one_category_is_decided_as_domain_md_tables_say(
    role: str, purpose: str, category: str
) -> None:
    action = Action.AGGREGATE if purpose in AGGREGATE_ONLY else Action.READ
    decision = decide(well_placed_ask(role, purpose, category, action), WELL_PLACED_CHILD)
    assert_as_the_table_says(decision, role, purpose, category)


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("role", ROLES)
def test_a_write_of_one_category_is_decided_as_domain_md_tables_say(
    role: str, purpose: str, category: str
) -> None:
    decision = decide(well_placed_ask(role, purpose, category, Action.WRITE), WELL_PLACED_CHILD)
    if purpose in AGGREGATE_ONLY:
        # No row-level data under the aggregate purposes: a write is never one.
        assert (decision.allowed, decision.reason) == (False, Reason.PURPOSE_NOT_PERMITTED)
    else:
        assert_as_the_table_says(decision, role, purpose, category)


@pytest.mark.parametrize("category", sorted(EXPECTED_PURPOSE_CATEGORIES["early_help"]))
@pytest.mark.parametrize(
    "role", sorted(r for r, purposes in EXPECTED_ROLE_PURPOSES.items() if "early_help" in purposes)
)
def test_early_help_under_a_child_protection_plan_rests_on_public_task(
    role: str, category: str
) -> None:
    ask = well_placed_ask(role, "early_help", category, Action.READ)
    decision = decide(ask, RecordState(kind=SubjectKind.CHILD, cp_plan_active=True))
    assert decision.allowed
    assert cited(decision) == expected_citation(EXPECTED_CP_PLAN_BASES, category)


@pytest.mark.parametrize("purpose", sorted(AGGREGATE_ONLY))
@pytest.mark.parametrize(
    "action", [Action.READ, Action.LIST, Action.WRITE, Action.SHARE, Action.RECORD_CONSENT]
)
def test_the_aggregate_purposes_allow_only_aggregates(purpose: str, action: Action) -> None:
    ask = well_placed_ask("public_health_analyst", purpose, "services", action)
    assert decide(ask, WELL_PLACED_CHILD).reason is Reason.PURPOSE_NOT_PERMITTED


@pytest.mark.parametrize(
    ("role", "purpose"),
    [
        (role, purpose)
        for role, purposes in sorted(EXPECTED_ROLE_PURPOSES.items())
        for purpose in sorted(purposes - AGGREGATE_ONLY)
    ],
)
def test_only_the_aggregate_purposes_allow_an_aggregate(role: str, purpose: str) -> None:
    ask = well_placed_ask(role, purpose, "identity", Action.AGGREGATE)
    assert decide(ask, WELL_PLACED_CHILD).reason is Reason.PURPOSE_NOT_PERMITTED


# Recording or withdrawing a consent: Art 7(1), a legal obligation, whatever the purpose;
# special categories on Sch 1 para 6, as for subject rights.
EXPECTED_RECORD_CONSENT_BASES: ExpectedBases = (
    "art6-1-c",
    {"ethnicity": ("art9-2-g", 6), "health": ("art9-2-g", 6), "safeguarding": ("art9-2-g", 6)},
)

# A child at the caller's nursery with no consent at all.
CHILD_WITHOUT_CONSENT = RecordState(kind=SubjectKind.CHILD, nursery_ids=frozenset({NURSERY}))


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("role", ROLES)
def test_recording_a_consent_of_one_category_is_decided_as_domain_md_tables_say(
    role: str, purpose: str, category: str
) -> None:
    ask = well_placed_ask(role, purpose, category, Action.RECORD_CONSENT)
    decision = decide(ask, CHILD_WITHOUT_CONSENT)
    declarable = purpose in EXPECTED_ROLE_PURPOSES[role]
    reachable = category in EXPECTED_PURPOSE_CATEGORIES[purpose]
    if purpose in AGGREGATE_ONLY or not declarable or not reachable:
        assert (decision.allowed, decision.reason) == (False, Reason.PURPOSE_NOT_PERMITTED)
    else:
        assert (decision.allowed, decision.reason) == (True, Reason.ALLOWED)
        assert decision.allowed_categories == {Category(category)}
        assert cited(decision) == expected_citation(EXPECTED_RECORD_CONSENT_BASES, category)


# The rule tables themselves ------------------------------------------------------------


def test_role_purposes_table_is_domain_md_table() -> None:
    table = {role.value: {p.value for p in ps} for role, ps in rules.ROLE_PURPOSES.items()}
    assert table == EXPECTED_ROLE_PURPOSES


def test_purpose_categories_table_is_domain_md_table() -> None:
    table = {p.value: {c.value for c in cs} for p, cs in rules.PURPOSE_CATEGORIES.items()}
    assert table == EXPECTED_PURPOSE_CATEGORIES


def test_every_purpose_names_a_condition_for_each_art9_category_it_reaches() -> None:
    for purpose, bases in rules.PURPOSE_BASES.items():
        reached = rules.PURPOSE_CATEGORIES[purpose] & {
            Category.ETHNICITY,
            Category.HEALTH,
            Category.SAFEGUARDING,
        }
        assert set(bases.art9) == reached, purpose


def test_restriction_exempts_subject_rights_legal_claims_and_safeguarding() -> None:
    assert {p.value for p in rules.RESTRICTION_EXEMPT} == {
        "subject_rights",
        "legal_claims",
        "safeguarding",
    }


def test_an_upheld_objection_stops_the_four_public_task_purposes() -> None:
    assert {p.value for p in rules.OBJECTION_STOPS} == {
        "service_invitation",
        "needs_assessment",
        "take_up_monitoring",
        "impact_evaluation",
    }


def test_early_help_is_the_one_purpose_resting_on_consent() -> None:
    assert dict(rules.CONSENT_PURPOSES) == {Purpose.EARLY_HELP: ConsentType.EARLY_HELP_SUPPORT}


def test_recording_a_consent_is_the_one_action_that_never_rests_on_consent() -> None:
    assert {a.value for a in rules.CONSENT_FREE_ACTIONS} == {"record_consent"}
    assert {a.value for a in rules.ACTION_BASES} == {"record_consent"}


def test_the_gateways_are_the_children_acts_and_the_nhs_act() -> None:
    assert [g.name for g in rules.LEGAL_GATEWAYS] == [
        "Children Act 1989 and 2004",
        "National Health Service Act 2006",
    ]


def test_every_basis_has_legal_text() -> None:
    assert set(rules.BASIS_TEXT) == set(Basis)
    assert all(text.strip() for text in rules.BASIS_TEXT.values())


# GET /v1/policy -----------------------------------------------------------------------


def published() -> Any:
    """The policy document as a client receives it."""
    return json.loads(json.dumps(rules.policy_document()))


def test_the_policy_document_survives_a_json_round_trip() -> None:
    assert published() == rules.policy_document()


def test_the_policy_document_lists_the_nine_steps_in_order() -> None:
    steps = published()["decision_order"]
    assert [step["step"] for step in steps] == list(range(1, 10))
    assert all(step["rule"] for step in steps)


def test_the_policy_document_lists_roles_with_their_purposes() -> None:
    table = {row["role"]: set(row["purposes"]) for row in published()["roles"]}
    assert table == EXPECTED_ROLE_PURPOSES


def test_the_policy_document_marks_ethnicity_and_health_special() -> None:
    special = {row["category"] for row in published()["categories"] if row["special"]}
    assert special == {"ethnicity", "health"}


@pytest.mark.parametrize("purpose", PURPOSES)
def test_the_policy_document_names_each_purpose_categories_and_bases(purpose: str) -> None:
    (row,) = [row for row in published()["purposes"] if row["purpose"] == purpose]
    art6, art9 = EXPECTED_BASES[purpose]
    assert set(row["categories"]) == EXPECTED_PURPOSE_CATEGORIES[purpose]
    assert row["bases"]["art6"]["code"] == art6
    assert {
        category: (condition["code"], condition["schedule1_paragraph"])
        for category, condition in row["bases"]["art9"].items()
    } == art9


def test_the_policy_document_names_the_consent_early_help_rests_on() -> None:
    (rule,) = published()["consent"]["purposes"]
    assert rule == {
        "purpose": "early_help",
        "consent_type": "early_help_support",
        "not_needed_with_active_child_protection_plan": True,
    }


def test_the_policy_document_says_recording_a_consent_rests_on_a_legal_obligation() -> None:
    (row,) = [row for row in published()["actions"] if row["action"] == "record_consent"]
    art6, art9 = EXPECTED_RECORD_CONSENT_BASES
    assert row["never_rests_on_consent"] is True
    assert row["reading"] is False
    assert row["bases"]["art6"]["code"] == art6
    assert {
        category: (condition["code"], condition["schedule1_paragraph"])
        for category, condition in row["bases"]["art9"].items()
    } == art9


def test_the_policy_document_lists_every_action() -> None:
    assert [row["action"] for row in published()["actions"]] == [
        "read",
        "write",
        "share",
        "list",
        "aggregate",
        "record_consent",
    ]
