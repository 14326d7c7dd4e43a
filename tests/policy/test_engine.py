"""DOMAIN.md's decision order, one behaviour per test."""

from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID

import pytest

from app.policy.engine import STEPS, decide
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
OWN_NURSERY = UUID("393afe6b-e844-5168-8740-9110acd48874")
OTHER_NURSERY = UUID("40308bbe-8d09-5cb5-8818-2cc0b2ff1f5c")
JUSTIFICATION = "Bruising seen on the child's arm at today's home visit"
EARLY_HELP_SUPPORT = ConsentType.EARLY_HELP_SUPPORT
PCPS = ConsentType.PCPS_INFORMATION_SHARING_AND_VIDEO_RECORDING
ORG = {
    Role.HEALTH_VISITOR: "RV3",
    Role.CAMHS_CLINICIAN: "RNK",
    Role.SPEECH_LANGUAGE_THERAPIST: "RNK",
}

ID, C, CI = Category.IDENTITY, Category.CONTACT, Category.CIRCUMSTANCES
ETH, HEALTH, SG = Category.ETHNICITY, Category.HEALTH, Category.SAFEGUARDING
EDU, SVC = Category.EDUCATION, Category.SERVICES


def asking(
    role: Role,
    purpose: Purpose,
    *categories: Category,
    action: Action = Action.READ,
    justification: str | None = None,
    nursery_id: UUID | None = None,
    recipient: str | None = None,
    recipient_consent_type: ConsentType | None = None,
    on: date = TODAY,
) -> Ask:
    return Ask(
        role=role,
        org=ORG.get(role, "E09000007"),
        purpose=purpose,
        action=action,
        categories=frozenset(categories or (ID,)),
        on=on,
        justification=justification,
        nursery_id=nursery_id,
        recipient=recipient,
        recipient_consent_type=recipient_consent_type,
    )


def consent(
    consent_type: ConsentType,
    *categories: Category,
    recipient: str | None = None,
    withdrawn: bool = False,
) -> ConsentFact:
    return ConsentFact(
        type=consent_type,
        categories=frozenset(categories),
        recipient=recipient,
        withdrawn=withdrawn,
    )


CHILD = RecordState(kind=SubjectKind.CHILD)
NURSERY_CHILD = RecordState(kind=SubjectKind.CHILD, nursery_ids=frozenset({OWN_NURSERY}))
ALL = frozenset(Category)


def basis_set(decision: Decision) -> set[tuple[Basis, int | None, frozenset[Category]]]:
    return {(c.basis, c.schedule1_paragraph, c.categories) for c in decision.bases}


def assert_denied(decision: Decision, reason: Reason, ask: Ask) -> None:
    assert not decision.allowed
    assert decision.reason is reason
    assert decision.bases == ()
    assert decision.allowed_categories == frozenset()
    assert decision.withheld_categories == ask.categories
    assert not decision.review_required


def test_the_steps_run_in_domain_md_order() -> None:
    # Objection (6) and justification (7) never apply to the same purpose, so only the
    # table itself can show they are in DOMAIN.md's order.
    assert [step.__name__ for step in STEPS] == [
        "gone",
        "purpose_permitted",
        "in_scope",
        "known",
        "within_retention",
        "not_restricted",
        "not_objected",
        "justified",
        "consented",
    ]


# Step 1: gone ------------------------------------------------------------------------


def test_a_gone_record_is_denied_as_gone() -> None:
    ask = asking(Role.HEALTH_VISITOR, Purpose.HEALTH_CARE, HEALTH)
    assert_denied(decide(ask, replace(CHILD, gone=True)), Reason.GONE, ask)


def test_a_gone_record_is_gone_even_for_a_purpose_the_role_may_not_declare() -> None:
    ask = asking(Role.PUBLIC_HEALTH_ANALYST, Purpose.SAFEGUARDING)
    assert decide(ask, replace(CHILD, gone=True)).reason is Reason.GONE


def test_a_gone_record_is_gone_for_the_data_protection_officer() -> None:
    ask = asking(Role.DATA_PROTECTION_OFFICER, Purpose.SUBJECT_RIGHTS)
    assert decide(ask, replace(CHILD, gone=True)).reason is Reason.GONE


# Step 2: purpose ---------------------------------------------------------------------


def test_a_role_may_not_declare_a_purpose_it_does_not_hold() -> None:
    ask = asking(Role.CHILDRENS_CENTRE_WORKER, Purpose.HEALTH_CARE, HEALTH)
    assert_denied(decide(ask, CHILD), Reason.PURPOSE_NOT_PERMITTED, ask)


def test_public_health_analyst_cannot_read_one_record_under_take_up_monitoring() -> None:
    ask = asking(Role.PUBLIC_HEALTH_ANALYST, Purpose.TAKE_UP_MONITORING, ETH)
    assert decide(ask, CHILD).reason is Reason.PURPOSE_NOT_PERMITTED


