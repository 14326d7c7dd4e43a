"""The Healthy Child Programme windows (DOMAIN.md), at their edges."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.contacts.schemas import DevelopmentReview as Review
from app.invitations.windows import born_between, window

NEW_BIRTH = Review.NEW_BIRTH
SIX_TO_EIGHT = Review.SIX_TO_EIGHT_WEEKS
ONE_YEAR = Review.ONE_YEAR
TWO_YEAR = Review.TWO_TO_TWO_AND_A_HALF_YEARS


@pytest.mark.parametrize(
    ("review", "born", "first", "last"),
    [
        # Day 10 to day 14; day 42 to day 62.
        (NEW_BIRTH, date(2025, 3, 1), date(2025, 3, 11), date(2025, 3, 15)),
        (SIX_TO_EIGHT, date(2025, 3, 1), date(2025, 4, 12), date(2025, 5, 2)),
        # The 9-month birthday to the day before the 13-month one.
        (ONE_YEAR, date(2025, 3, 15), date(2025, 12, 15), date(2026, 4, 14)),
        # Born 31 January: the 9-month birthday is 31 October; the 13-month one falls on
        # the last day of February, so the window closes the day before it.
        (ONE_YEAR, date(2025, 1, 31), date(2025, 10, 31), date(2026, 2, 27)),
        (ONE_YEAR, date(2023, 1, 31), date(2023, 10, 31), date(2024, 2, 28)),
        # Born 31 May: the 9-month birthday is the last day of February.
        (ONE_YEAR, date(2024, 5, 31), date(2025, 2, 28), date(2025, 6, 29)),
        (ONE_YEAR, date(2023, 5, 31), date(2024, 2, 29), date(2024, 6, 29)),
        # Born on a leap day: 24 months is 28 February; 31 months is 30 September.
        (TWO_YEAR, date(2024, 2, 29), date(2026, 2, 28), date(2026, 9, 28)),
        # Born 31 July: the 31-month birthday is the last day of February.
        (TWO_YEAR, date(2023, 7, 31), date(2025, 7, 31), date(2026, 2, 27)),
        (TWO_YEAR, date(2021, 7, 31), date(2023, 7, 31), date(2024, 2, 28)),
    ],
)
def test_a_childs_window_opens_and_closes_on_the_days_domain_md_gives(
    review: Review, born: date, first: date, last: date
) -> None:
    assert window(review, born) == (first, last)


@pytest.mark.parametrize(
    ("review", "on", "earliest", "latest"),
    [
        (NEW_BIRTH, date(2026, 3, 1), date(2026, 2, 15), date(2026, 2, 19)),
        (SIX_TO_EIGHT, date(2026, 3, 1), date(2025, 12, 29), date(2026, 1, 18)),
        # On 28 February 2026 the children born 29 to 31 May 2025 reach 9 months.
        (ONE_YEAR, date(2026, 2, 28), date(2025, 2, 1), date(2025, 5, 31)),
        # On 27 February 2026 a child born 31 January 2025 is still due; on 28 February
        # (their 13-month birthday) they are not.
        (ONE_YEAR, date(2026, 2, 27), date(2025, 1, 28), date(2025, 5, 27)),
        (ONE_YEAR, date(2026, 3, 1), date(2025, 2, 2), date(2025, 6, 1)),
        # A leap year: on 29 February 2024 those born 29 to 31 May 2023 reach 9 months, and
        # those born 29 to 31 January 2023 their 13-month birthday (no longer due).
        (ONE_YEAR, date(2024, 2, 29), date(2023, 2, 1), date(2023, 5, 31)),
        (TWO_YEAR, date(2026, 2, 28), date(2023, 8, 1), date(2024, 2, 29)),
    ],
)
def test_the_children_due_on_a_day_were_born_between_two_dates(
    review: Review, on: date, earliest: date, latest: date
) -> None:
    assert born_between(review, on) == (earliest, latest)


@given(
    review=st.sampled_from(Review),
    born=st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31)),
    offset=st.integers(min_value=-40, max_value=1000),
)
def test_a_child_is_listed_on_exactly_the_days_of_their_window(
    review: Review, born: date, offset: int
) -> None:
    on = born + timedelta(days=offset)
    first, last = window(review, born)
    earliest, latest = born_between(review, on)
    assert (first <= on <= last) == (earliest <= born <= latest)
