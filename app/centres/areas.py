"""Which children's centre serves a postcode: pure, from the areas each centre serves.

DOMAIN.md: each centre serves a set of postcode districts or sectors, and a family
belongs to the centre serving its postcode. An area is written as

- a sector, the outward code and the inward digit (`EC1R 0`): that sector only;
- a district (`WC1H`, `NW1`): that outward code, and the sub-districts that add one
  letter to it (`WC1` covers `WC1A` to `WC1X`, never `WC10`; `N1` never covers `N19`).

Where several areas match, the longest wins: a sector beats its district, `WC1H`
beats `WC1`. A postcode no area matches belongs to no centre (`unassigned`).
"""

import re
from collections.abc import Mapping
from typing import Final

from app.platform.identifiers import normalise_postcode, postcode_district, postcode_sector

UNASSIGNED: Final = "unassigned"
"""The area reported for a family whose postcode no centre serves."""

_DISTRICT: Final = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")
_SECTOR: Final = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]? [0-9]$")


def normalise_area(area: str) -> str:
    """An area in canonical form (upper case, one space in a sector), or ValueError."""
    text = " ".join(area.upper().split())
    if not (_DISTRICT.fullmatch(text) or _SECTOR.fullmatch(text)):
        raise ValueError(f"{area!r} is neither a postcode district nor a sector")
    return text


def matches(area: str, postcode: str) -> bool:
    """Whether `area` (canonical) covers `postcode` (any valid spelling)."""
    if " " in area:
        return postcode_sector(postcode) == area
    outward = postcode_district(postcode)
    if outward == area:
        return True
    return len(outward) == len(area) + 1 and outward.startswith(area) and outward[-1].isalpha()


def centre_for(postcode: str, areas: Mapping[str, str]) -> str | None:
    """The code of the centre serving `postcode`; `areas` maps each area to its centre.

    None when no area covers it. The longest matching area wins.
    """
    normalised = normalise_postcode(postcode)
    best: str | None = None
    for area in areas:
        if matches(area, normalised) and (best is None or len(area) > len(best)):
            best = area
    return None if best is None else areas[best]