@pytest.mark.parametrize("action", [Action.READ, Action.LIST, Action.WRITE, Action.SHARE])
def test_impact_evaluation_allows_nothing_but_aggregates(action: Action) -> None:
    ask = asking(Role.PUBLIC_HEALTH_ANALYST, Purpose.IMPACT_EVALUATION, SVC, action=action)
    assert decide(ask, CHILD).reason is Reason.PURPOSE_NOT_PERMITTED


def test_public_health_analyst_may_aggregate_under_take_up_monitoring() -> None:
    ask = asking(
        Role.PUBLIC_HEALTH_ANALYST,
        Purpose.TAKE_UP_MONITORING,
        ID,
        C,
        ETH,
        SVC,
        action=Action.AGGREGATE,
    )
    decision = decide(ask, RecordState(kind=SubjectKind.FAMILY))
    assert decision.allowed
    assert decision.allowed_categories == {ID, C, ETH, SVC}


def test_an_aggregate_is_refused_for_a_care_purpose() -> None:
    ask = asking(Role.HEALTH_VISITOR, Purpose.HEALTH_CARE, HEALTH, action=Action.AGGREGATE)
    assert decide(ask, RecordState(kind=SubjectKind.FAMILY)).reason is (
        Reason.PURPOSE_NOT_PERMITTED
    )


def test_safeguarding_never_reaches_a_list() -> None:
    ask = asking(
        Role.FAMILY_WORKER,
        Purpose.SAFEGUARDING,
        ID,
        C,
        action=Action.LIST,
        justification=JUSTIFICATION,
    )
    assert_denied(decide(ask, CHILD), Reason.PURPOSE_NOT_PERMITTED, ask)


def test_service_invitation_may_list() -> None:
    ask = asking(
        Role.CHILDRENS_CENTRE_WORKER, Purpose.SERVICE_INVITATION, ID, C, action=Action.LIST
    )
    assert decide(ask, CHILD).allowed


def test_a_read_drops_categories_the_purpose_cannot_reach_and_names_them() -> None:
    ask = asking(Role.HEALTH_VISITOR, Purpose.SERVICE_INVITATION, ID, C, HEALTH, SG)
    decision = decide(ask, CHILD)
    assert decision.allowed
    assert decision.allowed_categories == {ID, C}
    assert decision.withheld_categories == {HEALTH, SG}


def test_a_read_left_with_no_category_is_denied() -> None:
    ask = asking(Role.HEALTH_VISITOR, Purpose.SERVICE_INVITATION, HEALTH, SG)
    assert_denied(decide(ask, CHILD), Reason.PURPOSE_NOT_PERMITTED, ask)


def test_needs_assessment_never_reaches_ethnicity() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.NEEDS_ASSESSMENT, ID, C, CI, ETH, action=Action.LIST)
    decision = decide(ask, CHILD)
    assert decision.allowed_categories == {ID, C, CI}
    assert decision.withheld_categories == {ETH}


def test_a_write_to_a_category_the_purpose_cannot_reach_is_denied() -> None:
    ask = asking(Role.HEALTH_VISITOR, Purpose.HEALTH_CARE, HEALTH, SG, action=Action.WRITE)
    assert_denied(decide(ask, CHILD), Reason.PURPOSE_NOT_PERMITTED, ask)


def test_a_share_of_a_category_the_purpose_cannot_reach_is_denied() -> None:
    ask = asking(
        Role.CAMHS_CLINICIAN,
        Purpose.HEALTH_CARE,
        HEALTH,
        EDU,
        action=Action.SHARE,
        recipient="ipinfa",
        recipient_consent_type=PCPS,
    )
    record = replace(CHILD, consents=(consent(PCPS, *ALL, recipient="ipinfa"),))
    assert decide(ask, record).reason is Reason.PURPOSE_NOT_PERMITTED


# Step 3: scope -----------------------------------------------------------------------


def test_nursery_practitioner_reads_a_child_at_their_nursery() -> None:
    ask = asking(
        Role.NURSERY_PRACTITIONER, Purpose.NURSERY_CARE, ID, HEALTH, nursery_id=OWN_NURSERY
    )
    assert decide(ask, NURSERY_CHILD).allowed


def test_nursery_practitioner_cannot_read_a_child_at_another_nursery() -> None:
    ask = asking(Role.NURSERY_PRACTITIONER, Purpose.NURSERY_CARE, ID, nursery_id=OTHER_NURSERY)
    assert_denied(decide(ask, NURSERY_CHILD), Reason.OUT_OF_SCOPE, ask)


def test_nursery_practitioner_cannot_read_a_child_attending_no_nursery() -> None:
    ask = asking(Role.NURSERY_PRACTITIONER, Purpose.NURSERY_CARE, ID, nursery_id=OWN_NURSERY)
    assert decide(ask, CHILD).reason is Reason.OUT_OF_SCOPE


