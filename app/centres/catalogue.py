"""The children's centres, from the editable seed file app/reference/data/centres.json.

DOMAIN.md: reference data ships as seed data, never hard-coded in logic. The same
file seeds the `centre` and `centre_area` tables (migration 0005) and answers the
lookup made when a household is created: which centre serves its postcode.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from app.centres.areas import centre_for, normalise_area


@dataclass(frozen=True, slots=True)
class CentreRef:
    code: str
    name: str
    areas: tuple[str, ...]


def parse(rows: list[dict[str, Any]]) -> tuple[CentreRef, ...]:
    """Centres from the seed rows; ValueError if an area is malformed or served twice."""
    centres = tuple(
        CentreRef(
            code=str(row["code"]),
            name=str(row["name"]),
            areas=tuple(normalise_area(str(area)) for area in row["areas"]),
        )
        for row in rows
    )
    seen: dict[str, str] = {}
    for centre in centres:
        for area in centre.areas:
            if area in seen:
                raise ValueError(f"area {area} is served by both {seen[area]} and {centre.code}")
            seen[area] = centre.code
    return centres


def load_rows() -> list[dict[str, Any]]:
    text = resources.files("app.reference").joinpath("data", "centres.json").read_text("utf-8")
    rows: list[dict[str, Any]] = json.loads(text)
    return rows


@lru_cache
def centres() -> tuple[CentreRef, ...]:
    return parse(load_rows())


@lru_cache
def areas() -> Mapping[str, str]:
    """Every area served, mapped to the code of the centre serving it."""
    return MappingProxyType({area: c.code for c in centres() for area in c.areas})


def codes() -> frozenset[str]:
    return frozenset(centre.code for centre in centres())


def centre_of(postcode: str) -> str | None:
    """The code of the centre serving the postcode; None outside every centre's area."""
    return centre_for(postcode, areas())
