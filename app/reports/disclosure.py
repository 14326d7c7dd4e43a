"""Statistical disclosure control for published aggregates: pure, no I/O.

DOMAIN.md (NHS small-number rules): a count of 1 to 7 is suppressed; every other
count is rounded to the nearest 5 (0 stays 0); totals are computed from the true
counts and then suppressed or rounded by the same rule; where a row or column has
exactly one suppressed cell, the next smallest non-zero cell is suppressed too, so no
hidden count can be recovered by subtraction.

A table here has any number of dimensions and is published with every total: each
dimension gains a `None` level meaning "the total over this dimension". A *line* is the
cells that vary along one dimension, the others fixed, together with their total; in
two dimensions, the rows and columns with their row and column totals. Secondary
suppression makes every line hold either no suppressed entry or at least two.

The suppression pattern is computed level by level, so that two reports that share a
total agree on it, and a hidden total cannot be read off another report:

1. primary suppression of every entry, cells and totals alike (1 to 7);
2. then, for each set of dimensions in order of size, the entries that break down by
   exactly those dimensions (totals over the rest). Their lines hold one entry of the
   level below, already settled; only this level's entries are suppressed further,
   until every line of the level holds none or at least two.

So the pattern of the totals by (area, age band) is the same whether the report asked
for (area, age band) or (area, age band, service): a report's secondary suppressions
never reach the entries a smaller report publishes. Callers pass the dimensions in one
canonical order for the same reason.

The line rule stops a hidden count being read off one line, but not off several: in
two or more dimensions a hidden cell can be the only unknown left once some lines are
added and others subtracted (a "bridge" between two groups of hidden cells). So each
level is then audited as an attacker would: the lines of the level and of every level
below it are solved as a linear system with the visible counts known exactly (a
stronger attacker than the rounding allows); any hidden entry the system fixes gets a
neighbour of this level hidden too, and the level is settled again, until no hidden
entry is determined. Tables of at most MAX_DIMENSIONS dimensions are protected: the
audit of a four-way table of the borough's under-fives is too large to run per request,
and such a table is mostly small cells anyway.

Where a line has one suppressed entry and no other non-zero entry left to hide, a zero
is hidden instead (a visible total beside a lone hidden cell and visible zeros would
give it away). Every dimension needs at least two levels: a line with one cell and its
total is the same count twice.
"""

import itertools
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

MAX_DIMENSIONS: Final = 3
SMALLEST_SHOWN: Final = 8
"""Counts from 1 to SMALLEST_SHOWN - 1 are suppressed."""
ROUND_TO: Final = 5

Coord = tuple[str | None, ...]
"""A level per dimension; None: the total over that dimension."""


@dataclass(frozen=True, slots=True)
class Table:
    dimensions: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]
    """Every level of each dimension, in display order, zero counts included."""
    counts: Mapping[tuple[str, ...], int]
    """True counts of the cells; a cell not given counts 0."""

    def __post_init__(self) -> None:
        if len(self.dimensions) > MAX_DIMENSIONS:
            raise ValueError(f"at most {MAX_DIMENSIONS} dimensions")
        if len(self.levels) != len(self.dimensions):
            raise ValueError("one tuple of levels per dimension")
        for name, levels in zip(self.dimensions, self.levels, strict=True):
            if len(levels) < 2 or len(set(levels)) != len(levels):
                raise ValueError(f"dimension {name} needs at least two distinct levels")
        for cell, count in self.counts.items():
            if count < 0:
                raise ValueError("counts are never negative")
            if len(cell) != len(self.dimensions) or any(
                level not in levels for level, levels in zip(cell, self.levels, strict=True)
            ):
                raise ValueError(f"cell {cell} is not in the table")


@dataclass(frozen=True, slots=True)
class Protected:
    """A table as it may be published: every entry, totals included."""

    dimensions: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]
    shown: Mapping[Coord, int | None]
    """None: suppressed. Otherwise a multiple of ROUND_TO, or 0."""


def primary(count: int) -> bool:
    return 0 < count < SMALLEST_SHOWN