def test_nursery_practitioner_without_a_nursery_is_out_of_scope() -> None:
    ask = asking(Role.NURSERY_PRACTITIONER, Purpose.NURSERY_CARE, ID)
    assert decide(ask, NURSERY_CHILD).reason is Reason.OUT_OF_SCOPE


@pytest.mark.parametrize(
    "kind", [SubjectKind.CARER, SubjectKind.HOUSEHOLD_MEMBER, SubjectKind.FAMILY]
)
def test_nursery_practitioner_cannot_reach_anyone_but_the_child(kind: SubjectKind) -> None:
    ask = asking(Role.NURSERY_PRACTITIONER, Purpose.NURSERY_CARE, ID, nursery_id=OWN_NURSERY)
    assert decide(ask, replace(NURSERY_CHILD, kind=kind)).reason is Reason.OUT_OF_SCOPE


def test_nursery_practitioner_safeguarding_is_scoped_to_their_nursery() -> None:
    ask = asking(
        Role.NURSERY_PRACTITIONER,
        Purpose.SAFEGUARDING,
        SG,
        justification=JUSTIFICATION,
        nursery_id=OTHER_NURSERY,
    )
    assert decide(ask, NURSERY_CHILD).reason is Reason.OUT_OF_SCOPE


def test_scope_does_not_bind_a_health_visitor_reading_a_carer() -> None:
    ask = asking(Role.HEALTH_VISITOR, Purpose.HEALTH_CARE, ID, HEALTH)
    assert decide(ask, RecordState(kind=SubjectKind.CARER)).allowed


def test_scope_is_checked_after_purpose() -> None:
    ask = asking(Role.NURSERY_PRACTITIONER, Purpose.EARLY_HELP, ID)
    assert decide(ask, RecordState(kind=SubjectKind.CARER)).reason is (Reason.PURPOSE_NOT_PERMITTED)


# Step 4: retention -------------------------------------------------------------------


def test_retention_expires_on_the_destruction_date() -> None:
    ask = asking(Role.HEALTH_VISITOR, Purpose.HEALTH_CARE, HEALTH)
    record = replace(CHILD, destruction_date=TODAY)
    assert_denied(decide(ask, record), Reason.RETENTION_EXPIRED, ask)


def test_retention_has_expired_after_the_destruction_date() -> None:
    ask = asking(Role.HEALTH_VISITOR, Purpose.HEALTH_CARE, HEALTH)
    record = replace(CHILD, destruction_date=TODAY - timedelta(days=30))
    assert decide(ask, record).reason is Reason.RETENTION_EXPIRED


def test_retention_has_not_expired_the_day_before_the_destruction_date() -> None:
    ask = asking(Role.HEALTH_VISITOR, Purpose.HEALTH_CARE, HEALTH)
    record = replace(CHILD, destruction_date=TODAY + timedelta(days=1))
    assert decide(ask, record).allowed


@pytest.mark.parametrize("purpose", [Purpose.SUBJECT_RIGHTS, Purpose.LEGAL_CLAIMS])
def test_data_protection_officer_reaches_a_record_past_its_destruction_date(
    purpose: Purpose,
) -> None:
    ask = asking(Role.DATA_PROTECTION_OFFICER, purpose, *ALL)
    record = replace(CHILD, destruction_date=TODAY)
    assert decide(ask, record).allowed


def test_safeguarding_does_not_lift_an_expired_retention() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.SAFEGUARDING, SG, justification=JUSTIFICATION)
    record = replace(CHILD, destruction_date=TODAY)
    assert decide(ask, record).reason is Reason.RETENTION_EXPIRED


def test_retention_is_checked_after_scope() -> None:
    ask = asking(Role.NURSERY_PRACTITIONER, Purpose.NURSERY_CARE, ID, nursery_id=OTHER_NURSERY)
    record = replace(NURSERY_CHILD, destruction_date=TODAY)
    assert decide(ask, record).reason is Reason.OUT_OF_SCOPE


# Step 5: restriction -----------------------------------------------------------------


def test_restriction_denies_service_invitation() -> None:
    ask = asking(Role.CHILDRENS_CENTRE_WORKER, Purpose.SERVICE_INVITATION, ID, C)
    assert_denied(decide(ask, replace(CHILD, restricted=True)), Reason.PROCESSING_RESTRICTED, ask)


def test_restriction_denies_health_care() -> None:
    ask = asking(Role.HEALTH_VISITOR, Purpose.HEALTH_CARE, HEALTH)
    assert decide(ask, replace(CHILD, restricted=True)).reason is Reason.PROCESSING_RESTRICTED


def test_restriction_denies_early_help_even_with_consent() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.EARLY_HELP, ID)
    record = replace(CHILD, restricted=True, consents=(consent(EARLY_HELP_SUPPORT, *ALL),))
    assert decide(ask, record).reason is Reason.PROCESSING_RESTRICTED


