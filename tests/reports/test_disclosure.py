"""Disclosure control (DOMAIN.md): small counts hidden, the rest rounded, and nothing hidden
that arithmetic on what is shown could bring back."""

import itertools
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.reports import disclosure
from app.reports.disclosure import Coord, Protected, Table, protect, true_values


@st.composite
def tables(draw: st.DrawFn, max_dimensions: int = 3) -> Table:
    width = draw(st.integers(min_value=1, max_value=max_dimensions))
    levels = tuple(
        tuple(f"{d}{i}" for i in range(draw(st.integers(min_value=2, max_value=5))))
        for d in range(width)
    )
    count = st.one_of(
        st.just(0),
        st.integers(min_value=1, max_value=7),
        st.integers(min_value=8, max_value=80),
    )
    counts = {cell: draw(count) for cell in itertools.product(*levels)}
    return Table(tuple(f"d{i}" for i in range(width)), levels, counts)


def all_lines(protected: Protected) -> list[tuple[Coord, list[Coord]]]:
    """Every row, column and other line of the published table, with its total."""
    found = []
    for total in protected.shown:
        for d, value in enumerate(total):
            if value is None:
                members = [(*total[:d], level, *total[d + 1 :]) for level in protected.levels[d]]
                found.append((total, members))
    return found


def recoverable(protected: Protected, truth: dict[Coord, int]) -> set[Coord]:
    """Hidden entries an attacker fixes from the lines, knowing every shown count exactly
    (a stronger attacker than rounding allows): exact rational elimination."""
    hidden = sorted((e for e, v in protected.shown.items() if v is None), key=str)
    column = {entry: n for n, entry in enumerate(hidden)}
    rows: list[list[Fraction]] = []
    for total, members in all_lines(protected):
        row = [Fraction(0)] * len(hidden)
        for member in members:
            if member in column:
                row[column[member]] += 1
        if total in column:
            row[column[total]] -= 1
        if any(row):
            rows.append(row)
    pivots: list[tuple[int, int]] = []
    r = 0
    for c in range(len(hidden)):
        p = next((i for i in range(r, len(rows)) if rows[i][c] != 0), None)
        if p is None:
            continue
        rows[r], rows[p] = rows[p], rows[r]
        rows[r] = [x / rows[r][c] for x in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][c] != 0:
                factor = rows[i][c]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[r], strict=True)]
        pivots.append((r, c))
        r += 1
    return {
        hidden[c]
        for row, c in pivots
        if all(rows[row][k] == 0 for k in range(len(hidden)) if k != c)
    }


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, 0), (1, None), (7, None), (8, 10), (12, 10), (13, 15), (17, 15), (18, 20), (100, 100)],
)
def test_a_count_is_suppressed_below_8_and_otherwise_rounded_to_5(
    count: int, shown: int | None
) -> None:
    table = Table(("area",), (("a", "b"),), {("a",): count, ("b",): 0})
    # With one small cell and a zero, the line needs a second hidden entry; look only at a.
    assert protect(table).shown[("a",)] == shown


def test_a_one_dimension_report_hides_the_next_smallest_cell_beside_a_small_one() -> None:
    table = Table(("area",), (("a", "b", "c"),), {("a",): 3, ("b",): 20, ("c",): 30})
    shown = protect(table).shown
    assert shown == {("a",): None, ("b",): None, ("c",): 30, (None,): 55}


def test_a_hidden_total_takes_a_cell_with_it() -> None:
    table = Table(("area",), (("a", "b"),), {("a",): 2, ("b",): 3})
    assert protect(table).shown == {("a",): None, ("b",): None, (None,): None}


def test_a_lone_hidden_cell_in_a_column_of_zeros_hides_a_zero_too() -> None:
    # Column c2 holds 10 and zeros: hiding 10 beside the 3 in its row would leave it the
    # column total; a zero of that column is hidden with it.
    levels = (("r1", "r2", "r3"), ("c1", "c2"))
    counts = {("r1", "c1"): 3, ("r1", "c2"): 10, ("r2", "c1"): 40, ("r3", "c1"): 30}
    protected = protect(Table(("row", "col"), levels, counts))
    assert recoverable(protected, true_values(Table(("row", "col"), levels, counts))) == set()
    assert protected.shown[("r1", "c1")] is None


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(tables())
def test_every_count_shown_is_0_or_a_multiple_of_5_within_2_of_the_truth(table: Table) -> None:
    truth = true_values(table)
    for entry, shown in protect(table).shown.items():
        if disclosure.primary(truth[entry]):
            assert shown is None
        if shown is not None:
            assert shown % 5 == 0
            assert abs(shown - truth[entry]) <= 2
            assert (shown == 0) == (truth[entry] == 0)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(tables())
def test_no_line_holds_exactly_one_suppressed_count(table: Table) -> None:
    """Subtracting the shown cells of a row or column from its shown total never gives a
    hidden cell; nor does adding up the cells give a hidden total."""
    protected = protect(table)
    for total, members in all_lines(protected):
        hidden = [e for e in (total, *members) if protected.shown[e] is None]
        assert len(hidden) != 1, (total, hidden)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(tables())
@example(
    # Once a whole level is hidden, a lower level can still fix an entry.
    Table(
        dimensions=("d0", "d1", "d2"),
        levels=(("00", "01"), ("10", "11"), ("20", "21")),
        counts={
            ("00", "10", "20"): 0,
            ("00", "10", "21"): 1,
            ("00", "11", "20"): 0,
            ("00", "11", "21"): 0,
            ("01", "10", "20"): 1,
            ("01", "10", "21"): 8,
            ("01", "11", "20"): 0,
            ("01", "11", "21"): 1,
        },
    )
)
def test_no_suppressed_count_is_fixed_by_any_combination_of_lines(table: Table) -> None:
    protected = protect(table)
    assert recoverable(protected, true_values(table)) == set()


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(tables(), st.data())
def test_a_smaller_report_shows_its_totals_exactly_as_the_larger_one_does(
    table: Table, data: st.DataObject
) -> None:
    """Two reports of one period (say by area, and by area and age band) agree on every
    count they share, so one cannot uncover what the other hides."""
    width = len(table.dimensions)
    keep = data.draw(st.sets(st.integers(0, width - 1), min_size=1, max_size=width))
    kept = sorted(keep)
    summed: dict[tuple[str, ...], int] = {}
    for cell, count in table.counts.items():
        key = tuple(cell[i] for i in kept)
        summed[key] = summed.get(key, 0) + count
    smaller = protect(
        Table(
            tuple(table.dimensions[i] for i in kept), tuple(table.levels[i] for i in kept), summed
        )
    )
    larger = protect(table).shown
    for entry, shown in smaller.shown.items():
        wide: list[str | None] = [None] * width
        for position, i in enumerate(kept):
            wide[i] = entry[position]
        assert larger[tuple(wide)] == shown


def test_a_dimension_needs_two_levels() -> None:
    with pytest.raises(ValueError, match="two distinct levels"):
        Table(("area",), (("a",),), {("a",): 9})


def test_at_most_three_dimensions() -> None:
    levels = (("a", "b"),) * 4
    with pytest.raises(ValueError, match="at most 3"):
        Table(("w", "x", "y", "z"), levels, {})
