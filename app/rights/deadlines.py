"""Art 12(3) deadlines for subject requests: pure date arithmetic on UK local dates.

A request is due one calendar month after receipt: the same date next month, or that
month's last day where there is no such date (31 January -> 28 or 29 February). A due
date on a weekend or an England and Wales bank holiday moves to the next working day.
An extension adds one or two further months, given within the first month (three
months in all at most); a pause while the service waits for proof of identity or
clarification moves the date by the days paused.

Bank holidays come from the `holidays` package, not a hand-written list: substitute
days ("Boxing Day (observed)") and one-off holidays are in it.
"""

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Final

import holidays

from app.platform.identifiers import LONDON
from app.retention.rules import add_months

BASE_MONTHS: Final = 1
"""Art 12(3): 'within one month of receipt of the request'."""
MAX_EXTENSION_MONTHS: Final = 2
"""Art 12(3): 'extended by two further months where necessary'."""
WEEKEND: Final = frozenset({5, 6})


@lru_cache(maxsize=32)
def bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays of a year (substitute days included)."""
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def local_date(moment: datetime) -> date:
    """The Europe/London date of an instant (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LONDON).date()


def is_working_day(day: date) -> bool:
    return day.weekday() not in WEEKEND and day not in bank_holidays(day.year)


def next_working_day(day: date) -> date:
    """The day itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def due_date(received: date, *, extended_months: int = 0, paused_days: int = 0) -> date:
    """When the answer is due: one month after receipt (plus any extension), moved by the
    days the clock was stopped, then to the next working day."""
    if not 0 <= extended_months <= MAX_EXTENSION_MONTHS:
        raise ValueError(f"an extension is 0 to {MAX_EXTENSION_MONTHS} months")
    if paused_days < 0:
        raise ValueError("paused days cannot be negative")
    month_end = add_months(received, BASE_MONTHS + extended_months)
    return next_working_day(month_end + timedelta(days=paused_days))


def extension_deadline(received: date, *, paused_days: int = 0) -> date:
    """The last day an extension may be given: the end of the first month (the days
    the clock was stopped do not count against it)."""
    return due_date(received, paused_days=paused_days)


def days_paused(paused_on: date, resumed_on: date) -> int:
    """Calendar days the clock stood still: paused and resumed on one day is none."""
    return max(0, (resumed_on - paused_on).days)


def is_overdue(due: date, on: date) -> bool:
    """Past due: the due date itself is still in time."""
    return on > due
