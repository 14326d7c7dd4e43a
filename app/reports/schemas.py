"""Aggregate reports: counts only, after disclosure control; no personal data.

No row about a person leaves under take_up_monitoring or impact_evaluation, so these
schemas carry no data category: the contract test lists them in NOT_PERSONAL.
"""

from datetime import date
from typing import Final

from pydantic import BaseModel, ConfigDict, Field

from app.reports import disclosure
from app.reports.population import Dimension, ImpactOutcome

RULES: Final = (
    f"NHS small-number rules (DOMAIN.md): a count of 1 to {disclosure.SMALLEST_SHOWN - 1} is "
    f"suppressed (null); every other count is rounded to the nearest {disclosure.ROUND_TO} "
    "(0 stays 0); totals come from the true counts and follow the same rule; where a row, "
    "column or other line of a table holds exactly one suppressed count, the next smallest "
    "is suppressed too, and a table is checked so that no suppressed count can be worked out "
    "from the counts shown, whichever lines are added or subtracted. Totals shared by two "
    "reports of the same period are suppressed alike in both."
)

_CELL_DIMENSION = (
    "The level of this dimension; null: the total over it. Absent when the table does not "
    "break down by it."
)


class Cell(BaseModel):
    """One count of a table: a cell, or a total (a dimension that is null)."""

    area: str | None = Field(default=None, description=_CELL_DIMENSION)
    age_band: str | None = Field(default=None, description=_CELL_DIMENSION)
    ethnicity: str | None = Field(default=None, description=_CELL_DIMENSION)
    service: str | None = Field(default=None, description=_CELL_DIMENSION)
    used_service: str | None = Field(default=None, description=_CELL_DIMENSION)
    outcome: str | None = Field(default=None, description=_CELL_DIMENSION)
    count: int | None = Field(
        default=None, description="Rounded to the nearest 5; null: suppressed, never a number."
    )


class ReportTable(BaseModel):
    """A table with every total, after disclosure control."""

    dimensions: list[str] = Field(description="What the table breaks down by.")
    levels: dict[str, list[str]] = Field(description="Every level of each dimension.")
    cells: list[Cell] = Field(description="Every cell and every total (the totals last).")


class TakeUpReport(BaseModel):
    """Take-up of services: children, children in touch, contacts (and service users)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from", description="First day of the period.")
    to: date = Field(description="Last day of the period; ages are on this day.")
    by: list[Dimension]
    children: ReportTable = Field(
        description="Children under five on `to` (grouped by everything asked but `service`)."
    )
    children_in_touch: ReportTable = Field(
        description="Of those, children with at least one contact in the period."
    )
    contacts: ReportTable = Field(description="Contacts in the period.")
    service_users: ReportTable | None = Field(
        description="With `by=service`: per service, the children who used it in the period. "
        "A child who used two services is counted under each, so its totals count uses."
    )
    rules: str = Field(default=RULES, description="The disclosure control applied.")


class Share(BaseModel):
    """The share of a group's children counted whose outcome (their latest review's, or
    their attainment) was this one."""

    area: str | None = Field(default=None, description=_CELL_DIMENSION)
    age_band: str | None = Field(default=None, description=_CELL_DIMENSION)
    used_service: str | None = Field(default=None, description=_CELL_DIMENSION)
    outcome: str
    share: float | None = Field(
        description="From the published (rounded) counts, to 3 places; null where either is "
        "suppressed or the group is empty."
    )


class ImpactTable(BaseModel):
    """Children counted, by use of a service and outcome."""

    service: str | None = Field(
        description="With `by=service`: the service whose users are compared with the rest."
    )
    dimensions: list[str]
    levels: dict[str, list[str]]
    cells: list[Cell]
    shares: list[Share]


class ImpactReport(BaseModel):
    """Outcomes (of development reviews, or attainment) of children who used a service and
    of those who did not."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    by: Dimension | None
    outcome: ImpactOutcome | None = Field(
        default=None,
        description="The outcome counted, when the request named one; absent: development reviews.",
    )
    tables: list[ImpactTable]
    rules: str = Field(default=RULES, description="The disclosure control applied.")


REPORT_SCHEMAS: Final[tuple[type[BaseModel], ...]] = (
    Cell,
    ReportTable,
    TakeUpReport,
    Share,
    ImpactTable,
    ImpactReport,
)
"""Aggregates after disclosure control: no field is about a person."""