def test_restriction_lets_safeguarding_go_on() -> None:
    ask = asking(Role.HEALTH_VISITOR, Purpose.SAFEGUARDING, SG, justification=JUSTIFICATION)
    assert decide(ask, replace(CHILD, restricted=True)).allowed


@pytest.mark.parametrize("purpose", [Purpose.SUBJECT_RIGHTS, Purpose.LEGAL_CLAIMS])
def test_restriction_lets_the_officers_purposes_go_on(purpose: Purpose) -> None:
    ask = asking(Role.DATA_PROTECTION_OFFICER, purpose, *ALL)
    assert decide(ask, replace(CHILD, restricted=True)).allowed


def test_restriction_is_checked_after_retention() -> None:
    ask = asking(Role.HEALTH_VISITOR, Purpose.HEALTH_CARE, HEALTH)
    record = replace(CHILD, restricted=True, destruction_date=TODAY)
    assert decide(ask, record).reason is Reason.RETENTION_EXPIRED


# Step 6: objection -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "purpose", "action"),
    [
        (Role.CHILDRENS_CENTRE_WORKER, Purpose.SERVICE_INVITATION, Action.READ),
        (Role.FAMILY_WORKER, Purpose.NEEDS_ASSESSMENT, Action.LIST),
        (Role.PUBLIC_HEALTH_ANALYST, Purpose.TAKE_UP_MONITORING, Action.AGGREGATE),
        (Role.PUBLIC_HEALTH_ANALYST, Purpose.IMPACT_EVALUATION, Action.AGGREGATE),
    ],
)
def test_an_upheld_objection_denies_the_public_task_purposes(
    role: Role, purpose: Purpose, action: Action
) -> None:
    ask = asking(role, purpose, ID, action=action)
    record = replace(CHILD, objection_upheld=True)
    assert_denied(decide(ask, record), Reason.OBJECTION_UPHELD, ask)


def test_an_upheld_objection_lets_health_care_go_on() -> None:
    ask = asking(Role.SPEECH_LANGUAGE_THERAPIST, Purpose.HEALTH_CARE, HEALTH)
    assert decide(ask, replace(CHILD, objection_upheld=True)).allowed


def test_an_upheld_objection_lets_safeguarding_go_on() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.SAFEGUARDING, SG, justification=JUSTIFICATION)
    assert decide(ask, replace(CHILD, objection_upheld=True)).allowed


def test_an_upheld_objection_does_not_stop_early_help_on_consent() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.EARLY_HELP, ID)
    record = replace(CHILD, objection_upheld=True, consents=(consent(EARLY_HELP_SUPPORT, *ALL),))
    assert decide(ask, record).allowed


def test_objection_is_checked_after_restriction() -> None:
    ask = asking(Role.CHILDRENS_CENTRE_WORKER, Purpose.SERVICE_INVITATION, ID)
    record = replace(CHILD, objection_upheld=True, restricted=True)
    assert decide(ask, record).reason is Reason.PROCESSING_RESTRICTED


def test_objection_is_checked_before_consent_for_a_share() -> None:
    ask = asking(
        Role.HEALTH_VISITOR,
        Purpose.SERVICE_INVITATION,
        ID,
        action=Action.SHARE,
        recipient="gp_practice",
    )
    assert decide(ask, replace(CHILD, objection_upheld=True)).reason is Reason.OBJECTION_UPHELD


# Step 7: justification ---------------------------------------------------------------


def test_safeguarding_without_a_justification_is_denied() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.SAFEGUARDING, SG)
    assert_denied(decide(ask, CHILD), Reason.JUSTIFICATION_REQUIRED, ask)


def test_safeguarding_with_a_19_character_justification_is_denied() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.SAFEGUARDING, SG, justification="x" * 19)
    assert decide(ask, CHILD).reason is Reason.JUSTIFICATION_REQUIRED


def test_safeguarding_with_a_20_character_justification_is_allowed() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.SAFEGUARDING, SG, justification="x" * 20)
    assert decide(ask, CHILD).allowed


def test_whitespace_does_not_count_towards_a_justification() -> None:
    padded = "   " + "x" * 19 + "\n\t    "
    ask = asking(Role.FAMILY_WORKER, Purpose.SAFEGUARDING, SG, justification=padded)
    assert decide(ask, CHILD).reason is Reason.JUSTIFICATION_REQUIRED


def test_justification_is_checked_after_retention() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.SAFEGUARDING, SG)
    assert decide(ask, replace(CHILD, destruction_date=TODAY)).reason is (Reason.RETENTION_EXPIRED)


def test_an_allowed_safeguarding_read_is_flagged_for_review() -> None:
    ask = asking(Role.HEALTH_VISITOR, Purpose.SAFEGUARDING, *ALL, justification=JUSTIFICATION)
    decision = decide(ask, CHILD)
    assert decision.allowed
    assert decision.review_required


def test_an_allowed_health_care_read_is_not_flagged_for_review() -> None:
    ask = asking(Role.HEALTH_VISITOR, Purpose.HEALTH_CARE, HEALTH)
    assert not decide(ask, CHILD).review_required


