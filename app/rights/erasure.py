"""What an erasure removes (Art 17): pure, from the officer's outcome and the policy tables.

`fulfilled` erases everything the service holds about the subject. `partially_fulfilled`
keeps the categories the officer names, each one held for a legal duty or public task
(Art 17(3)(b)), and erases the rest; consent-based processing ends either way (the
subject's consents go). `identity` must be among what is kept: a record kept has to
say whose it is.
"""

from dataclasses import dataclass
from typing import Final

from app.policy.rules import AGGREGATE_ONLY_PURPOSES, PURPOSE_BASES, PURPOSE_CATEGORIES
from app.policy.vocabulary import Basis, Category, Purpose

_OVERRIDES: Final = frozenset({Purpose.SAFEGUARDING, Purpose.SUBJECT_RIGHTS, Purpose.LEGAL_CLAIMS})

KEEPABLE: Final[frozenset[Category]] = frozenset().union(
    *(
        PURPOSE_CATEGORIES[purpose]
        for purpose in Purpose
        if PURPOSE_BASES[purpose].art6.basis in {Basis.ART6_1_C, Basis.ART6_1_E}
        and purpose not in AGGREGATE_ONLY_PURPOSES
        and purpose not in _OVERRIDES
    )
)
"""Categories a routine purpose holds about a person for a legal duty or public task.

Overrides (safeguarding, subject rights, legal claims) reach everything but hold
nothing of their own; a category only consent-based work reaches (education) is never
kept.
"""


@dataclass(frozen=True, slots=True)
class ErasurePlan:
    whole_person: bool
    kept: frozenset[Category]

    def erases(self, category: Category) -> bool:
        return self.whole_person or category not in self.kept


def problem(kept: frozenset[Category]) -> str | None:
    """Why a partial erasure keeping `kept` is not allowed, or None."""
    if not kept:
        return "name the categories kept (Art 17(3)(b)), or fulfil the erasure"
    if Category.IDENTITY not in kept:
        return "a record kept must keep identity: say whose it is"
    unkeepable = sorted(c.value for c in kept - KEEPABLE)
    if unkeepable:
        return f"only data held for a legal duty or public task may be kept: not {unkeepable}"
    return None


def plan(*, partial: bool, kept: frozenset[Category]) -> ErasurePlan:
    if not partial:
        return ErasurePlan(whole_person=True, kept=frozenset())
    reason = problem(kept)
    if reason is not None:
        raise ValueError(reason)
    return ErasurePlan(whole_person=False, kept=kept)
