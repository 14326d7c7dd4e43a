"""Take-up and impact reports: counted from the process's report index, protected before
they leave.

Every count is a vectorised pass over the index's columns (app.reports.facts): which
children the engine would let an aggregate reach today, their age band, area, ethnic
category and attainment, and their contacts in the period. Nothing is counted in SQL:
ethnicity, review outcomes and attainment are encrypted under each household's key, and
one road for every grouping keeps the reports consistent with each other.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from app.contacts.schemas import ReviewOutcome
from app.education.schemas import Attainment
from app.platform.crypto import KeyRing
from app.platform.identifiers import EthnicCategory
from app.reports import disclosure
from app.reports.facts import NOT_HELD, ReportFacts, when
from app.reports.population import (
    AGE_BANDS,
    CANONICAL_ORDER,
    Dimension,
    ImpactOutcome,
    band_cutoffs,
    instants,
)

NOT_RECORDED: Final = "not_recorded"
"""Ethnicity level of a child whose ethnicity the service does not hold."""
UNSPECIFIED: Final = "unspecified"
"""Service level of a contact recorded without one."""
OTHER: Final = "other"
"""Service level of services too few children used to be named (fewer than
disclosure.SMALLEST_SHOWN): a free-text label used for one or two children could name
them, so it is never published."""
NONE_USED: Final = "none"

USE_AXIS: Final = "used_service"
OUTCOME_AXIS: Final = "outcome"
USED: Final = "used"
DID_NOT_USE: Final = "did_not_use"
USE_LEVELS: Final = (USED, DID_NOT_USE)
OUTCOME_LEVELS: Final = tuple(outcome.value for outcome in ReviewOutcome)
ATTAINMENT_LEVELS: Final = tuple(level.value for level in Attainment)
ETHNICITY_LEVELS: Final = (*(code.value for code in EthnicCategory), NOT_RECORDED)

Key = tuple[str, ...]
"""A child's or contact's levels, in CANONICAL_ORDER of the dimensions counted."""
Array = npt.NDArray[Any]


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date
    today: date


@dataclass(frozen=True, slots=True)
class Counts:
    """True counts at the finest grain a report needs, before protection."""

    dimensions: tuple[str, ...]
    """Dimension names in canonical order (a Dimension, or an axis of the impact tables)."""
    levels: Mapping[str, tuple[str, ...]]
    values: Mapping[Key, int]

    def table(self, dimensions: Sequence[str]) -> disclosure.Table:
        """Summed to `dimensions` (kept in canonical order)."""
        wanted = [d for d in self.dimensions if d in dimensions]
        positions = [self.dimensions.index(d) for d in wanted]
        summed: Counter[Key] = Counter()
        for key, count in self.values.items():
            summed[tuple(key[i] for i in positions)] += count
        return disclosure.Table(
            dimensions=tuple(str(d) for d in wanted),
            levels=tuple(self.levels[d] for d in wanted),
            counts=dict(summed),
        )


@dataclass(frozen=True, slots=True)
class Grid:
    """Dimensions and their levels; a cell is one integer (mixed radix), so counting
    cells is one bincount."""

    dimensions: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]

    def cell(self, codes: Sequence[Array]) -> Array:
        """Each row's cell, from one code array per dimension (indexes of its levels)."""
        cell = np.zeros(len(codes[0]) if codes else 0, dtype=np.int64)
        for code, levels in zip(codes, self.levels, strict=True):
            cell = cell * len(levels) + code
        return cell

    def counts(self, cells: Array) -> Counts:
        """The number of rows in each non-empty cell."""
        size = int(np.prod([len(levels) for levels in self.levels], dtype=np.int64))
        found = np.bincount(cells, minlength=size) if len(cells) else np.zeros(size, np.int64)
        held = np.flatnonzero(found)
        return self._named(held, found[held])

    def _named(self, cells: Array, weights: Array) -> Counts:
        values: dict[Key, int] = {}
        for cell, weight in zip(cells.tolist(), weights.tolist(), strict=True):
            key: list[str] = []
            for levels in reversed(self.levels):
                cell, at = divmod(cell, len(levels))
                key.append(levels[at])
            values[tuple(reversed(key))] = int(weight)
        return Counts(self.dimensions, dict(zip(self.dimensions, self.levels, strict=True)), values)

    def add(self, dimension: str, levels: tuple[str, ...]) -> "Grid":
        return Grid((*self.dimensions, dimension), (*self.levels, levels))


# --- who is counted, and in which group --------------------------------------------------


