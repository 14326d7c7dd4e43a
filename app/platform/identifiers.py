"""Identifiers and validated values for request schemas (DOMAIN.md, "Identifiers and validation").

Each type is a Pydantic v2 `Annotated` alias: the validator normalises the value and
checks its rule, and the `Field` metadata documents the canonical form in OpenAPI.
Error messages name the rule and never the value: pydantic puts the message in the
422 body, and an NHS number or postcode in an error is personal data leaking back.

The JSON-schema `pattern` describes the canonical form, the one the service stores and
returns; the validators also accept the looser input the descriptions mention.
"""

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Final
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BeforeValidator, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

LONDON: Final = ZoneInfo("Europe/London")

# ---------------------------------------------------------------------------
# NHS number
# ---------------------------------------------------------------------------

NHS_NUMBER_PATTERN: Final = r"^[0-9]{10}$"
_NINE_DIGITS: Final = re.compile(r"[0-9]{9}")
_TEN_DIGITS: Final = re.compile(r"[0-9]{10}")
# People type NHS numbers as printed on letters ("999 000 0018") or with hyphens.
_NHS_SEPARATORS: Final = re.compile(r"[\s-]+")


def nhs_check_digit(nine_digits: str) -> int | None:
    """The Modulus 11 check digit for the first nine digits, or None if none can exist.

    NHS Data Dictionary: weights 10 down to 2, check = 11 - (sum mod 11); 11 becomes 0,
    and 10 means no NHS number is issued with these nine digits.
    """
    if not _NINE_DIGITS.fullmatch(nine_digits):
        raise ValueError("an NHS number check digit needs exactly nine digits 0-9")
    total = sum(
        weight * int(digit) for weight, digit in zip(range(10, 1, -1), nine_digits, strict=True)
    )
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def normalise_nhs_number(value: str) -> str:
    """The ten digits of a valid NHS number, spaces and hyphens removed; ValueError if not."""
    digits = _NHS_SEPARATORS.sub("", value)
    # fullmatch on [0-9], not str.isdigit(): that accepts non-ASCII digits such as "٣".
    if not _TEN_DIGITS.fullmatch(digits):
        raise ValueError("NHS number must be 10 digits (spaces or hyphens between them allowed)")
    if nhs_check_digit(digits[:9]) != int(digits[9]):
        raise ValueError("NHS number fails the Modulus 11 check digit")
    return digits


def is_valid_nhs_number(value: str) -> bool:
    """Whether `value` is accepted as an `NhsNumber` (same normalisation and check)."""
    try:
        normalise_nhs_number(value)
    except ValueError:
        return False
    return True


NhsNumber = Annotated[
    str,
    AfterValidator(normalise_nhs_number),
    Field(
        description=(
            "NHS number: 10 digits passing the Modulus 11 check. Spaces and hyphens are "
            "accepted on input and removed."
        ),
        examples=["9990000018"],
        json_schema_extra={"pattern": NHS_NUMBER_PATTERN, "minLength": 10, "maxLength": 10},
    ),
]

# ---------------------------------------------------------------------------
# Unique pupil number
# ---------------------------------------------------------------------------

# DfE UPN check letters: A-Z without I, O and S, indexed by (weighted sum mod 23).
UPN_CHECK_LETTERS: Final = "ABCDEFGHJKLMNPQRTUVWXYZ"
UPN_PATTERN: Final = r"^[A-HJ-NP-RT-Z][0-9]{12}$"
_TWELVE_DIGITS: Final = re.compile(r"[0-9]{12}")
# Only permanent UPNs (all twelve trailing characters digits) are accepted: the
# rule in DOMAIN.md is for LA code + establishment + year + serial, all numeric.
_UPN_SHAPE: Final = re.compile(r"[A-Z][0-9]{12}")


