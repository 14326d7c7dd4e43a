"""The Healthy Child Programme review windows (DOMAIN.md), as pure date arithmetic.

A child is due a review on a day when their age on that day falls in the window. Each
window runs from one age (inclusive) until another (exclusive), in days or calendar
months; a month birthday on a day the month lacks (born 31 January) is that month's
last day (`add_months`).

`window` answers "when is this child due?"; `born_between` answers the question an
invitation list asks, "who is due on this day?", as the range of birth dates whose
window holds the day. The two agree for every birth date and day (a property test).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from app.contacts.schemas import DevelopmentReview
from app.retention.rules import add_months

ONE_DAY: Final = timedelta(days=1)


class Unit(StrEnum):
    DAYS = "days"
    MONTHS = "months"


@dataclass(frozen=True, slots=True)
class Age:
    count: int
    unit: Unit

    def reached(self, born: date) -> date:
        """The day a child born on `born` reaches this age."""
        if self.unit is Unit.DAYS:
            return born + timedelta(days=self.count)
        return add_months(born, self.count)


@dataclass(frozen=True, slots=True)
class Window:
    opens: Age
    """The age from which the child is due (inclusive)."""
    closes: Age
    """The age at which the child is no longer due (exclusive)."""


def _days(count: int) -> Age:
    return Age(count, Unit.DAYS)


def _months(count: int) -> Age:
    return Age(count, Unit.MONTHS)


# DOMAIN.md, "Reviews, invitations and reports": inclusive windows of age on the day.
WINDOWS: Final[Mapping[DevelopmentReview, Window]] = MappingProxyType(
    {
        # 10 to 14 days old: day 10 to day 14.
        DevelopmentReview.NEW_BIRTH: Window(_days(10), _days(15)),
        # 6 to 8 completed weeks: day 42 to day 62.
        DevelopmentReview.SIX_TO_EIGHT_WEEKS: Window(_days(42), _days(63)),
        # 9 to 12 completed months: the 9-month birthday to the day before the 13-month one.
        DevelopmentReview.ONE_YEAR: Window(_months(9), _months(13)),
        # 24 to 30 completed months: the 24-month birthday to the day before the 31-month one.
        DevelopmentReview.TWO_TO_TWO_AND_A_HALF_YEARS: Window(_months(24), _months(31)),
    }
)


def window(review: DevelopmentReview, born: date) -> tuple[date, date]:
    """The first and last day (inclusive) on which a child born on `born` is due."""
    rule = WINDOWS[review]
    return rule.opens.reached(born), rule.closes.reached(born) - ONE_DAY


def _latest_born_reaching(age: Age, on: date) -> date:
    """The latest birth date from which `age` is reached on or before `on`.

    `age.reached` never decreases as the birth date grows (a clipped month birthday
    repeats a day but never goes back), so those birth dates are everything up to one
    date: start from the calendar estimate and step to the edge.
    """
    if age.unit is Unit.DAYS:
        return on - timedelta(days=age.count)
    born = add_months(on, -age.count)
    while age.reached(born + ONE_DAY) <= on:
        born += ONE_DAY
    while age.reached(born) > on:
        born -= ONE_DAY
    return born


def born_between(review: DevelopmentReview, on: date) -> tuple[date, date]:
    """The earliest and latest birth dates (inclusive) of children due `review` on `on`."""
    rule = WINDOWS[review]
    return _latest_born_reaching(rule.closes, on) + ONE_DAY, _latest_born_reaching(rule.opens, on)
