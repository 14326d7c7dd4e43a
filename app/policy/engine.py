"""The lawful-basis engine: DOMAIN.md's decision order as one pure function.

`decide` takes the facts (who asks, for what, on which day; the record as it stands)
and returns a Decision. No I/O, no clock: callers pass today's date in `Ask.on` and any
reference data the rules need (the consent type a recipient accepts) in the Ask.

Each step is a function returning a Decision when it answers, None to pass; the first
answer wins, in DOMAIN.md's order.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Final

from app.policy.model import Ask, Citation, ConsentFact, Decision, RecordState
from app.policy.rules import (
    ACTION_BASES,
    AGGREGATE_ONLY_PURPOSES,
    ALL_CATEGORIES,
    CONSENT_BASES,
    CONSENT_FREE_ACTIONS,
    CONSENT_FREE_RECORDS,
    CONSENT_PURPOSES,
    CP_PLAN_BASES,
    CP_PLAN_LIFTS_CONSENT,
    JUSTIFICATION_PURPOSES,
    LEGAL_GATEWAYS,
    NO_LIST_PURPOSES,
    OBJECTION_STOPS,
    PURPOSE_BASES,
    PURPOSE_CATEGORIES,
    READING_ACTIONS,
    RECORD_BASES,
    RECORD_WRITERS,
    RESTRICTION_EXEMPT,
    REVIEW_PURPOSES,
    ROLE_PURPOSES,
    SHARE_WITHOUT_CONSENT_PURPOSES,
    UNSTOPPABLE_RECORDS,
    Condition,
    PurposeBases,
)
from app.policy.vocabulary import (
    ART9_CATEGORIES,
    MIN_JUSTIFICATION_LENGTH,
    Action,
    Category,
    ConsentType,
    Purpose,
    Reason,
    RecordKind,
    Role,
    SubjectKind,
)

Step = Callable[[Ask, RecordState], Decision | None]


def _deny(ask: Ask, reason: Reason) -> Decision:
    """A denial relies on no basis and reaches nothing: every asked category is withheld."""
    return Decision(allowed=False, reason=reason, withheld_categories=ask.categories)


def _reachable(ask: Ask) -> frozenset[Category]:
    return ask.categories & PURPOSE_CATEGORIES[ask.purpose]


# Step 1 -------------------------------------------------------------------------------


def gone(ask: Ask, record: RecordState) -> Decision | None:
    """Erased or destroyed: 410 Gone, whoever asks."""
    return _deny(ask, Reason.GONE) if record.gone else None


# Step 2 -------------------------------------------------------------------------------


def purpose_permitted(ask: Ask, record: RecordState) -> Decision | None:
    """The role may declare the purpose, the operation serves it, the record may be
    written by this role under it, the action suits it, and it reaches a category."""
    if ask.purpose not in ROLE_PURPOSES[ask.role]:
        return _deny(ask, Reason.PURPOSE_NOT_PERMITTED)
    if ask.served is not None and ask.purpose not in ask.served:
        return _deny(ask, Reason.PURPOSE_NOT_PERMITTED)
    writers = RECORD_WRITERS.get(ask.record) if ask.record is not None else None
    if writers is not None and ask.purpose not in writers.get(ask.role, frozenset()):
        # DOMAIN.md "Who may record what": this record belongs to another profession.
        return _deny(ask, Reason.PURPOSE_NOT_PERMITTED)
    # No row-level data leaves under take-up monitoring or impact evaluation, and
    # aggregates are produced under nothing else.
    aggregate_only = ask.purpose in AGGREGATE_ONLY_PURPOSES
    if aggregate_only != (ask.action is Action.AGGREGATE):
        return _deny(ask, Reason.PURPOSE_NOT_PERMITTED)
    # A safeguarding override reaches only the subject named, never a list.
    if ask.action is Action.LIST and ask.purpose in NO_LIST_PURPOSES:
        return _deny(ask, Reason.PURPOSE_NOT_PERMITTED)
    reachable = _reachable(ask)
    if ask.action in READING_ACTIONS:
        # A read drops what the purpose cannot reach; with nothing left it is denied.
        return None if reachable else _deny(ask, Reason.PURPOSE_NOT_PERMITTED)
    # A write or share may not touch a category the purpose cannot reach.
    return None if reachable == ask.categories else _deny(ask, Reason.PURPOSE_NOT_PERMITTED)


# Step 3 -------------------------------------------------------------------------------


def in_scope(ask: Ask, record: RecordState) -> Decision | None:
    """A nursery practitioner reaches only children attending their nursery on the day."""
    if ask.role is not Role.NURSERY_PRACTITIONER:
        return None
    if ask.record is RecordKind.HOUSEHOLD:
        return _deny(ask, Reason.OUT_OF_SCOPE)
    if ask.record is RecordKind.ENROLMENT:
        # How a child comes into scope: at the practitioner's own nursery only.
        own = ask.nursery_id is not None and ask.nursery_id == ask.target_nursery_id
        return None if own else _deny(ask, Reason.OUT_OF_SCOPE)
    attends = ask.nursery_id is not None and ask.nursery_id in record.nursery_ids
    if record.kind is SubjectKind.CHILD and attends:
        return None
    return _deny(ask, Reason.OUT_OF_SCOPE)


def known(ask: Ask, record: RecordState) -> Decision | None:
    """An id never held is answered only to a caller steps 2 and 3 let through."""
    return _deny(ask, Reason.NOT_FOUND) if record.unknown else None


# Step 4 -------------------------------------------------------------------------------


def within_retention(ask: Ask, record: RecordState) -> Decision | None:
    """On and after the destruction date only the data protection officer goes on.

    A legal hold pauses destruction but does not lift this for anyone else.
    """
    if record.destruction_date is None or ask.on < record.destruction_date:
        return None
    if ask.role is Role.DATA_PROTECTION_OFFICER:
        return None
    return _deny(ask, Reason.RETENTION_EXPIRED)


# Step 5 -------------------------------------------------------------------------------


def not_restricted(ask: Ask, record: RecordState) -> Decision | None:
    # Art 18: storage continues; only these purposes go on. Art 7(3): a withdrawal is
    # never refused.
    if ask.record in UNSTOPPABLE_RECORDS:
        return None
    if record.restricted and ask.purpose not in RESTRICTION_EXEMPT:
        return _deny(ask, Reason.PROCESSING_RESTRICTED)
    return None


# Step 6 -------------------------------------------------------------------------------


def not_objected(ask: Ask, record: RecordState) -> Decision | None:
    # Art 21: safeguarding (compelling grounds) and health_care (direct care) go on.
    # Art 7(3): a withdrawal is never refused.
    if ask.record in UNSTOPPABLE_RECORDS:
        return None
    if record.objection_upheld and ask.purpose in OBJECTION_STOPS:
        return _deny(ask, Reason.OBJECTION_UPHELD)
    return None


# Step 7 -------------------------------------------------------------------------------


def justified(ask: Ask, record: RecordState) -> Decision | None:
    """A safeguarding override needs a written justification."""
    if ask.purpose not in JUSTIFICATION_PURPOSES:
        return None
    written = (ask.justification or "").strip()
    if len(written) < MIN_JUSTIFICATION_LENGTH:
        return _deny(ask, Reason.JUSTIFICATION_REQUIRED)
    return None


# Step 8 -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ConsentNeed:
    type: ConsentType | None
    """None: no consent type permits this share, so no consent can."""
    recipient: str | None
    """For a share, the recipient the consent must name."""
    share: bool


_PURPOSE_NEEDS: Final[Mapping[Purpose, _ConsentNeed]] = {
    purpose: _ConsentNeed(type=consent_type, recipient=None, share=False)
    for purpose, consent_type in CONSENT_PURPOSES.items()
}


def _purpose_need(ask: Ask, record: RecordState) -> _ConsentNeed | None:
    need = _PURPOSE_NEEDS.get(ask.purpose)
    if need is None:
        return None
    # The notice: under a child protection plan, legal duty and public task, not consent.
    if record.cp_plan_active and ask.purpose in CP_PLAN_LIFTS_CONSENT:
        return None
    return need


def _consent_needs(ask: Ask, record: RecordState) -> tuple[_ConsentNeed, ...] | None:
    """The consents this ask rests on (every one is needed), or None when it rests on none."""
    # Art 7(1): recording, withdrawing or reading consents cannot need the consent recorded.
    if ask.action in CONSENT_FREE_ACTIONS or ask.record in CONSENT_FREE_RECORDS:
        return None
    purpose_need = _purpose_need(ask, record)
    if ask.action is Action.SHARE:
        # The notice: nothing leaves the service without express permission unless a
        # child may be at risk of harm.
        if ask.purpose in SHARE_WITHOUT_CONSENT_PURPOSES:
            return None
        share = _ConsentNeed(type=ask.recipient_consent_type, recipient=ask.recipient, share=True)
        # A share under a consent-based purpose needs both: the purpose's and the recipient's.
        return (share,) if purpose_need is None else (purpose_need, share)
    return None if purpose_need is None else (purpose_need,)


def _matching_consents(need: _ConsentNeed, record: RecordState) -> tuple[ConsentFact, ...]:
    if need.type is None:
        return ()
    if need.share and need.recipient is None:
        return ()
    return tuple(
        consent
        for consent in record.consents
        if consent.type is need.type and (not need.share or consent.recipient == need.recipient)
    )


def _active_consents(ask: Ask, record: RecordState) -> tuple[tuple[ConsentFact, ...], ...] | None:
    """Per need, the active consents the ask rests on; None when it rests on no consent."""
    needs = _consent_needs(ask, record)
    if needs is None:
        return None
    # Withdrawal takes effect at once for every later decision.
    return tuple(
        tuple(c for c in _matching_consents(need, record) if not c.withdrawn) for need in needs
    )


def _covered(consents: tuple[ConsentFact, ...]) -> frozenset[Category]:
    if len(consents) == 1:
        return consents[0].categories
    return frozenset().union(*(consent.categories for consent in consents))


def _covered_by_all(per_need: tuple[tuple[ConsentFact, ...], ...]) -> frozenset[Category]:
    """What every needed consent covers: each must cover what the ask reaches."""
    covered = ALL_CATEGORIES
    for consents in per_need:
        covered &= _covered(consents)
    return covered


def consented(ask: Ask, record: RecordState) -> Decision | None:
    """A consent-based ask needs an active consent of each right type covering its categories."""
    needs = _consent_needs(ask, record)
    if needs is None:
        return None
    per_need: list[tuple[ConsentFact, ...]] = []
    for need in needs:
        matching = _matching_consents(need, record)
        if not matching:
            return _deny(ask, Reason.CONSENT_REQUIRED)
        active = tuple(consent for consent in matching if not consent.withdrawn)
        if not active:
            return _deny(ask, Reason.CONSENT_WITHDRAWN)
        per_need.append(active)
    covered = _covered_by_all(tuple(per_need))
    reachable = _reachable(ask)
    if ask.action in READING_ACTIONS:
        # A read drops what the consent does not cover; with nothing left it is denied.
        return None if reachable & covered else _deny(ask, Reason.CONSENT_REQUIRED)
    # A share or write may not touch a category the consent does not cover.
    return None if reachable <= covered else _deny(ask, Reason.CONSENT_REQUIRED)


# Step 9 -------------------------------------------------------------------------------


def _bases(ask: Ask, record: RecordState, on_consent: bool) -> PurposeBases:
    if ask.record is not None and ask.record in RECORD_BASES:
        return RECORD_BASES[ask.record]
    if ask.action in ACTION_BASES:
        return ACTION_BASES[ask.action]
    if on_consent:
        return CONSENT_BASES
    if record.cp_plan_active and ask.purpose in CP_PLAN_BASES:
        return CP_PLAN_BASES[ask.purpose]
    return PURPOSE_BASES[ask.purpose]


_ART9_ORDER: Final = tuple(c for c in Category if c in ART9_CATEGORIES)
_CONSENT_TYPE_ORDER: Final = tuple(ConsentType)
_GATEWAYS: Final[Mapping[Purpose, tuple[str, ...]]] = {
    purpose: tuple(g.name for g in LEGAL_GATEWAYS if purpose in g.purposes) for purpose in Purpose
}


def _citations(bases: PurposeBases, allowed: frozenset[Category]) -> tuple[Citation, ...]:
    """The Art 6 basis, then one citation per Art 9 condition naming the categories it covers."""
    covers: dict[Condition, set[Category]] = {}
    for category in _ART9_ORDER:
        if category in allowed:
            covers.setdefault(bases.art9[category], set()).add(category)
    art6 = Citation(basis=bases.art6.basis, text=bases.art6.text)
    art9 = tuple(
        Citation(
            basis=condition.basis,
            text=condition.text,
            schedule1_paragraph=condition.schedule1_paragraph,
            categories=frozenset(categories),
        )
        for condition, categories in covers.items()
    )
    return (art6, *art9)


@lru_cache(maxsize=4096)
def _allowance(
    bases: PurposeBases,
    allowed: frozenset[Category],
    asked: frozenset[Category],
    purpose: Purpose,
    consent_types: tuple[ConsentType, ...],
) -> Decision:
    """An allowance depends on nothing but these, all drawn from the rule tables and the
    ask's shape: each one is built once and shared (a Decision is immutable)."""
    return Decision(
        allowed=True,
        reason=Reason.ALLOWED,
        bases=_citations(bases, allowed),
        allowed_categories=allowed,
        withheld_categories=asked - allowed,
        gateways=_GATEWAYS[purpose],
        review_required=purpose in REVIEW_PURPOSES,
        consent_types=consent_types,
    )


