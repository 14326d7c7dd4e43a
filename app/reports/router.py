"""/v1/reports: take-up and impact, aggregates only, after disclosure control."""

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query

from app.decisions.access import Access, Shape, declare
from app.decisions.guard import today
from app.platform.crypto import KeyRing, get_key_ring
from app.platform.db import SessionDep
from app.platform.identifiers import IsoDate
from app.platform.problems import Unprocessable
from app.policy.vocabulary import Action, Category
from app.reports import disclosure, schemas
from app.reports import service as reports_service
from app.reports.facts import ReportFacts, get_report_facts
from app.reports.population import CANONICAL_ORDER, Dimension, ImpactOutcome

router = APIRouter(tags=["reports"])

KeysDep = Annotated[KeyRing, Depends(get_key_ring)]
FactsDep = Annotated[ReportFacts, Depends(get_report_facts)]
From = Annotated[IsoDate, Query(alias="from", description="First day of the period (London).")]
To = Annotated[
    IsoDate,
    Query(alias="to", description="Last day of the period (London); ages are taken on this day."),
]
TAKE_UP_CATEGORIES: Final = frozenset({Category.IDENTITY, Category.CONTACT, Category.SERVICES})
"""Age band (from date of birth), area (from postcode), contacts: as aggregates."""
IMPACT_CATEGORIES: Final = frozenset(
    {Category.IDENTITY, Category.CONTACT, Category.SERVICES, Category.HEALTH}
)
EDUCATION_IMPACT_CATEGORIES: Final = frozenset(
    {Category.IDENTITY, Category.CONTACT, Category.SERVICES, Category.EDUCATION}
)
"""The impact report by attainment reaches education outcomes, and no health data."""
IMPACT_BY: Final = (Dimension.AREA, Dimension.AGE_BAND, Dimension.SERVICE)


def _period(first: date, last: date) -> reports_service.Period:
    if first > last:
        raise Unprocessable("from", "must not be after `to`")
    return reports_service.Period(first=first, last=last, today=today())


def _dimensions(by: str) -> list[Dimension]:
    names = [name.strip() for name in by.split(",") if name.strip()]
    found: list[Dimension] = []
    for name in names:
        try:
            dimension = Dimension(name)
        except ValueError:
            raise Unprocessable("by", f"one or more of {', '.join(CANONICAL_ORDER)}") from None
        if dimension in found:
            raise Unprocessable("by", "names a dimension twice")
        found.append(dimension)
    if len(found) > disclosure.MAX_DIMENSIONS:
        raise Unprocessable(
            "by",
            f"at most {disclosure.MAX_DIMENSIONS} dimensions: a finer table of the borough's "
            "under-fives is mostly small counts, and suppressed",
        )
    return [d for d in CANONICAL_ORDER if d in found]


def _table(protected: disclosure.Protected) -> schemas.ReportTable:
    return schemas.ReportTable(
        dimensions=list(protected.dimensions),
        levels={d: list(lv) for d, lv in zip(protected.dimensions, protected.levels, strict=True)},
        cells=_cells(protected),
    )


def _cells(protected: disclosure.Protected) -> list[schemas.Cell]:
    return [
        schemas.Cell.model_validate(
            {**dict(zip(protected.dimensions, entry, strict=True)), "count": count}
        )
        for entry, count in protected.shown.items()
    ]


@dataclass(frozen=True, slots=True)
class TakeUpAsk:
    first: date
    last: date
    period: reports_service.Period
    dimensions: list[Dimension]


@dataclass(frozen=True, slots=True)
class ImpactAsk:
    first: date
    last: date
    period: reports_service.Period
    by: Dimension | None
    outcome: ImpactOutcome | None
    """As asked: None when the request did not name one (development reviews)."""


def _take_up_ask(
    first: From,
    last: To,
    by: Annotated[
        str, Query(max_length=100, description="Comma-separated, e.g. `area,age_band`.")
    ] = "",
) -> TakeUpAsk:
    dimensions = _dimensions(by)
    return TakeUpAsk(first, last, _period(first, last), dimensions)


def _impact_ask(
    first: From,
    last: To,
    by: Annotated[
        Dimension | None, Query(description="One of `area`, `age_band`, `service`.")
    ] = None,
    outcome: Annotated[
        ImpactOutcome | None,
        Query(
            description="What children are counted by: `development_review` (the default), "
            "the outcome of each child's latest development review in the period; or "
            "`attainment`, the education outcome: the attainment each child's education "
            "record holds, against the Early Years Foundation Stage's expected level of "
            "development (`emerging`, `expected`, `exceeding`), as recorded now."
        ),
    ] = None,
) -> ImpactAsk:
    if by is not None and by not in IMPACT_BY:
        raise Unprocessable("by", "one of area, age_band, service")
    return ImpactAsk(first, last, _period(first, last), by, outcome)


def _take_up_shape(_body: None, ask: TakeUpAsk | None) -> Shape:
    """Decided (and audited) before any count is made; ethnicity only when grouped by it."""
    if ask is None:
        return Shape()
    categories = TAKE_UP_CATEGORIES
    if Dimension.ETHNICITY in ask.dimensions:
        categories = categories | {Category.ETHNICITY}
    return Shape(
        categories=categories,
        detail={
            "from": ask.first.isoformat(),
            "to": ask.last.isoformat(),
            "by": [d.value for d in ask.dimensions],
        },
    )


