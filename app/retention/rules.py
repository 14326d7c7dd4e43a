"""When data is destroyed (privacy notice: "until your child reaches 5 years of age";
"until they are 25" when a family worker supported the family). Pure date arithmetic."""

import calendar
from datetime import date
from typing import Final

CHILD_YEARS: Final = 5
SUPPORTED_CHILD_YEARS: Final = 25
CHILDLESS_HOUSEHOLD_YEARS: Final = 1


def add_years(day: date, years: int) -> date:
    """The same date `years` later; 29 February becomes 28 February in a common year."""
    year = day.year + years
    last = calendar.monthrange(year, day.month)[1]
    return day.replace(year=year, day=min(day.day, last))


def add_months(day: date, months: int) -> date:
    """The same date `months` later, or that month's last day where there is no such date."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def child_destruction_date(born: date, *, family_worker_supported: bool) -> date:
    years = SUPPORTED_CHILD_YEARS if family_worker_supported else CHILD_YEARS
    return add_years(born, years)


def household_destruction_date(created: date, child_dates: list[date]) -> date:
    """Adults go when the last child's data goes; a household that never had a child
    recorded goes a year after it was created."""
    if child_dates:
        return max(child_dates)
    return add_years(created, CHILDLESS_HOUSEHOLD_YEARS)


def is_under_five(born: date, on: date) -> bool:
    return on < add_years(born, CHILD_YEARS)


# The rule each destruction is logged under (destruction_log.rule): names, never people.
RULE_FIFTH_BIRTHDAY: Final = "fifth_birthday"
RULE_FAMILY_WORKER: Final = "25th_birthday_family_worker"
RULE_HOUSEHOLD_LAST_CHILD: Final = "household_last_child"
RULE_HOUSEHOLD_WITHOUT_CHILD: Final = "household_without_child"
RULE_ERASURE: Final = "erasure_art17"


def child_rule(*, family_worker_supported: bool) -> str:
    return RULE_FAMILY_WORKER if family_worker_supported else RULE_FIFTH_BIRTHDAY


def household_rule(created: date, destroy_on: date, *, has_children: bool) -> str:
    """Adults go with the last child; a household that never had one, a year on."""
    if not has_children and destroy_on == add_years(created, CHILDLESS_HOUSEHOLD_YEARS):
        return RULE_HOUSEHOLD_WITHOUT_CHILD
    return RULE_HOUSEHOLD_LAST_CHILD


def is_due(destroy_on: date | None, on: date) -> bool:
    """On and after the destruction date (the engine refuses `retention_expired` then)."""
    return destroy_on is not None and destroy_on <= on