# Step 8: consent for early help ------------------------------------------------------


def test_early_help_without_any_consent_is_denied() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.EARLY_HELP, ID, HEALTH)
    assert_denied(decide(ask, CHILD), Reason.CONSENT_REQUIRED, ask)


def test_early_help_with_only_withdrawn_consent_is_denied_as_withdrawn() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.EARLY_HELP, ID, HEALTH)
    record = replace(CHILD, consents=(consent(EARLY_HELP_SUPPORT, *ALL, withdrawn=True),))
    assert_denied(decide(ask, record), Reason.CONSENT_WITHDRAWN, ask)


def test_a_pcps_consent_does_not_serve_for_early_help() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.EARLY_HELP, ID)
    record = replace(CHILD, consents=(consent(PCPS, *ALL, recipient="ipinfa"),))
    assert decide(ask, record).reason is Reason.CONSENT_REQUIRED


def test_early_help_on_consent_names_consent_bases() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.EARLY_HELP, ID, ETH, HEALTH)
    record = replace(CHILD, consents=(consent(EARLY_HELP_SUPPORT, ID, ETH, HEALTH),))
    decision = decide(ask, record)
    assert decision.allowed
    assert basis_set(decision) == {
        (Basis.ART6_1_A, None, frozenset()),
        (Basis.ART9_2_A, None, frozenset({ETH, HEALTH})),
    }
    assert decision.consent_types == (EARLY_HELP_SUPPORT,)


def test_an_active_consent_beside_a_withdrawn_one_allows_early_help() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.EARLY_HELP, ID)
    record = replace(
        CHILD,
        consents=(
            consent(EARLY_HELP_SUPPORT, *ALL, withdrawn=True),
            consent(EARLY_HELP_SUPPORT, ID, C),
        ),
    )
    assert decide(ask, record).allowed


def test_an_early_help_read_drops_categories_the_consent_does_not_cover() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.EARLY_HELP, ID, C, HEALTH, EDU)
    record = replace(CHILD, consents=(consent(EARLY_HELP_SUPPORT, ID, C),))
    decision = decide(ask, record)
    assert decision.allowed
    assert decision.allowed_categories == {ID, C}
    assert decision.withheld_categories == {HEALTH, EDU}
    assert basis_set(decision) == {(Basis.ART6_1_A, None, frozenset())}


def test_a_withdrawn_consent_no_longer_covers_its_categories() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.EARLY_HELP, ID, HEALTH)
    record = replace(
        CHILD,
        consents=(
            consent(EARLY_HELP_SUPPORT, ID),
            consent(EARLY_HELP_SUPPORT, HEALTH, withdrawn=True),
        ),
    )
    decision = decide(ask, record)
    assert decision.allowed_categories == {ID}
    assert decision.withheld_categories == {HEALTH}


def test_an_early_help_read_the_consent_covers_none_of_is_denied() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.EARLY_HELP, HEALTH)
    record = replace(CHILD, consents=(consent(EARLY_HELP_SUPPORT, ID, C),))
    assert_denied(decide(ask, record), Reason.CONSENT_REQUIRED, ask)


def test_an_early_help_write_of_a_category_the_consent_does_not_cover_is_denied() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.EARLY_HELP, C, HEALTH, action=Action.WRITE)
    record = replace(CHILD, consents=(consent(EARLY_HELP_SUPPORT, ID, C),))
    assert decide(ask, record).reason is Reason.CONSENT_REQUIRED


def test_early_help_under_a_child_protection_plan_needs_no_consent() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.EARLY_HELP, ID, ETH, HEALTH)
    decision = decide(ask, replace(CHILD, cp_plan_active=True))
    assert decision.allowed
    assert decision.allowed_categories == {ID, ETH, HEALTH}
    assert basis_set(decision) == {
        (Basis.ART6_1_E, None, frozenset()),
        (Basis.ART9_2_G, 18, frozenset({ETH, HEALTH})),
    }
    assert decision.consent_types == ()


def test_a_withdrawn_consent_does_not_stop_early_help_under_a_child_protection_plan() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.EARLY_HELP, ID)
    record = replace(
        CHILD, cp_plan_active=True, consents=(consent(EARLY_HELP_SUPPORT, ID, withdrawn=True),)
    )
    assert decide(ask, record).allowed


def test_health_care_needs_no_consent() -> None:
    ask = asking(Role.HEALTH_VISITOR, Purpose.HEALTH_CARE, HEALTH)
    decision = decide(ask, CHILD)
    assert decision.allowed
    assert decision.consent_types == ()


# Step 8: consent for a share ---------------------------------------------------------


def share_to_ipinfa(*categories: Category, purpose: Purpose = Purpose.HEALTH_CARE) -> Ask:
    return asking(
        Role.CAMHS_CLINICIAN,
        purpose,
        *categories,
        action=Action.SHARE,
        recipient="ipinfa",
        recipient_consent_type=PCPS,
    )