def upn_check_letter(twelve_digits: str) -> str:
    """The check letter for UPN characters 2-13 (LA, establishment, year, serial).

    DfE rule: sum of position x digit over positions 2..13 (1-based), mod 23, mapped to
    A-Z without I, O and S (0=A, 8=J, 13=P, 16=T, 22=Z).
    """
    if not _TWELVE_DIGITS.fullmatch(twelve_digits):
        raise ValueError("a UPN check letter needs exactly twelve digits 0-9")
    total = sum(position * int(digit) for position, digit in enumerate(twelve_digits, start=2))
    return UPN_CHECK_LETTERS[total % 23]


def normalise_upn(value: str) -> str:
    """A valid unique pupil number in upper case; ValueError if not."""
    upn = value.strip().upper()
    if not _UPN_SHAPE.fullmatch(upn):
        raise ValueError("UPN must be 13 characters: a check letter then 12 digits")
    if upn_check_letter(upn[1:]) != upn[0]:
        raise ValueError("UPN check letter does not match its digits (DfE modulus 23 rule)")
    return upn


Upn = Annotated[
    str,
    AfterValidator(normalise_upn),
    Field(
        description=(
            "Unique pupil number: check letter, LA code (3 digits), establishment (4), "
            "year (2), serial (3); the check letter must match. Accepted in any case; "
            "returned in upper case."
        ),
        examples=["B801200005001"],
        json_schema_extra={"pattern": UPN_PATTERN, "minLength": 13, "maxLength": 13},
    ),
]

# ---------------------------------------------------------------------------
# UK postcode
# ---------------------------------------------------------------------------

# Royal Mail / BS 7666 letter positions: the first letter is never Q, V or X; the
# second never I, J or Z; a letter after the district digit is one of A-H, J, K, P, S,
# T, U, W (A9A) or A, B, E, H, M, N, P, R, V-Y (AA9A); the inward letters never C, I,
# K, M, O or V. GIR 0AA (Girobank) is the one historic exception kept in use.
_OUTWARD: Final = (
    r"(?:[A-PR-UWYZ][0-9][0-9]?"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRV-Y])"
)
_INWARD: Final = r"[0-9][ABD-HJLNP-UW-Z]{2}"
POSTCODE_PATTERN: Final = rf"^(?:GIR 0AA|{_OUTWARD} {_INWARD})$"
_COMPACT_POSTCODE: Final = re.compile(rf"GIR0AA|{_OUTWARD}{_INWARD}")
_WHITESPACE: Final = re.compile(r"\s+")


def normalise_postcode(value: str) -> str:
    """A valid UK postcode in upper case with one space before the inward code."""
    compact = _WHITESPACE.sub("", value).upper()
    if not _COMPACT_POSTCODE.fullmatch(compact):
        raise ValueError(
            "postcode must be a UK postcode: an outward code, then an inward code "
            "of a digit and two letters"
        )
    # The inward code is always the last three characters (digit, letter, letter).
    return f"{compact[:-3]} {compact[-3:]}"


def postcode_district(postcode: str) -> str:
    """The outward code ("NW1 7AA" -> "NW1", "WC1A 1AA" -> "WC1A")."""
    return normalise_postcode(postcode).split(" ")[0]


def postcode_sector(postcode: str) -> str:
    """The outward code and the inward code's digit ("NW1 7AA" -> "NW1 7")."""
    return normalise_postcode(postcode)[:-2]


UkPostcode = Annotated[
    str,
    AfterValidator(normalise_postcode),
    Field(
        description=(
            "UK postcode. Accepted in any case and spacing; returned in upper case with "
            "one space before the 3-character inward code."
        ),
        examples=["NW1 7AA"],
        json_schema_extra={"pattern": POSTCODE_PATTERN, "minLength": 6, "maxLength": 8},
    ),
]

# ---------------------------------------------------------------------------
# Ethnic category
# ---------------------------------------------------------------------------


