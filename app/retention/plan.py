"""What a sweep destroys of one household on a day: a pure function of its state.

DOMAIN.md, "Retention": a child goes on its destruction date; the household's adults
go when the last of its children goes (a household that never had a child, a year
after it was created); a legal hold pauses destruction. A child kept by a hold keeps
its household's adults too: they are held for the child's sake.
"""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from app.policy.vocabulary import SubjectKind
from app.retention import rules


@dataclass(frozen=True, slots=True)
class Member:
    id: UUID
    kind: SubjectKind
    destroy_on: date | None
    """A child's own date; None for an adult (adults follow the household)."""


@dataclass(frozen=True, slots=True)
class Household:
    id: UUID
    destroy_on: date
    created_on: date
    family_worker_supported: bool
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class Destruction:
    subject_id: UUID
    kind: SubjectKind
    rule: str


@dataclass(frozen=True, slots=True)
class Outcome:
    destroyed: tuple[Destruction, ...]
    kept: bool
    """Something due was kept: held itself, or by a hold on its household or a child."""


def plan(household: Household, *, on: date, held: frozenset[UUID]) -> Outcome:
    """Everything of the household due on `on` and not held: children first, the
    household itself last (only when no member remains).

    `held` holds the ids destruction must skip (a legal hold, the subject of an open
    subject request): people, or the household itself.
    """
    children = [m for m in household.members if m.kind is SubjectKind.CHILD]
    adults = [m for m in household.members if m.kind is not SubjectKind.CHILD]
    due_children = [c for c in children if rules.is_due(c.destroy_on, on)]
    household_due = rules.is_due(household.destroy_on, on)
    if household.id in held:
        return Outcome((), kept=bool(due_children) or household_due)
    child_rule = rules.child_rule(family_worker_supported=household.family_worker_supported)
    out = [
        Destruction(child.id, SubjectKind.CHILD, child_rule)
        for child in due_children
        if child.id not in held
    ]
    kept = len(out) < len(due_children)
    # Adults go only with the last child: a child kept (not due yet, or held) keeps them.
    if len(out) < len(children) or not household_due:
        return Outcome(tuple(out), kept)
    adult_rule = rules.household_rule(
        household.created_on, household.destroy_on, has_children=bool(children)
    )
    out.extend(Destruction(a.id, a.kind, adult_rule) for a in adults if a.id not in held)
    kept = kept or any(a.id in held for a in adults)
    if len(out) == len(household.members):
        out.append(Destruction(household.id, SubjectKind.FAMILY, adult_rule))
    return Outcome(tuple(out), kept)
