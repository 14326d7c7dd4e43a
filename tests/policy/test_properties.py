"""Invariants of the engine over generated asks and records (hypothesis)."""

from dataclasses import replace
from datetime import date, timedelta
from typing import TypeVar
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from app.policy.engine import decide
from app.policy.model import Ask, ConsentFact, RecordState
from app.policy.rules import AGGREGATE_ONLY_PURPOSES, PURPOSE_CATEGORIES, ROLE_PURPOSES
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
NURSERIES = (
    UUID("393afe6b-e844-5168-8740-9110acd48874"),
    UUID("40308bbe-8d09-5cb5-8818-2cc0b2ff1f5c"),
)
RECIPIENTS = ("ipinfa", "gp_practice", "school_nurse", "police", "childrens_social_care")
ART9 = frozenset({Category.ETHNICITY, Category.HEALTH, Category.SAFEGUARDING})
RESTRICTION_EXEMPT = frozenset({Purpose.SUBJECT_RIGHTS, Purpose.LEGAL_CLAIMS, Purpose.SAFEGUARDING})
READS = frozenset({Action.READ, Action.LIST, Action.AGGREGATE})
LONG_JUSTIFICATION = "Police report of domestic abuse in the household last night"

T = TypeVar("T")

properties = settings(max_examples=300, deadline=None)

# Mostly False, so that later steps are reached often enough to be exercised.
rarely = st.sampled_from([*[False] * 7, True])
category_sets = st.frozensets(st.sampled_from(Category), max_size=len(Category))
recipients = st.none() | st.sampled_from(RECIPIENTS)
justifications = st.none() | st.text(max_size=30) | st.just(LONG_JUSTIFICATION)

consent_facts = st.builds(
    ConsentFact,
    type=st.sampled_from(ConsentType),
    categories=category_sets,
    recipient=recipients,
    withdrawn=st.booleans(),
)

records = st.builds(
    RecordState,
    kind=st.sampled_from(SubjectKind),
    gone=rarely,
    nursery_ids=st.frozensets(st.sampled_from(NURSERIES)),
    destruction_date=st.none() | st.dates(TODAY - timedelta(days=3), TODAY + timedelta(days=3)),
    restricted=rarely,
    objection_upheld=rarely,
    cp_plan_active=st.booleans(),
    consents=st.lists(consent_facts, max_size=4).map(tuple),
)


