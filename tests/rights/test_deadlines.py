"""Art 12(3) due dates: tables of DOMAIN.md's rule, no database."""

from datetime import UTC, date, datetime

import pytest

from app.rights import deadlines


@pytest.mark.parametrize(
    ("received", "due", "why"),
    [
        (date(2026, 3, 17), date(2026, 4, 17), "the same date next month"),
        (date(2025, 1, 31), date(2025, 2, 28), "31 January: February's last day"),
        (date(2028, 1, 31), date(2028, 2, 29), "31 January in a leap year: 29 February"),
        (date(2027, 1, 31), date(2027, 3, 1), "28 February 2027 is a Sunday: Monday"),
        (date(2026, 3, 31), date(2026, 4, 30), "the 31st, into a 30-day month"),
        (date(2025, 10, 31), date(2025, 12, 1), "30 November 2025 is a Sunday: Monday"),
        (date(2026, 6, 11), date(2026, 7, 13), "a Saturday: the Monday"),
        (date(2026, 7, 12), date(2026, 8, 12), "received on a Sunday: counted from that day"),
        (date(2025, 11, 25), date(2025, 12, 29), "Christmas Day, Boxing Day, the weekend"),
        (date(2026, 11, 25), date(2026, 12, 29), "Christmas on a Friday, Boxing Day observed"),
        (date(2026, 12, 1), date(2027, 1, 4), "New Year's Day on a Friday"),
        (date(2026, 3, 6), date(2026, 4, 7), "Easter Monday"),
        (date(2026, 3, 3), date(2026, 4, 7), "Good Friday, the weekend, Easter Monday"),
        (date(2026, 4, 4), date(2026, 5, 5), "the early May bank holiday"),
    ],
)
def test_a_request_is_due_one_calendar_month_after_receipt_on_a_working_day(
    received: date, due: date, why: str
) -> None:
    assert deadlines.due_date(received) == due, why


@pytest.mark.parametrize(
    ("received", "paused_days", "due"),
    [
        (date(2026, 3, 2), 0, date(2026, 4, 2)),
        (date(2026, 3, 2), 1, date(2026, 4, 7)),  # 3 April Good Friday, 6 Easter Monday
        (date(2026, 3, 2), 3, date(2026, 4, 7)),  # 5 April a Sunday, 6 Easter Monday
        (date(2026, 3, 2), 10, date(2026, 4, 13)),  # 12 April a Sunday
        (date(2026, 3, 2), 14, date(2026, 4, 16)),
    ],
)
def test_a_pause_moves_the_due_date_by_the_days_paused(
    received: date, paused_days: int, due: date
) -> None:
    assert deadlines.due_date(received, paused_days=paused_days) == due


@pytest.mark.parametrize(
    ("received", "months", "due"),
    [
        (date(2028, 1, 31), 1, date(2028, 3, 31)),
        # 30 April 2028 is a Sunday and 1 May the early May bank holiday.
        (date(2028, 1, 31), 2, date(2028, 5, 2)),
        (date(2026, 3, 17), 2, date(2026, 6, 17)),
    ],
)
def test_an_extension_counts_whole_months_from_receipt(
    received: date, months: int, due: date
) -> None:
    assert deadlines.due_date(received, extended_months=months) == due


@pytest.mark.parametrize("months", [-1, 3])
def test_never_more_than_three_months_in_all(months: int) -> None:
    with pytest.raises(ValueError, match="extension"):
        deadlines.due_date(date(2026, 1, 5), extended_months=months)


def test_an_extension_must_be_given_by_the_end_of_the_first_month_plus_any_pause() -> None:
    assert deadlines.extension_deadline(date(2026, 3, 2)) == date(2026, 4, 2)
    assert deadlines.extension_deadline(date(2026, 3, 2), paused_days=10) == date(2026, 4, 13)


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2026, 6, 30, 23, 30, tzinfo=UTC), date(2026, 7, 1)),  # BST: 00:30
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2026, 12, 31)),  # GMT
        (datetime(2026, 6, 30, 22, 59), date(2026, 6, 30)),  # naive: taken as UTC
    ],
)
def test_receipt_is_the_europe_london_date(moment: datetime, day: date) -> None:
    assert deadlines.local_date(moment) == day


@pytest.mark.parametrize(
    ("paused", "resumed", "days"),
    [
        (date(2026, 5, 1), date(2026, 5, 1), 0),
        (date(2026, 5, 1), date(2026, 5, 11), 10),
        (date(2026, 5, 11), date(2026, 5, 1), 0),
    ],
)
def test_days_paused_are_calendar_days(paused: date, resumed: date, days: int) -> None:
    assert deadlines.days_paused(paused, resumed) == days


def test_the_due_date_itself_is_not_overdue() -> None:
    assert not deadlines.is_overdue(date(2026, 5, 5), date(2026, 5, 5))
    assert deadlines.is_overdue(date(2026, 5, 5), date(2026, 5, 6))