def test_a_share_to_ipinfa_on_the_pcps_consent_is_allowed() -> None:
    ask = share_to_ipinfa(ID, HEALTH)
    record = replace(CHILD, consents=(consent(PCPS, ID, HEALTH, recipient="ipinfa"),))
    decision = decide(ask, record)
    assert decision.allowed
    assert decision.allowed_categories == {ID, HEALTH}
    assert basis_set(decision) == {
        (Basis.ART6_1_A, None, frozenset()),
        (Basis.ART9_2_A, None, frozenset({HEALTH})),
    }
    assert decision.consent_types == (PCPS,)
    assert not decision.review_required


def test_a_share_without_consent_is_denied() -> None:
    ask = share_to_ipinfa(ID)
    assert_denied(decide(ask, CHILD), Reason.CONSENT_REQUIRED, ask)


def test_a_share_on_a_withdrawn_consent_is_denied_as_withdrawn() -> None:
    ask = share_to_ipinfa(ID)
    record = replace(CHILD, consents=(consent(PCPS, ID, recipient="ipinfa", withdrawn=True),))
    assert decide(ask, record).reason is Reason.CONSENT_WITHDRAWN


def test_an_early_help_consent_does_not_permit_a_share() -> None:
    ask = share_to_ipinfa(ID)
    record = replace(CHILD, consents=(consent(EARLY_HELP_SUPPORT, *ALL),))
    assert decide(ask, record).reason is Reason.CONSENT_REQUIRED


def test_a_share_of_a_category_the_consent_does_not_cover_is_denied() -> None:
    ask = share_to_ipinfa(ID, HEALTH)
    record = replace(CHILD, consents=(consent(PCPS, ID, recipient="ipinfa"),))
    assert_denied(decide(ask, record), Reason.CONSENT_REQUIRED, ask)


def test_a_consent_for_ipinfa_does_not_permit_a_share_to_another_recipient() -> None:
    ask = asking(
        Role.CAMHS_CLINICIAN,
        Purpose.HEALTH_CARE,
        ID,
        action=Action.SHARE,
        recipient="other_programme",
        recipient_consent_type=PCPS,
    )
    record = replace(CHILD, consents=(consent(PCPS, *ALL, recipient="ipinfa"),))
    assert decide(ask, record).reason is Reason.CONSENT_REQUIRED


def test_a_share_to_a_recipient_no_consent_type_serves_is_denied() -> None:
    ask = asking(
        Role.HEALTH_VISITOR,
        Purpose.HEALTH_CARE,
        HEALTH,
        action=Action.SHARE,
        recipient="gp_practice",
    )
    record = replace(CHILD, consents=(consent(PCPS, *ALL, recipient="gp_practice"),))
    assert decide(ask, record).reason is Reason.CONSENT_REQUIRED


def test_a_share_naming_no_recipient_is_denied() -> None:
    ask = asking(
        Role.HEALTH_VISITOR,
        Purpose.HEALTH_CARE,
        ID,
        action=Action.SHARE,
        recipient_consent_type=PCPS,
    )
    record = replace(CHILD, consents=(consent(PCPS, *ALL),))
    assert decide(ask, record).reason is Reason.CONSENT_REQUIRED


def test_a_share_under_early_help_with_a_child_protection_plan_still_needs_consent() -> None:
    ask = asking(
        Role.FAMILY_WORKER,
        Purpose.EARLY_HELP,
        ID,
        action=Action.SHARE,
        recipient="childrens_social_care",
    )
    assert decide(ask, replace(CHILD, cp_plan_active=True)).reason is Reason.CONSENT_REQUIRED


def test_safeguarding_shares_with_the_police_without_consent() -> None:
    ask = asking(
        Role.HEALTH_VISITOR,
        Purpose.SAFEGUARDING,
        ID,
        HEALTH,
        SG,
        action=Action.SHARE,
        justification=JUSTIFICATION,
        recipient="police",
    )
    decision = decide(ask, CHILD)
    assert decision.allowed
    assert basis_set(decision) == {
        (Basis.ART6_1_E, None, frozenset()),
        (Basis.ART9_2_G, 18, frozenset({HEALTH, SG})),
    }
    assert decision.review_required
    assert decision.consent_types == ()


def test_a_safeguarding_share_without_a_justification_is_denied() -> None:
    ask = asking(
        Role.HEALTH_VISITOR,
        Purpose.SAFEGUARDING,
        SG,
        action=Action.SHARE,
        recipient="police",
    )
    assert decide(ask, CHILD).reason is Reason.JUSTIFICATION_REQUIRED


# Step 8: recording a consent ---------------------------------------------------------


def recording_consent(
    role: Role, purpose: Purpose, *categories: Category, justification: str | None = None
) -> Ask:
    return asking(
        role,
        purpose,
        *(categories or (ID, SVC)),
        action=Action.RECORD_CONSENT,
        justification=justification,
    )