def allow(ask: Ask, record: RecordState) -> Decision:
    """Allow, naming every basis: Art 6, and per Art 9 category the condition and paragraph."""
    per_need = _active_consents(ask, record)
    allowed = _reachable(ask)
    consent_types: tuple[ConsentType, ...] = ()
    if per_need is not None:
        allowed &= _covered_by_all(per_need)
        relied_on = {c.type for consents in per_need for c in consents}
        consent_types = tuple(t for t in _CONSENT_TYPE_ORDER if t in relied_on)
    bases = _bases(ask, record, on_consent=per_need is not None)
    return _allowance(bases, allowed, ask.categories, ask.purpose, consent_types)


STEPS: Final[tuple[Step, ...]] = (
    gone,
    purpose_permitted,
    in_scope,
    known,
    within_retention,
    not_restricted,
    not_objected,
    justified,
    consented,
)
"""Steps 1 to 8 of DOMAIN.md, in order (with `known` after step 3: an id never held);
step 9 (`allow`) answers when none has."""


def decide(ask: Ask, record: RecordState) -> Decision:
    """The lawful-basis decision for one ask about one record."""
    for step in STEPS:
        decision = step(ask, record)
        if decision is not None:
            return decision
    return allow(ask, record)


def served_purposes(
    action: Action,
    categories: frozenset[Category],
    *,
    record: RecordKind | None = None,
    served: frozenset[Purpose] | None = None,
) -> frozenset[Purpose]:
    """The purposes an operation serves: those some role may declare and step 2 lets
    through for its action, categories and record (GET /v1/policy lists them)."""
    found: set[Purpose] = set()
    for role in Role:
        for purpose in ROLE_PURPOSES[role]:
            ask = Ask(
                role=role,
                org="",
                purpose=purpose,
                action=action,
                categories=categories,
                on=date.min,
                record=record,
                served=served,
            )
            if purpose_permitted(ask, RecordState(kind=SubjectKind.CHILD)) is None:
                found.add(purpose)
    return frozenset(found)