def _impact_shape(_body: None, ask: ImpactAsk | None) -> Shape:
    """Development-review outcomes are health data; attainment is education data: the
    decision names the categories of the outcome asked for, and its bases follow."""
    if ask is None:
        return Shape()
    attainment = ask.outcome is ImpactOutcome.ATTAINMENT
    return Shape(
        categories=EDUCATION_IMPACT_CATEGORIES if attainment else IMPACT_CATEGORIES,
        detail={
            "from": ask.first.isoformat(),
            "to": ask.last.isoformat(),
            "by": ask.by.value if ask.by else None,
            "outcome": (ask.outcome or ImpactOutcome.DEVELOPMENT_REVIEW).value,
        },
    )


TakeUp = Annotated[
    Access,
    declare(
        "take_up_report",
        Action.AGGREGATE,
        TAKE_UP_CATEGORIES,
        "report.take_up",
        query=_take_up_ask,
        shape=_take_up_shape,
        commits_first=True,
    ),
]
Impact = Annotated[
    Access,
    declare(
        "impact_report",
        Action.AGGREGATE,
        IMPACT_CATEGORIES,
        "report.impact",
        query=_impact_ask,
        shape=_impact_shape,
        commits_first=True,
    ),
]


@router.get(
    "/reports/take-up",
    summary="Take-up of services, grouped by area, age band, ethnicity and service",
    description="Under `take_up_monitoring` only (public health analysts): counts, never "
    "rows. `by` names up to three of `area` (the children's centre area, or `unassigned`), "
    "`age_band` (completed years on `to`: 0-1 to 4-5), `ethnicity` (NHS ethnic category, or "
    "`not_recorded`; Art 9(2)(g) with DPA 2018 Sch 1 para 8) and `service` (as recorded on "
    "contacts; services fewer than 8 children used are counted as `other`). Children "
    "restricted, who objected, or past their destruction date are not counted. Every "
    "table is published with its totals after disclosure control: " + schemas.RULES,
    response_model_exclude_unset=True,
)
def take_up_report(
    granted: TakeUp, session: SessionDep, keys: KeysDep, facts: FactsDep
) -> schemas.TakeUpReport:
    ask: TakeUpAsk = granted.query
    first, last, dimensions, period = ask.first, ask.last, ask.dimensions, ask.period
    counts = reports_service.take_up(session, period, dimensions, keys, facts)
    person_dims = [d for d in dimensions if d is not Dimension.SERVICE]
    return schemas.TakeUpReport(
        from_=first,
        to=last,
        by=dimensions,
        children=_table(disclosure.protect(counts.children.table(person_dims))),
        children_in_touch=_table(disclosure.protect(counts.in_touch.table(person_dims))),
        contacts=_table(disclosure.protect(counts.contacts.table(dimensions))),
        service_users=(
            _table(disclosure.protect(counts.service_users.table(dimensions)))
            if counts.service_users is not None
            else None
        ),
        rules=schemas.RULES,
    )


@router.get(
    "/reports/impact",
    summary="Health and education outcomes of children who used a service and of those who did not",
    description="Under `impact_evaluation` only (public health analysts): counts and shares, "
    "never rows. By default (`outcome=development_review`) children reviewed in the period (a "
    "`development_review` with an outcome) are counted by the outcome of their latest review "
    "in it; with `outcome=attainment` (the education outcome), children under five on `to` "
    "whose education record holds an attainment are counted by it (`emerging`, `expected`, "
    "`exceeding`: progress against the Early Years Foundation Stage's expected level of "
    "development, as the record holds it now). Either way they are split by whether they had "
    "a contact other than a review in the period (`used`) or not (`did_not_use`), and the "
    "table's `outcome` dimension holds the levels of the outcome asked for; `by=area` or "
    "`by=age_band` adds that breakdown, `by=service` gives one table per service (its users "
    "against every other child counted). Review outcomes are health data (Art 9(2)(h), DPA "
    "2018 Sch 1 para 2); attainment is education data (Art 6(1)(e) only). Children "
    "restricted, who objected, or past their destruction date are not counted. Shares are "
    "worked out from the published counts. " + schemas.RULES,
    response_model_exclude_unset=True,
)
def impact_report(
    granted: Impact, session: SessionDep, keys: KeysDep, facts: FactsDep
) -> schemas.ImpactReport:
    ask: ImpactAsk = granted.query
    first, last, by, period = ask.first, ask.last, ask.by, ask.period
    outcome = ask.outcome or ImpactOutcome.DEVELOPMENT_REVIEW
    found = reports_service.impact(session, period, by, keys, facts, outcome)
    tables = []
    for service, counts in found.tables:
        protected = disclosure.protect(counts.table(counts.dimensions))
        tables.append(
            schemas.ImpactTable(
                service=service,
                dimensions=list(protected.dimensions),
                levels={
                    d: list(lv)
                    for d, lv in zip(protected.dimensions, protected.levels, strict=True)
                },
                cells=_cells(protected),
                shares=_shares(protected),
            )
        )
    # The report names the outcome when it was asked for, so a report asked as before
    # reads as before.
    asked = {"outcome": ask.outcome} if ask.outcome is not None else {}
    return schemas.ImpactReport(
        from_=first, to=last, by=by, tables=tables, rules=schemas.RULES, **asked
    )


def _shares(protected: disclosure.Protected) -> list[schemas.Share]:
    """Per group and use (totals too), each outcome's share of the group, from what is shown."""
    outcome_at = protected.dimensions.index(reports_service.OUTCOME_AXIS)
    shares = []
    for entry, count in protected.shown.items():
        outcome = entry[outcome_at]
        if outcome is None:
            continue
        whole = protected.shown[(*entry[:outcome_at], None, *entry[outcome_at + 1 :])]
        share = round(count / whole, 3) if count is not None and whole else None
        labels = dict(zip(protected.dimensions, entry, strict=True))
        shares.append(schemas.Share.model_validate({**labels, "share": share}))
    return shares