def _eligible(facts: ReportFacts, period: Period, *, para8: bool) -> Array:
    """The children a report counts: under five on the last day, and those the
    lawful-basis engine would let an aggregate reach today.

    DOMAIN.md: retention expired (step 4), restriction (step 5) and an upheld objection
    (step 6: take-up monitoring and impact evaluation stop) each leave a child out. With
    `para8` (a report that reaches ethnicity), Sch 1 para 8 also stops for a subject who
    objects in writing, from the day the objection is received (a subject request of type
    `objection`, whatever its later outcome), so that child is left out of every table
    and total it publishes.
    """
    children = facts.children
    today = period.today.toordinal()
    born = children["born"]
    eligible = (
        children["live"]
        & (born <= period.last.toordinal())
        & (born >= band_cutoffs(period.last)[-1].toordinal())
        & ~children["restricted"]
        & ~children["upheld"]
        & (children["destroy_on"] > today)
    )
    if para8:
        eligible &= children["objected_on"] > today
    return eligible


def _bands(facts: ReportFacts, period: Period) -> Array:
    """Each child's age band (an index of AGE_BANDS) on the last day."""
    cutoffs = np.array(sorted(day.toordinal() for day in band_cutoffs(period.last)))
    return len(AGE_BANDS) - np.searchsorted(cutoffs, facts.children["born"], side="right")


def _ethnicities(facts: ReportFacts) -> Array:
    codes = facts.children["ethnicity"].astype(np.int64)
    return np.where(codes == NOT_HELD, len(ETHNICITY_LEVELS) - 1, codes)


def _child_grid(facts: ReportFacts, period: Period, by: Sequence[Dimension]) -> tuple[Grid, Array]:
    """The grid of the person dimensions asked for, and each child's cell in it."""
    dimensions: list[str] = []
    levels: list[tuple[str, ...]] = []
    codes: list[Array] = []
    for dimension in CANONICAL_ORDER:
        if dimension not in by or dimension is Dimension.SERVICE:
            continue
        dimensions.append(dimension)
        if dimension is Dimension.AREA:
            levels.append(facts.areas)
            codes.append(facts.children["area"].astype(np.int64))
        elif dimension is Dimension.AGE_BAND:
            levels.append(AGE_BANDS)
            codes.append(_bands(facts, period))
        else:
            levels.append(ETHNICITY_LEVELS)
            codes.append(_ethnicities(facts))
    grid = Grid(tuple(dimensions), tuple(levels))
    if not codes:
        return grid, np.zeros(facts.children.size, dtype=np.int64)
    return grid, grid.cell(codes)


def _in_period(facts: ReportFacts, period: Period, eligible: Array) -> Array:
    """The contacts in the period of the children counted."""
    start, end = instants(period.first, period.last)
    at = facts.contacts["at"]
    return (at >= when(start)) & (at < when(end)) & eligible[facts.contacts["child"]]


def _users(children: Array, labels: Array, n_labels: int) -> tuple[Array, Array]:
    """The distinct (child, label) pairs among contacts."""
    pairs = np.unique(children.astype(np.int64) * n_labels + labels)
    return pairs // n_labels, pairs % n_labels


def _labelled(facts: ReportFacts, contacts: Array) -> tuple[tuple[str, ...], Array]:
    """The service levels of the contacts selected: each service at least
    SMALLEST_SHOWN of their children used by name, then `unspecified` and `other`; and
    each contact's level."""
    services = facts.contacts["service"][contacts]
    children = facts.contacts["child"][contacts]
    named_ids: list[int] = []
    recorded = services != NOT_HELD
    if recorded.any():
        _, service_of_pair = _users(children[recorded], services[recorded], len(facts.services))
        used_by = np.bincount(service_of_pair, minlength=len(facts.services))
        named_ids = np.flatnonzero(used_by >= disclosure.SMALLEST_SHOWN).tolist()
    named = sorted(facts.services[i] for i in named_ids)
    levels = (*named, UNSPECIFIED, OTHER)
    lookup = np.full(len(facts.services) + 1, levels.index(OTHER), dtype=np.int64)
    for i in named_ids:
        lookup[i] = levels.index(facts.services[i])
    lookup[NOT_HELD] = levels.index(UNSPECIFIED)
    return levels, lookup[services]


# --- take-up -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TakeUp:
    children: Counts
    """Children under five on the last day, by everything asked but service."""
    in_touch: Counts
    """Of those, the children with at least one contact in the period."""
    contacts: Counts
    """Contacts in the period."""
    service_users: Counts | None
    """Per service, the children who used it in the period (only when grouped by service)."""