def test_recording_an_early_help_consent_needs_no_consent() -> None:
    decision = decide(recording_consent(Role.FAMILY_WORKER, Purpose.EARLY_HELP), CHILD)
    assert decision.allowed
    assert decision.allowed_categories == {ID, SVC}
    assert basis_set(decision) == {(Basis.ART6_1_C, None, frozenset())}
    assert decision.consent_types == ()


def test_withdrawing_the_last_consent_is_not_refused_as_withdrawn() -> None:
    record = replace(CHILD, consents=(consent(EARLY_HELP_SUPPORT, *ALL, withdrawn=True),))
    decision = decide(recording_consent(Role.FAMILY_WORKER, Purpose.EARLY_HELP), record)
    assert decision.allowed
    assert decision.basis_codes == (Basis.ART6_1_C,)


def test_recording_a_pcps_consent_under_health_care_rests_on_a_legal_obligation() -> None:
    decision = decide(recording_consent(Role.CAMHS_CLINICIAN, Purpose.HEALTH_CARE), CHILD)
    assert decision.allowed
    assert decision.basis_codes == (Basis.ART6_1_C,)


def test_recording_a_consent_under_a_child_protection_plan_rests_on_a_legal_obligation() -> None:
    ask = recording_consent(Role.FAMILY_WORKER, Purpose.EARLY_HELP)
    assert decide(ask, replace(CHILD, cp_plan_active=True)).basis_codes == (Basis.ART6_1_C,)


def test_recording_a_consent_touching_health_names_paragraph_6() -> None:
    ask = recording_consent(Role.HEALTH_VISITOR, Purpose.HEALTH_CARE, ID, HEALTH)
    assert basis_set(decide(ask, CHILD)) == {
        (Basis.ART6_1_C, None, frozenset()),
        (Basis.ART9_2_G, 6, frozenset({HEALTH})),
    }


def test_recording_a_consent_needs_a_purpose_the_role_may_declare() -> None:
    ask = recording_consent(Role.CHILDRENS_CENTRE_WORKER, Purpose.HEALTH_CARE)
    assert_denied(decide(ask, CHILD), Reason.PURPOSE_NOT_PERMITTED, ask)


def test_recording_a_consent_under_a_purpose_not_reaching_services_is_denied() -> None:
    ask = recording_consent(Role.CHILDRENS_CENTRE_WORKER, Purpose.SERVICE_INVITATION)
    assert_denied(decide(ask, CHILD), Reason.PURPOSE_NOT_PERMITTED, ask)


def test_recording_a_consent_is_scoped_to_the_nursery_practitioners_children() -> None:
    ask = asking(
        Role.NURSERY_PRACTITIONER,
        Purpose.SAFEGUARDING,
        ID,
        SVC,
        action=Action.RECORD_CONSENT,
        justification=JUSTIFICATION,
        nursery_id=OTHER_NURSERY,
    )
    assert decide(ask, NURSERY_CHILD).reason is Reason.OUT_OF_SCOPE


def test_recording_a_consent_past_the_destruction_date_is_denied() -> None:
    ask = recording_consent(Role.FAMILY_WORKER, Purpose.EARLY_HELP)
    assert decide(ask, replace(CHILD, destruction_date=TODAY)).reason is Reason.RETENTION_EXPIRED


def test_recording_a_consent_for_a_restricted_record_is_denied() -> None:
    ask = recording_consent(Role.FAMILY_WORKER, Purpose.EARLY_HELP)
    assert decide(ask, replace(CHILD, restricted=True)).reason is Reason.PROCESSING_RESTRICTED


def test_recording_a_consent_under_safeguarding_needs_a_justification() -> None:
    ask = recording_consent(Role.FAMILY_WORKER, Purpose.SAFEGUARDING)
    assert decide(ask, CHILD).reason is Reason.JUSTIFICATION_REQUIRED


# Step 9: bases and gateways ----------------------------------------------------------


def test_take_up_monitoring_names_schedule_1_paragraph_8_for_ethnicity() -> None:
    ask = asking(
        Role.PUBLIC_HEALTH_ANALYST, Purpose.TAKE_UP_MONITORING, ETH, SVC, action=Action.AGGREGATE
    )
    decision = decide(ask, RecordState(kind=SubjectKind.FAMILY))
    assert basis_set(decision) == {
        (Basis.ART6_1_E, None, frozenset()),
        (Basis.ART9_2_G, 8, frozenset({ETH})),
    }


def test_impact_evaluation_names_schedule_1_paragraph_2_for_health() -> None:
    ask = asking(
        Role.PUBLIC_HEALTH_ANALYST,
        Purpose.IMPACT_EVALUATION,
        HEALTH,
        EDU,
        SVC,
        action=Action.AGGREGATE,
    )
    decision = decide(ask, RecordState(kind=SubjectKind.FAMILY))
    assert basis_set(decision) == {
        (Basis.ART6_1_E, None, frozenset()),
        (Basis.ART9_2_H, 2, frozenset({HEALTH})),
    }