def often(likely: st.SearchStrategy[T], anything: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    return likely | likely | anything


@st.composite
def asks(
    draw: st.DrawFn,
    purposes: st.SearchStrategy[Purpose] | None = None,
    actions: st.SearchStrategy[Action] | None = None,
) -> Ask:
    """An ask by any role; usually one who may declare the purpose, for what it reaches."""
    if purposes is None:
        role = draw(st.sampled_from(Role))
        purpose = draw(
            often(st.sampled_from(sorted(ROLE_PURPOSES[role])), st.sampled_from(Purpose))
        )
    else:
        purpose = draw(purposes)
        declaring = [r for r in Role if purpose in ROLE_PURPOSES[r]] or list(Role)
        role = draw(often(st.sampled_from(declaring), st.sampled_from(Role)))
    if actions is None:
        fitting = Action.AGGREGATE if purpose in AGGREGATE_ONLY_PURPOSES else Action.READ
        actions = often(st.just(fitting), st.sampled_from(Action))
    reachable = st.frozensets(st.sampled_from(sorted(PURPOSE_CATEGORIES[purpose])), min_size=1)
    return Ask(
        role=role,
        org="E09000007",
        purpose=purpose,
        action=draw(actions),
        categories=draw(often(reachable, category_sets)),
        on=TODAY,
        justification=draw(justifications),
        nursery_id=draw(st.none() | st.sampled_from(NURSERIES)),
        recipient=draw(recipients),
        recipient_consent_type=draw(st.none() | st.sampled_from(ConsentType)),
    )


not_safeguarding = st.sampled_from([p for p in Purpose if p is not Purpose.SAFEGUARDING])
shares = asks(purposes=not_safeguarding, actions=st.just(Action.SHARE))


@st.composite
def consented_shares(draw: st.DrawFn) -> tuple[Ask, RecordState]:
    """A share outside the service with an active consent of the recipient's type, naming
    the recipient and covering every category asked: allowed unless an earlier step says no.
    """
    ask = draw(shares)
    ask = replace(
        ask,
        recipient=draw(st.sampled_from(RECIPIENTS)),
        recipient_consent_type=draw(st.sampled_from(ConsentType)),
    )
    fitting = ConsentFact(
        type=ask.recipient_consent_type or ConsentType.EARLY_HELP_SUPPORT,
        categories=ask.categories | draw(category_sets),
        recipient=ask.recipient,
        withdrawn=False,
    )
    record = draw(records)
    return ask, replace(record, consents=(*record.consents, fitting))


@properties
@given(asks(), records)
def test_no_allowed_decision_reaches_an_art9_category_without_an_art9_citation(
    ask: Ask, record: RecordState
) -> None:
    decision = decide(ask, record)
    if decision.allowed:
        covered = {
            category
            for citation in decision.bases
            if citation.basis.value.startswith("art9")
            for category in citation.categories
        }
        assert decision.allowed_categories & ART9 <= covered


@properties
@given(asks(), records)
def test_restriction_denies_every_purpose_but_subject_rights_legal_claims_safeguarding(
    ask: Ask, record: RecordState
) -> None:
    decision = decide(ask, replace(record, restricted=True))
    if ask.purpose in RESTRICTION_EXEMPT:
        assert decision.reason is not Reason.PROCESSING_RESTRICTED
    else:
        assert not decision.allowed


@properties
@given(
    asks(purposes=st.just(Purpose.SAFEGUARDING)),
    records,
    st.none() | st.text(max_size=60).filter(lambda text: len(text.strip()) < 20),
)
def test_safeguarding_without_a_20_character_justification_is_always_denied(
    ask: Ask, record: RecordState, justification: str | None
) -> None:
    assert not decide(replace(ask, justification=justification), record).allowed


@properties
@given(asks(), records)
def test_a_gone_record_is_always_denied_as_gone(ask: Ask, record: RecordState) -> None:
    decision = decide(ask, replace(record, gone=True))
    assert (decision.allowed, decision.reason) == (False, Reason.GONE)


@properties
@given(asks(actions=st.sampled_from(sorted(READS))), records)
def test_a_read_splits_the_asked_categories_into_allowed_and_withheld(
    ask: Ask, record: RecordState
) -> None:
    decision = decide(ask, record)
    assert decision.allowed_categories | decision.withheld_categories == ask.categories
    assert not decision.allowed_categories & decision.withheld_categories


@properties
@given(asks(), records)
def test_an_allowed_decision_names_exactly_one_art6_basis_first(
    ask: Ask, record: RecordState
) -> None:
    decision = decide(ask, record)
    if decision.allowed:
        art6 = [c for c in decision.bases if c.basis.value.startswith("art6")]
        assert len(art6) == 1
        assert decision.bases[0] == art6[0]


@properties
@given(asks(), records)
def test_a_denied_decision_relies_on_no_basis_and_reaches_nothing(
    ask: Ask, record: RecordState
) -> None:
    decision = decide(ask, record)
    if not decision.allowed:
        assert decision.bases == ()
        assert decision.allowed_categories == frozenset()
        assert decision.withheld_categories == ask.categories
        assert decision.gateways == ()
        assert not decision.review_required


@properties
@given(asks(), records)
def test_an_allowed_decision_stays_within_the_categories_asked(
    ask: Ask, record: RecordState
) -> None:
    decision = decide(ask, record)
    if decision.allowed:
        assert decision.allowed_categories <= ask.categories
        assert decision.review_required == (ask.purpose is Purpose.SAFEGUARDING)


@properties
@given(asks(), records)
def test_nursery_practitioners_reach_only_children_at_their_own_nursery(
    ask: Ask, record: RecordState
) -> None:
    decision = decide(replace(ask, role=Role.NURSERY_PRACTITIONER), record)
    if decision.allowed:
        assert record.kind is SubjectKind.CHILD
        assert ask.nursery_id in record.nursery_ids


# Recording or withdrawing a consent never rests on one (Art 7(1)): every other action.
resting_on_consent = often(
    st.just(Action.READ), st.sampled_from([a for a in Action if a is not Action.RECORD_CONSENT])
)


@properties
@given(asks(purposes=st.just(Purpose.EARLY_HELP), actions=resting_on_consent), records)
def test_withdrawn_consents_never_allow_early_help_without_a_child_protection_plan(
    ask: Ask, record: RecordState
) -> None:
    withdrawn = tuple(replace(consent, withdrawn=True) for consent in record.consents)
    record = replace(record, cp_plan_active=False, consents=withdrawn)
    assert not decide(ask, record).allowed


@properties
@given(consented_shares(), st.sampled_from(RECIPIENTS))
def test_a_consent_for_one_recipient_never_permits_a_share_to_another(
    share: tuple[Ask, RecordState], other: str
) -> None:
    ask, record = share
    elsewhere = tuple(c for c in record.consents if c.recipient != other)
    if ask.recipient != other:
        assert not decide(
            replace(ask, recipient=other), replace(record, consents=elsewhere)
        ).allowed


@properties
@given(consented_shares(), st.sampled_from(Category))
def test_a_consent_not_covering_a_category_never_lets_a_share_of_it_through(
    share: tuple[Ask, RecordState], category: Category
) -> None:
    ask, record = share
    uncovering = tuple(
        replace(consent, categories=consent.categories - {category}) for consent in record.consents
    )
    ask = replace(ask, categories=ask.categories | {category})
    assert not decide(ask, replace(record, consents=uncovering)).allowed


@properties
@given(
    asks(purposes=st.just(Purpose.EARLY_HELP), actions=st.just(Action.READ)),
    records,
)
def test_early_help_on_consent_reaches_only_what_an_active_consent_covers(
    ask: Ask, record: RecordState
) -> None:
    decision = decide(ask, replace(record, cp_plan_active=False))
    if decision.allowed:
        covered = {
            category
            for consent in record.consents
            if consent.type is ConsentType.EARLY_HELP_SUPPORT and not consent.withdrawn
            for category in consent.categories
        }
        assert decision.allowed_categories <= covered
        assert decision.consent_types == (ConsentType.EARLY_HELP_SUPPORT,)


@properties
@given(asks(actions=st.just(Action.RECORD_CONSENT)), records)
def test_recording_a_consent_never_turns_on_consent(ask: Ask, record: RecordState) -> None:
    with_none = decide(ask, replace(record, consents=()))
    with_any = decide(ask, record)
    assert with_none == with_any
    assert with_none.reason not in {Reason.CONSENT_REQUIRED, Reason.CONSENT_WITHDRAWN}


@properties
@given(asks(actions=st.just(Action.RECORD_CONSENT)), records)
def test_an_allowed_consent_record_rests_on_a_legal_obligation(
    ask: Ask, record: RecordState
) -> None:
    decision = decide(ask, record)
    if decision.allowed:
        assert decision.basis_codes[0] is Basis.ART6_1_C
        assert decision.consent_types == ()
