"""Who a report counts, and the groups it counts them in: pure date arithmetic and SQL
filters shared by the take-up and impact reports."""

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final

from sqlalchemy import ColumnElement, exists, not_, or_

from app.centres import catalogue as centres_catalogue
from app.centres.areas import UNASSIGNED
from app.people.models import Person
from app.platform.identifiers import LONDON
from app.policy.vocabulary import SubjectKind
from app.retention.rules import CHILD_YEARS, add_years
from app.rights.models import SubjectRequest
from app.rights.schemas import RequestType

ONE_DAY: Final = timedelta(days=1)


class Dimension(StrEnum):
    """What a report may group by (API.md)."""

    AREA = "area"
    AGE_BAND = "age_band"
    ETHNICITY = "ethnicity"
    SERVICE = "service"


class ImpactOutcome(StrEnum):
    """What the impact report counts children by (API.md: outcomes of development reviews;
    issue 13: education outcomes too)."""

    DEVELOPMENT_REVIEW = "development_review"
    """The outcome of the child's latest development review in the period (`health`)."""
    ATTAINMENT = "attainment"
    """The attainment the child's education record holds (`education`): progress against
    the Early Years Foundation Stage's expected level of development."""


CANONICAL_ORDER: Final = tuple(Dimension)
"""Tables are always built in this order, whatever order `by=` names them in, so that two
reports sharing a total protect it alike (app.reports.disclosure)."""

AGE_BANDS: Final = tuple(f"{years}-{years + 1}" for years in range(CHILD_YEARS))
"""Completed years of age on the report's last day: 0-1 to 4-5."""


def area_levels() -> tuple[str, ...]:
    """Every children's centre's area, then `unassigned` (a postcode no centre serves)."""
    return (*sorted(centres_catalogue.codes()), UNASSIGNED)


def area_of(centre_code: str | None) -> str:
    return centre_code or UNASSIGNED


def _earliest_born_under(years: int, on: date) -> date:
    """The earliest birth date of a child not yet `years` old on `on`."""
    born = add_years(on, -years)
    while add_years(born, years) <= on:
        born += ONE_DAY
    while add_years(born - ONE_DAY, years) > on:
        born -= ONE_DAY
    return born


def band_cutoffs(on: date) -> tuple[date, ...]:
    """For k = 1..5, the earliest birth date of a child under k on `on`."""
    return tuple(_earliest_born_under(years, on) for years in range(1, CHILD_YEARS + 1))


def band_of(born: date, cutoffs: tuple[date, ...]) -> str:
    """The age band of a child of the population (born on or after cutoffs[-1])."""
    for band, earliest in zip(AGE_BANDS, cutoffs, strict=True):
        if born >= earliest:
            return band
    raise ValueError("born before the oldest age band")


def children(on: date, today: date) -> list[ColumnElement[bool]]:
    """The children a report counts: under five on `on`, and those the lawful-basis
    engine would let an aggregate reach today.

    DOMAIN.md: retention expired (step 4), restriction (step 5) and an upheld objection
    (step 6: take-up monitoring and impact evaluation stop) each leave a child out.
    """
    return [
        Person.kind == SubjectKind.CHILD.value,
        Person.date_of_birth <= on,
        Person.date_of_birth >= band_cutoffs(on)[-1],
        not_(Person.restricted),
        not_(Person.objection_upheld),
        or_(Person.destroy_on.is_(None), Person.destroy_on > today),
    ]


def not_objected_in_writing(today: date) -> list[ColumnElement[bool]]:
    """The children an aggregate that reaches ethnicity may count, beside `children`.

    DOMAIN.md: DPA 2018 Sch 1 para 8 stops for a subject who objects in writing, from
    the day the objection is received (a subject request of type `objection`, whatever
    its later outcome: open, paused, refused or upheld), so that child is left out of
    every aggregate that reaches ethnicity. Other aggregates rest on Art 6(1)(e) alone
    and leave a child out only once the objection is upheld (`children`).
    """
    return [
        ~exists().where(
            SubjectRequest.subject_id == Person.id,
            SubjectRequest.type == RequestType.OBJECTION.value,
            SubjectRequest.received_on <= today,
        )
    ]


def instants(first: date, last: date) -> tuple[datetime, datetime]:
    """The period as UTC instants: from the start of `first` to the end of `last`, London."""
    start = datetime.combine(first, time(0), LONDON).astimezone(UTC)
    end = datetime.combine(last + ONE_DAY, time(0), LONDON).astimezone(UTC)
    return start, end