def test_health_care_names_article_9_2_h_with_paragraph_2() -> None:
    decision = decide(asking(Role.HEALTH_VISITOR, Purpose.HEALTH_CARE, ID, ETH, HEALTH), CHILD)
    assert basis_set(decision) == {
        (Basis.ART6_1_E, None, frozenset()),
        (Basis.ART9_2_H, 2, frozenset({ETH, HEALTH})),
    }


def test_nursery_care_names_article_9_2_g_with_paragraph_18() -> None:
    ask = asking(
        Role.NURSERY_PRACTITIONER, Purpose.NURSERY_CARE, HEALTH, SG, nursery_id=OWN_NURSERY
    )
    assert basis_set(decide(ask, NURSERY_CHILD)) == {
        (Basis.ART6_1_E, None, frozenset()),
        (Basis.ART9_2_G, 18, frozenset({HEALTH, SG})),
    }


def test_subject_rights_names_a_legal_obligation_and_paragraph_6() -> None:
    decision = decide(asking(Role.DATA_PROTECTION_OFFICER, Purpose.SUBJECT_RIGHTS, *ALL), CHILD)
    assert decision.allowed_categories == ALL
    assert basis_set(decision) == {
        (Basis.ART6_1_C, None, frozenset()),
        (Basis.ART9_2_G, 6, frozenset({ETH, HEALTH, SG})),
    }


def test_legal_claims_names_article_9_2_f_without_a_paragraph() -> None:
    decision = decide(asking(Role.DATA_PROTECTION_OFFICER, Purpose.LEGAL_CLAIMS, ID, SG), CHILD)
    assert basis_set(decision) == {
        (Basis.ART6_1_E, None, frozenset()),
        (Basis.ART9_2_F, None, frozenset({SG})),
    }


def test_a_read_of_no_special_category_names_only_article_6() -> None:
    decision = decide(asking(Role.FAMILY_WORKER, Purpose.SERVICE_INVITATION, ID, C), CHILD)
    assert decision.basis_codes == (Basis.ART6_1_E,)


def test_the_article_6_basis_comes_first() -> None:
    ask = asking(Role.HEALTH_VISITOR, Purpose.SAFEGUARDING, *ALL, justification=JUSTIFICATION)
    assert decide(ask, CHILD).basis_codes == (Basis.ART6_1_E, Basis.ART9_2_G)


def test_every_citation_carries_its_legal_text() -> None:
    decision = decide(asking(Role.HEALTH_VISITOR, Purpose.HEALTH_CARE, HEALTH), CHILD)
    texts = {c.basis: c.text for c in decision.bases}
    assert "6(1)(e)" in texts[Basis.ART6_1_E]
    assert "9(2)(h)" in texts[Basis.ART9_2_H]
    assert "Schedule 1 paragraph 2" in texts[Basis.ART9_2_H]


CHILDREN_ACTS = "Children Act 1989 and 2004"
NHS_ACT = "National Health Service Act 2006"


@pytest.mark.parametrize(
    ("role", "purpose", "gateways"),
    [
        (Role.FAMILY_WORKER, Purpose.SERVICE_INVITATION, {CHILDREN_ACTS}),
        (Role.FAMILY_WORKER, Purpose.NEEDS_ASSESSMENT, {CHILDREN_ACTS}),
        (Role.HEALTH_VISITOR, Purpose.HEALTH_CARE, {NHS_ACT}),
        (Role.HEALTH_VISITOR, Purpose.SAFEGUARDING, {CHILDREN_ACTS, NHS_ACT}),
        (Role.FAMILY_WORKER, Purpose.EARLY_HELP, {CHILDREN_ACTS, NHS_ACT}),
        (Role.DATA_PROTECTION_OFFICER, Purpose.SUBJECT_RIGHTS, set()),
        (Role.DATA_PROTECTION_OFFICER, Purpose.LEGAL_CLAIMS, set()),
    ],
)
def test_an_allowed_decision_names_the_legal_gateways_of_its_purpose(
    role: Role, purpose: Purpose, gateways: set[str]
) -> None:
    ask = asking(role, purpose, ID, justification=JUSTIFICATION)
    decision = decide(ask, replace(CHILD, cp_plan_active=True))
    assert decision.allowed
    assert set(decision.gateways) == gateways


def test_nursery_care_names_the_children_acts() -> None:
    ask = asking(Role.NURSERY_PRACTITIONER, Purpose.NURSERY_CARE, ID, nursery_id=OWN_NURSERY)
    assert decide(ask, NURSERY_CHILD).gateways == (CHILDREN_ACTS,)


def test_a_denial_names_no_gateway() -> None:
    ask = asking(Role.FAMILY_WORKER, Purpose.SAFEGUARDING, SG)
    assert decide(ask, CHILD).gateways == ()