class EthnicCategory(StrEnum):
    """NHS Data Dictionary ethnic category code (2001 census categories)."""

    WHITE_BRITISH = "A"
    WHITE_IRISH = "B"
    WHITE_OTHER = "C"
    MIXED_WHITE_AND_BLACK_CARIBBEAN = "D"
    MIXED_WHITE_AND_BLACK_AFRICAN = "E"
    MIXED_WHITE_AND_ASIAN = "F"
    MIXED_OTHER = "G"
    INDIAN = "H"
    PAKISTANI = "J"
    BANGLADESHI = "K"
    ASIAN_OTHER = "L"
    CARIBBEAN = "M"
    AFRICAN = "N"
    BLACK_OTHER = "P"
    CHINESE = "R"
    OTHER = "S"
    NOT_STATED = "Z"

    @property
    def description(self) -> str:
        return ETHNIC_CATEGORY_DESCRIPTIONS[self]

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler.resolve_ref_schema(handler(core_schema))
        # OpenAPI readers see a bare letter otherwise; name each code.
        json_schema["description"] = "NHS Data Dictionary ethnic category code: " + "; ".join(
            f"{code.value} {text}" for code, text in ETHNIC_CATEGORY_DESCRIPTIONS.items()
        )
        json_schema["x-enum-descriptions"] = [ETHNIC_CATEGORY_DESCRIPTIONS[code] for code in cls]
        return json_schema


ETHNIC_CATEGORY_DESCRIPTIONS: Final[Mapping[EthnicCategory, str]] = {
    EthnicCategory.WHITE_BRITISH: "White British",
    EthnicCategory.WHITE_IRISH: "White Irish",
    EthnicCategory.WHITE_OTHER: "Any other White background",
    EthnicCategory.MIXED_WHITE_AND_BLACK_CARIBBEAN: "White and Black Caribbean",
    EthnicCategory.MIXED_WHITE_AND_BLACK_AFRICAN: "White and Black African",
    EthnicCategory.MIXED_WHITE_AND_ASIAN: "White and Asian",
    EthnicCategory.MIXED_OTHER: "Any other mixed background",
    EthnicCategory.INDIAN: "Indian",
    EthnicCategory.PAKISTANI: "Pakistani",
    EthnicCategory.BANGLADESHI: "Bangladeshi",
    EthnicCategory.ASIAN_OTHER: "Any other Asian background",
    EthnicCategory.CARIBBEAN: "Caribbean",
    EthnicCategory.AFRICAN: "African",
    EthnicCategory.BLACK_OTHER: "Any other Black background",
    EthnicCategory.CHINESE: "Chinese",
    EthnicCategory.OTHER: "Any other ethnic group",
    EthnicCategory.NOT_STATED: "Not stated",
}

# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------


def london_today() -> date:
    """Today's date where the service runs: the day changes at UK midnight, not UTC."""
    return datetime.now(LONDON).date()


def date_not_in_future(today_fn: Callable[[], date], *, what: str = "date") -> AfterValidator:
    """A validator rejecting dates after `today_fn()`; tests pass a fixed clock."""

    def check(value: date) -> date:
        if value > today_fn():
            raise ValueError(f"{what} must not be in the future")
        return value

    return AfterValidator(check)


PastOrToday = Annotated[
    date,
    date_not_in_future(london_today),
    Field(description="A date not after today (Europe/London).", examples=["2024-09-02"]),
]

# DOMAIN.md: dates of birth are not in the future. Whether a child is under 5 is a
# rule about creating a `child` (422 from the people service), not about the date.
BirthDate = Annotated[
    date,
    date_not_in_future(london_today, what="date of birth"),
    Field(description="Date of birth: not after today (Europe/London).", examples=["2023-04-01"]),
]


_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_text(value: object) -> object:
    """A date in a query is ISO 8601 text, as the document's `format` says: pydantic
    alone would also read a number as a Unix timestamp (`?before=0` as 1970-01-01)."""
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("use an ISO 8601 date (YYYY-MM-DD)")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_text)]
"""A day in a query: `YYYY-MM-DD`."""
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_text)]
"""A moment in a query: RFC 3339 (`YYYY-MM-DDTHH:MM:SSZ`)."""