def take_up(
    session: Session,
    period: Period,
    by: Sequence[Dimension],
    keys: KeyRing,
    facts: ReportFacts,
) -> TakeUp:
    """True counts at the grain of `by` (and of every total of it)."""
    with facts.reading(session, keys):
        eligible = _eligible(facts, period, para8=Dimension.ETHNICITY in by)
        grid, cell = _child_grid(facts, period, by)
        selected = _in_period(facts, period, eligible)
        child_of = facts.contacts["child"][selected]
        population = grid.counts(cell[eligible])
        in_touch = grid.counts(cell[np.unique(child_of)])
        if Dimension.SERVICE not in by:
            return TakeUp(population, in_touch, grid.counts(cell[child_of]), None)
        levels, label = _labelled(facts, selected)
        with_service = grid.add(Dimension.SERVICE, levels)
        contacts = with_service.counts(cell[child_of] * len(levels) + label)
        user, user_label = _users(child_of, label, len(levels))
        users = with_service.counts(cell[user] * len(levels) + user_label)
        return TakeUp(population, in_touch, contacts, users)


# --- impact ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Impact:
    tables: list[tuple[str | None, Counts]]
    """(the service compared, or None when not by service; the counts by use and outcome)."""


def impact(
    session: Session,
    period: Period,
    by: Dimension | None,
    keys: KeyRing,
    facts: ReportFacts,
    outcome: ImpactOutcome = ImpactOutcome.DEVELOPMENT_REVIEW,
) -> Impact:
    """Children by an outcome, for those who used a service in the period and those who
    did not: for development reviews, the children reviewed in the period by the outcome
    of their latest review; for attainment, the children whose education record holds an
    attainment, by that attainment."""
    with facts.reading(session, keys):
        eligible = _eligible(facts, period, para8=False)
        selected = _in_period(facts, period, eligible)
        if outcome is ImpactOutcome.ATTAINMENT:
            counted, code = _attainments(facts, eligible)
            levels: tuple[str, ...] = ATTAINMENT_LEVELS
        else:
            counted, code = _latest_outcomes(facts, selected)
            levels = OUTCOME_LEVELS
        grouping = (by,) if by in (Dimension.AREA, Dimension.AGE_BAND) else ()
        assert by is not Dimension.ETHNICITY, "the impact report does not reach ethnicity"
        grid, cell = _child_grid(facts, period, grouping)
        grid = grid.add(USE_AXIS, USE_LEVELS).add(OUTCOME_AXIS, levels)
        counted_cell = cell[counted]
        used = selected & ~facts.contacts["review"]

        def counts(users: Array) -> Counts:
            did_not_use = (~np.isin(counted, users)).astype(np.int64)
            return grid.counts((counted_cell * len(USE_LEVELS) + did_not_use) * len(levels) + code)

        if by is not Dimension.SERVICE:
            return Impact(tables=[(None, counts(np.unique(facts.contacts["child"][used])))])
        services, label = _labelled(facts, used)
        user, user_label = _users(facts.contacts["child"][used], label, len(services))
        return Impact(
            tables=[(service, counts(user[user_label == i])) for i, service in enumerate(services)]
        )


def _attainments(facts: ReportFacts, eligible: Array) -> tuple[Array, Array]:
    """Each child counted whose education record holds an attainment, and that attainment
    (an index of ATTAINMENT_LEVELS). The record holds the latest assessment only, so it
    is counted as recorded now, whatever the period."""
    attainment = facts.children["attainment"]
    counted = np.flatnonzero(eligible & (attainment != NOT_HELD))
    return counted, attainment[counted].astype(np.int64)


def _latest_outcomes(facts: ReportFacts, selected: Array) -> tuple[Array, Array]:
    """Each child reviewed in the period (with an outcome), and that latest review's
    outcome (an index of OUTCOME_LEVELS): the latest by time, then by id."""
    contacts = facts.contacts
    reviews = np.flatnonzero(selected & contacts["review"] & (contacts["outcome"] != NOT_HELD))
    children = contacts["child"][reviews]
    order = np.lexsort((contacts["tie"][reviews], contacts["at"][reviews], children))
    children, latest = children[order], reviews[order]
    last_of_child = np.ones(len(children), dtype=bool)
    last_of_child[:-1] = children[1:] != children[:-1]
    return children[last_of_child], contacts["outcome"][latest[last_of_child]].astype(np.int64)
