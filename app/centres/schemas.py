"""Children's centres: reference data, not personal data.

Their schemas carry no category and are listed in REFERENCE_SCHEMAS, which the
contract test exempts.
"""

from typing import Final

from pydantic import BaseModel, Field


class CentreRead(BaseModel):
    """A children's centre and the postcode districts or sectors it serves."""

    code: str = Field(
        description="The code that `centre=` takes (invitations, needs assessment).",
        examples=["hampden"],
    )
    name: str = Field(examples=["Hampden Children's Centre"])
    areas: list[str] = Field(
        description="Postcode districts (`NW1`; `WC1` also covers `WC1A` to `WC1X`) and "
        "sectors (`EC1R 0`) the centre serves. A family belongs to the centre whose area "
        "matches its postcode most specifically (a sector before its district); a postcode "
        "no centre serves is accepted and reported as `unassigned`.",
        examples=[["NW1 1", "NW1 2"]],
    )


class CentrePage(BaseModel):
    """The children's centres, by code."""

    items: list[CentreRead]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page."
    )


REFERENCE_SCHEMAS: Final[tuple[type[BaseModel], ...]] = (CentreRead, CentrePage)
"""Schemas of reference data, not about any person: no field carries a category."""