def rounded(count: int) -> int:
    """To the nearest ROUND_TO (there is never a tie: ROUND_TO is odd)."""
    return ROUND_TO * ((count + ROUND_TO // 2) // ROUND_TO)


def entries(levels: Sequence[tuple[str, ...]]) -> list[Coord]:
    """Every entry of the table with its totals, in display order (totals last)."""
    return list(itertools.product(*((*lv, None) for lv in levels)))


def true_values(table: Table) -> dict[Coord, int]:
    """Every entry's true count: the cells, and each total as the sum of its cells."""
    values = dict.fromkeys(entries(table.levels), 0)
    width = len(table.dimensions)
    for cell, count in table.counts.items():
        if count:
            for mask in range(1 << width):
                values[tuple(cell[i] if mask >> i & 1 else None for i in range(width))] += count
    return values


def _masks(width: int) -> list[int]:
    """Sets of dimensions (bit masks), smallest first."""
    return sorted(range(1, 1 << width), key=lambda mask: (mask.bit_count(), mask))


def lines(levels: Sequence[tuple[str, ...]], mask: int) -> list[tuple[Coord, list[Coord]]]:
    """The lines of one level: (the total entry, the entries it totals)."""
    width = len(levels)
    axes = [levels[i] if mask >> i & 1 else (None,) for i in range(width)]
    found: list[tuple[Coord, list[Coord]]] = []
    for d in range(width):
        if not mask >> d & 1:
            continue
        others = [(None,) if i == d else axes[i] for i in range(width)]
        for total in itertools.product(*others):
            members = [(*total[:d], level, *total[d + 1 :]) for level in levels[d]]
            found.append((total, members))
    return found


Line = tuple[Coord, list[Coord]]
"""A total entry and the entries it totals."""


def _subsets(mask: int) -> list[int]:
    return [sub for sub in range(1, mask + 1) if sub & mask == sub]


def suppressed(table: Table) -> set[Coord]:
    """The entries to hide: primary suppression, then secondary level by level."""
    values = true_values(table)
    hidden = {entry for entry, count in values.items() if primary(count)}
    index = [{level: i for i, level in enumerate(levels)} for levels in table.levels]

    def order(entry: Coord) -> tuple[int, tuple[int, ...]]:
        return values[entry], tuple(-1 if v is None else index[i][v] for i, v in enumerate(entry))

    def smallest(candidates: list[Coord]) -> Coord:
        # DOMAIN.md: the next smallest non-zero cell; a zero only when none is left.
        return min([c for c in candidates if values[c] > 0] or candidates, key=order)

    level_lines: dict[int, list[Line]] = {}
    for mask in _masks(len(table.dimensions)):
        level_lines[mask] = lines(table.levels, mask)
        own = level_lines[mask]
        below = [line for sub in _subsets(mask) for line in level_lines[sub]]
        free = {member for _, members in own for member in members}
        while True:
            _settle_lines(own, hidden, smallest)
            fixed = sorted(determined(below, hidden), key=order)
            if not fixed:
                break
            candidates = _neighbours(fixed[0], own, free, hidden)
            if not candidates:
                # All of this level is hidden and a lower level still fixes an entry:
                # hide the smallest visible entry of the levels below.
                candidates = sorted(
                    {e for total, members in below for e in (total, *members)} - hidden,
                    key=order,
                )
            if not candidates:
                break
            hidden.add(smallest(candidates))
    return hidden


def _settle_lines(
    own: list[Line], hidden: set[Coord], smallest: Callable[[list[Coord]], Coord]
) -> None:
    """Hide entries of this level until none of its lines holds exactly one hidden entry."""
    lines_of: dict[Coord, list[int]] = {}
    for number, (_, members) in enumerate(own):
        for member in members:
            lines_of.setdefault(member, []).append(number)
    queue = deque(range(len(own)))
    while queue:
        total, members = own[queue.popleft()]
        if (total in hidden) + sum(member in hidden for member in members) != 1:
            continue
        pick = smallest([member for member in members if member not in hidden])
        hidden.add(pick)
        queue.extend(lines_of[pick])


def _neighbours(entry: Coord, own: list[Line], free: set[Coord], hidden: set[Coord]) -> list[Coord]:
    """Visible entries of this level to hide so that `entry` is no longer determined.

    Those sharing a line of this level with it (as a cell or as its total), or any
    visible entry of the level when none does (empty when the whole level is hidden).
    """
    near = [
        member
        for total, members in own
        if entry == total or entry in members
        for member in members
        if member not in hidden
    ]
    return near or sorted(entry for entry in free if entry not in hidden)


_PRIME: Final = (1 << 61) - 1
"""Arithmetic modulo a Mersenne prime: exact integers without fractions' cost. A wrong
answer would need the prime to divide a minor of a 0/±1 system, which we treat as
impossible in practice."""


def determined(system: list[Line], hidden: set[Coord]) -> set[Coord]:
    """The hidden entries that the lines fix, given every visible entry exactly.

    Each line says: its cells sum to its total. The visible entries are constants; the
    hidden ones unknowns. An unknown is fixed exactly when its unit vector lies in the
    row space of the system, i.e. when, in reduced row echelon form, its pivot row
    holds nothing else. Sparse Gauss-Jordan elimination modulo _PRIME.
    """
    column = {entry: n for n, entry in enumerate(sorted(hidden, key=_sort_key))}
    pivots: dict[int, dict[int, int]] = {}
    rows_with: dict[int, set[int]] = defaultdict(set)
    for total, members in system:
        row: dict[int, int] = {}
        for member in members:
            if member in column:
                row[column[member]] = 1
        if total in column:
            row[column[total]] = _PRIME - 1
        for pivot in [c for c in row if c in pivots]:
            factor = row.get(pivot)
            if factor:
                _subtract(row, pivots[pivot], factor)
        if not row:
            continue
        pivot = min(row)
        inverse = pow(row[pivot], _PRIME - 2, _PRIME)
        row = {c: v * inverse % _PRIME for c, v in row.items()}
        for other in list(rows_with[pivot]):
            target = pivots[other]
            before = set(target)
            _subtract(target, row, target[pivot])
            for c in before - set(target):
                rows_with[c].discard(other)
            for c in set(target) - before:
                rows_with[c].add(other)
        pivots[pivot] = row
        for c in row:
            rows_with[c].add(pivot)
    entries_by_column = {n: entry for entry, n in column.items()}
    return {entries_by_column[c] for c, row in pivots.items() if len(row) == 1}


def _subtract(row: dict[int, int], pivot_row: dict[int, int], factor: int) -> None:
    """row -= factor * pivot_row (mod _PRIME), dropping zeros."""
    for c, v in pivot_row.items():
        updated = (row.get(c, 0) - factor * v) % _PRIME
        if updated:
            row[c] = updated
        else:
            row.pop(c, None)


def _sort_key(entry: Coord) -> tuple[tuple[int, str], ...]:
    return tuple((0, "") if v is None else (1, v) for v in entry)


def protect(table: Table) -> Protected:
    """The table as it may be published."""
    values = true_values(table)
    hidden = suppressed(table)
    return Protected(
        dimensions=table.dimensions,
        levels=table.levels,
        shown={
            entry: None if entry in hidden else rounded(count) for entry, count in values.items()
        },
    )
