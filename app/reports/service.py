"""Take-up and impact reports: counted in the database, protected before they leave.

Without ethnicity every count is a GROUP BY in SQL over the children's report index
(date of birth, with the centre and the engine's flags beside it): no row of a child
reaches Python, only counts by (centre, date of birth[, service]), which Python sums
into age bands. Ethnicity and development-review outcomes are stored encrypted under
each household's key (DOMAIN.md), so SQL cannot group by them: for those SQL still picks
the children (and the reviews) by the same rules, streamed one row per child, and the
process's decrypted facts (app.reports.facts, kept in memory and current from the change
feed) name each one's ethnic category or outcome.
"""

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final
from uuid import UUID

from sqlalchemy import ColumnElement, Select, case, func, literal, select, text
from sqlalchemy.orm import Session

from app.contacts.models import Contact
from app.contacts.schemas import ContactKind, ReviewOutcome
from app.people.models import Person
from app.platform.crypto import KeyRing
from app.platform.identifiers import EthnicCategory
from app.reports import disclosure
from app.reports.facts import ReportFacts
from app.reports.population import (
    AGE_BANDS,
    CANONICAL_ORDER,
    Dimension,
    area_levels,
    area_of,
    band_cutoffs,
    band_of,
    children,
    instants,
    not_objected_in_writing,
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
STREAM_BATCH: Final = 5000

USE_AXIS: Final = "used_service"
OUTCOME_AXIS: Final = "outcome"
USED: Final = "used"
DID_NOT_USE: Final = "did_not_use"
USE_LEVELS: Final = (USED, DID_NOT_USE)
OUTCOME_LEVELS: Final = tuple(outcome.value for outcome in ReviewOutcome)
REVIEW: Final = ContactKind.DEVELOPMENT_REVIEW.value

Key = tuple[str, ...]
"""A child's or contact's levels, in CANONICAL_ORDER of the dimensions counted."""


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


def _tune(session: Session) -> None:
    """PostgreSQL, for this request's transaction only: these are one-off analytic
    queries over a million children. JIT compilation would cost more than it saves; the
    grouping fits in memory; the planner, which cannot estimate how few groups a report
    has, is told that parallel workers cost nothing to start, so it scans and joins the
    children and the contacts with them; and each query is planned for its own dates
    (the engine prepares statements it runs often, and a generic plan that ignores the
    period is several times slower)."""
    if session.get_bind().dialect.name == "postgresql":
        for setting in (
            "plan_cache_mode = force_custom_plan",
            "jit = off",
            "work_mem = '64MB'",
            "parallel_setup_cost = 0",
            "parallel_tuple_cost = 0",
        ):
            session.execute(text(f"SET LOCAL {setting}"))


def _band_levels() -> tuple[str, ...]:
    return AGE_BANDS


def _ethnicity_levels() -> tuple[str, ...]:
    return (*(code.value for code in EthnicCategory), NOT_RECORDED)


def _in_period(period: Period) -> list[ColumnElement[bool]]:
    start, end = instants(period.first, period.last)
    return [Contact.occurred_at >= start, Contact.occurred_at < end]


# --- services --------------------------------------------------------------------------


def _named_services(
    session: Session, period: Period, where: Sequence[ColumnElement[bool]]
) -> tuple[str, ...]:
    """Services used by at least SMALLEST_SHOWN children of the population in the period."""
    users = func.count(func.distinct(Contact.person_id))
    rows = session.execute(
        select(Contact.service)
        .join(Person, Person.id == Contact.person_id)
        .where(*children(period.last, period.today), *_in_period(period), *where)
        .where(Contact.service.is_not(None))
        .group_by(Contact.service)
        .having(users >= disclosure.SMALLEST_SHOWN)
    ).scalars()
    return tuple(sorted(label for label in rows if label is not None))


def _service_label(named: Sequence[str]) -> ColumnElement[str]:
    if not named:
        return case((Contact.service.is_(None), UNSPECIFIED), else_=OTHER)
    return case(
        (Contact.service.is_(None), UNSPECIFIED),
        (Contact.service.in_(named), Contact.service),
        else_=OTHER,
    )


def _service_levels(named: Sequence[str], *extra: str) -> tuple[str, ...]:
    return (*named, UNSPECIFIED, OTHER, *extra)


# --- ethnicity -------------------------------------------------------------------------


def _stream(session: Session, query: Select[*tuple[Any, ...]]) -> Iterator[Any]:
    # Per statement: Connection.execution_options() would change the request's connection.
    yield from session.connection().execute(query, execution_options={"yield_per": STREAM_BATCH})


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
    _tune(session)
    cutoffs = band_cutoffs(period.last)
    with_service = Dimension.SERVICE in by
    # Sch 1 para 8: a report that reaches ethnicity leaves out every child whose written
    # objection has been received, in every table and total it publishes.
    para8 = not_objected_in_writing(period.today) if Dimension.ETHNICITY in by else []
    named = _named_services(session, period, para8) if with_service else ()
    levels: dict[Dimension, tuple[str, ...]] = {
        Dimension.AREA: area_levels(),
        Dimension.AGE_BAND: _band_levels(),
        Dimension.ETHNICITY: _ethnicity_levels(),
        Dimension.SERVICE: _service_levels(named),
    }
    person_dims = tuple(d for d in CANONICAL_ORDER if d in by and d is not Dimension.SERVICE)
    contact_dims = tuple(d for d in CANONICAL_ORDER if d in by)
    label = _service_label(named)

    def key(centre: str | None, born: date, ethnicity: str | None = None) -> Key:
        parts = {
            Dimension.AREA: area_of(centre),
            Dimension.AGE_BAND: band_of(born, cutoffs),
            Dimension.ETHNICITY: ethnicity or NOT_RECORDED,
        }
        return tuple(parts[d] for d in person_dims)

    population: Counter[Key] = Counter()
    in_touch: Counter[Key] = Counter()
    contacts: Counter[Key] = Counter()
    users: Counter[Key] = Counter()
    if Dimension.ETHNICITY not in by:
        for centre, born, count in session.execute(_population_counts(period)):
            population[key(centre, born)] += count
        for centre, born, n_contacts, n_children in session.execute(_contact_counts(period, None)):
            contacts_key = key(centre, born)
            in_touch[contacts_key] += n_children
            if not with_service:
                contacts[contacts_key] += int(n_contacts)
        if with_service:
            for centre, born, service, n_contacts, n_children in session.execute(
                _contact_counts(period, label)
            ):
                contacts[(*key(centre, born), service)] += int(n_contacts)
                users[(*key(centre, born), service)] += n_children
    else:
        facts.refresh(session, keys)
        ethnicity: dict[UUID, str | None] = {}
        for person_id, centre, born in _stream(session, _population(period, para8)):
            code = facts.ethnicity(person_id)
            population[key(centre, born, code)] += 1
            ethnicity[person_id] = code
        for person_id, centre, born, _, n_contacts in _stream(
            session, _per_child_contacts(period, None, para8)
        ):
            child_key = key(centre, born, ethnicity.get(person_id))
            in_touch[child_key] += 1
            if not with_service:
                contacts[child_key] += n_contacts
        if with_service:
            for person_id, centre, born, service, n_contacts in _stream(
                session, _per_child_contacts(period, label, para8)
            ):
                child_key = key(centre, born, ethnicity.get(person_id))
                contacts[(*child_key, service)] += n_contacts
                users[(*child_key, service)] += 1

    person_levels: dict[str, tuple[str, ...]] = {d: levels[d] for d in person_dims}
    contact_levels: dict[str, tuple[str, ...]] = {d: levels[d] for d in contact_dims}
    return TakeUp(
        children=Counts(person_dims, person_levels, dict(population)),
        in_touch=Counts(person_dims, person_levels, dict(in_touch)),
        contacts=Counts(contact_dims, contact_levels, dict(contacts)),
        service_users=(Counts(contact_dims, contact_levels, dict(users)) if with_service else None),
    )


def _population_counts(period: Period) -> Select[*tuple[Any, ...]]:
    """Children by (centre, date of birth)."""
    return (
        select(Person.centre_code, Person.date_of_birth, func.count())
        .where(*children(period.last, period.today))
        .group_by(Person.centre_code, Person.date_of_birth)
    )


def _population(period: Period, where: Sequence[ColumnElement[bool]]) -> Select[*tuple[Any, ...]]:
    """Each child of the population (and `where`): for counts by a dimension SQL cannot see."""
    return select(Person.id, Person.centre_code, Person.date_of_birth).where(
        *children(period.last, period.today), *where
    )


def _contact_counts(period: Period, label: ColumnElement[str] | None) -> Select[*tuple[Any, ...]]:
    """Contacts and children in touch by (centre, date of birth[, service]).

    The period's contacts are first counted per child (a range of the occurred_at index),
    so the join to the children meets each child once and no DISTINCT is needed.
    """
    per_child_grouping: list[Any] = [Contact.person_id]
    if label is not None:
        per_child_grouping.append(label)
    per_child = (
        select(Contact.person_id, *_labelled(label), func.count().label("n"))
        .where(*_in_period(period))
        .group_by(*per_child_grouping)
        .subquery()
    )
    grouping: list[Any] = [Person.centre_code, Person.date_of_birth]
    if label is not None:
        grouping.append(per_child.c.service)
    return (
        select(*grouping, func.sum(per_child.c.n), func.count())
        .select_from(per_child)
        .join(Person, Person.id == per_child.c.person_id)
        .where(*children(period.last, period.today))
        .group_by(*grouping)
    )


def _labelled(label: ColumnElement[str] | None) -> list[Any]:
    return [] if label is None else [label.label("service")]


def _per_child_contacts(
    period: Period, label: ColumnElement[str] | None, where: Sequence[ColumnElement[bool]] = ()
) -> Select[*tuple[Any, ...]]:
    """Contacts per child (of `where`, and service): for counts by a dimension SQL cannot
    see."""
    service = label if label is not None else literal(None)
    grouping: list[Any] = [Contact.person_id, Person.centre_code, Person.date_of_birth]
    if label is not None:
        grouping.append(label)
    return (
        select(*grouping[:3], service.label("service"), func.count())
        .join(Person, Person.id == Contact.person_id)
        .where(*children(period.last, period.today), *where, *_in_period(period))
        .group_by(*grouping)
    )


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
) -> Impact:
    """Children reviewed in the period by the outcome of their latest review, for those
    who used a service in the period and those who did not."""
    _tune(session)
    cutoffs = band_cutoffs(period.last)
    facts.refresh(session, keys)
    outcomes = _latest_outcomes(session, period, facts)
    non_review = [Contact.kind != REVIEW]
    named = _named_services(session, period, non_review) if by is Dimension.SERVICE else ()
    label = _service_label(named)
    used: dict[UUID, set[str]] = defaultdict(set)
    for person_id, service in _stream(
        session,
        select(Contact.person_id, label)
        .join(Person, Person.id == Contact.person_id)
        .where(*children(period.last, period.today), *_in_period(period), *non_review)
        .distinct(),
    ):
        used[person_id].add(service)

    def group(child: _Reviewed) -> tuple[str, ...]:
        if by is Dimension.AREA:
            return (area_of(child.centre_code),)
        if by is Dimension.AGE_BAND:
            return (band_of(child.date_of_birth, cutoffs),)
        return ()

    group_dims: tuple[Dimension, ...] = (by,) if by in (Dimension.AREA, Dimension.AGE_BAND) else ()
    group_levels: dict[str, tuple[str, ...]] = {}
    if by is Dimension.AREA:
        group_levels[Dimension.AREA] = area_levels()
    if by is Dimension.AGE_BAND:
        group_levels[Dimension.AGE_BAND] = _band_levels()
    dims: tuple[str, ...] = (*group_dims, USE_AXIS, OUTCOME_AXIS)
    levels: dict[str, tuple[str, ...]] = {
        **group_levels,
        USE_AXIS: USE_LEVELS,
        OUTCOME_AXIS: OUTCOME_LEVELS,
    }

    def counts(uses: Mapping[UUID, bool]) -> Counts:
        values: Counter[Key] = Counter()
        for child in outcomes:
            values[(*group(child), USED if uses[child.id] else DID_NOT_USE, child.outcome)] += 1
        return Counts(dims, levels, dict(values))

    if by is Dimension.SERVICE:
        return Impact(
            tables=[
                (service, counts({c.id: service in used.get(c.id, ()) for c in outcomes}))
                for service in _service_levels(named)
            ]
        )
    return Impact(tables=[(None, counts({c.id: c.id in used for c in outcomes}))])


@dataclass(frozen=True, slots=True)
class _Reviewed:
    id: UUID
    centre_code: str | None
    date_of_birth: date
    outcome: str


def _latest_outcomes(session: Session, period: Period, facts: ReportFacts) -> list[_Reviewed]:
    """Each child reviewed in the period, with the outcome of the latest review."""
    query = (
        select(Contact.id, Contact.person_id, Person.centre_code, Person.date_of_birth)
        .join(Person, Person.id == Contact.person_id)
        .where(
            *children(period.last, period.today),
            *_in_period(period),
            Contact.kind == REVIEW,
            Contact.outcome.is_not(None),
        )
        .order_by(Contact.person_id, Contact.occurred_at.desc(), Contact.id.desc())
    )
    latest: list[_Reviewed] = []
    seen: UUID | None = None
    for contact_id, person_id, centre_code, born in _stream(session, query):
        if person_id == seen:
            continue
        seen = person_id
        # None only for a household whose key is gone: its outcome cannot be read.
        outcome = facts.outcome(contact_id)
        if outcome is not None:
            latest.append(_Reviewed(person_id, centre_code, born, outcome))
    return latest
