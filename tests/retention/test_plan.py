"""What a sweep destroys of one household: tables of DOMAIN.md's retention rules."""

from datetime import date
from uuid import UUID

import pytest

from app.policy.vocabulary import SubjectKind
from app.retention import rules
from app.retention.plan import Household, Member, plan

ON = date(2026, 11, 25)
PAST, FUTURE = date(2026, 11, 1), date(2027, 3, 1)
FAMILY = UUID(int=1)
OLDER, YOUNGER, CARER, AUNT = (UUID(int=n) for n in (2, 3, 4, 5))


def household(
    *children: tuple[UUID, date],
    adults: tuple[UUID, ...] = (CARER,),
    destroy_on: date | None = None,
    supported: bool = False,
    created_on: date = date(2022, 1, 1),
) -> Household:
    members = [Member(id, SubjectKind.CHILD, day) for id, day in children]
    members += [Member(id, SubjectKind.CARER, None) for id in adults]
    dates = [day for _, day in children]
    return Household(
        id=FAMILY,
        destroy_on=destroy_on or (max(dates) if dates else rules.add_years(created_on, 1)),
        created_on=created_on,
        family_worker_supported=supported,
        members=tuple(members),
    )


def ids(h: Household, held: frozenset[UUID] = frozenset()) -> set[UUID]:
    return {d.subject_id for d in plan(h, on=ON, held=held).destroyed}


@pytest.mark.parametrize(
    ("h", "held", "destroyed"),
    [
        (household((OLDER, PAST)), frozenset(), {OLDER, CARER, FAMILY}),
        (household((OLDER, ON)), frozenset(), {OLDER, CARER, FAMILY}),
        (household((OLDER, FUTURE)), frozenset(), set()),
        (household((OLDER, PAST), (YOUNGER, FUTURE)), frozenset(), {OLDER}),
        (household((OLDER, PAST), adults=(CARER, AUNT)), frozenset({AUNT}), {OLDER, CARER}),
        (household((OLDER, PAST)), frozenset({OLDER}), set()),
        (household((OLDER, PAST), (YOUNGER, PAST)), frozenset({YOUNGER}), {OLDER}),
        (household((OLDER, PAST)), frozenset({FAMILY}), set()),
        (household(created_on=date(2025, 11, 1)), frozenset(), {CARER, FAMILY}),
        (household(created_on=date(2026, 1, 1)), frozenset(), set()),
    ],
    ids=[
        "past five: the child, then the adults and the household",
        "on the date itself",
        "not yet due",
        "a younger child keeps the adults",
        "a held adult stays, and so does the household",
        "a held child stays, and keeps the adults",
        "a held sibling keeps the adults; the other child goes",
        "a held household keeps everyone",
        "a household that never had a child: a year after creation",
        "a childless household under a year old",
    ],
)
def test_the_sweep_plan(h: Household, held: frozenset[UUID], destroyed: set[UUID]) -> None:
    assert ids(h, held) == destroyed


def test_the_household_goes_last_after_every_member() -> None:
    out = plan(household((OLDER, PAST)), on=ON, held=frozenset()).destroyed
    assert [d.kind for d in out] == [SubjectKind.CHILD, SubjectKind.CARER, SubjectKind.FAMILY]


@pytest.mark.parametrize(
    ("h", "rule"),
    [
        (household((OLDER, PAST)), rules.RULE_FIFTH_BIRTHDAY),
        (household((OLDER, PAST), supported=True), rules.RULE_FAMILY_WORKER),
    ],
)
def test_a_childs_destruction_names_its_rule(h: Household, rule: str) -> None:
    child = plan(h, on=ON, held=frozenset()).destroyed[0]
    assert (child.kind, child.rule) == (SubjectKind.CHILD, rule)


def test_adults_go_under_the_last_child_rule_or_the_childless_rule() -> None:
    with_child = plan(household((OLDER, PAST)), on=ON, held=frozenset()).destroyed
    assert with_child[-1].rule == rules.RULE_HOUSEHOLD_LAST_CHILD
    childless = plan(household(created_on=date(2025, 1, 1)), on=ON, held=frozenset()).destroyed
    assert childless[-1].rule == rules.RULE_HOUSEHOLD_WITHOUT_CHILD


def test_something_due_but_held_is_reported_as_kept() -> None:
    assert plan(household((OLDER, PAST)), on=ON, held=frozenset({OLDER})).kept
    assert not plan(household((OLDER, FUTURE)), on=ON, held=frozenset({OLDER})).kept
