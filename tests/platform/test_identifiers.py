"""Identifier validation: DOMAIN.md, "Identifiers and validation"."""

from datetime import date, timedelta
from typing import Annotated, Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from app.platform.identifiers import (
    ETHNIC_CATEGORY_DESCRIPTIONS,
    POSTCODE_PATTERN,
    BirthDate,
    EthnicCategory,
    NhsNumber,
    UkPostcode,
    Upn,
    date_not_in_future,
    is_valid_nhs_number,
    london_today,
    nhs_check_digit,
    postcode_district,
    postcode_sector,
    upn_check_letter,
)

NHS = TypeAdapter(NhsNumber)
UPN = TypeAdapter(Upn)
POSTCODE = TypeAdapter(UkPostcode)
ETHNICITY = TypeAdapter(EthnicCategory)
BIRTH_DATE = TypeAdapter(BirthDate)

digit = st.sampled_from("0123456789")
nine_digit_999_prefix = st.integers(0, 999_999).map(lambda n: f"999{n:06d}")


def only_message(adapter: TypeAdapter[Any], value: object) -> str:
    with pytest.raises(ValidationError) as caught:
        adapter.validate_python(value)
    errors = caught.value.errors()
    assert len(errors) == 1
    return str(errors[0]["msg"])


# --- NHS number -------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_value", "stored"),
    [
        ("9990000018", "9990000018"),
        ("999 000 0018", "9990000018"),
        ("999-000-0018", "9990000018"),
        (" 999 000 0018 ", "9990000018"),
        ("9434765919", "9434765919"),
        ("9990000050", "9990000050"),  # check digit 0 (11 - 0 = 11 -> 0)
    ],
)
def test_a_valid_nhs_number_is_accepted_and_normalised_to_ten_digits(
    given_value: str, stored: str
) -> None:
    assert is_valid_nhs_number(given_value)
    assert NHS.validate_python(given_value) == stored


@pytest.mark.parametrize(
    ("given_value", "rule"),
    [
        ("9990000000", "Modulus 11"),  # no check digit exists for 999000000
        ("9990000019", "Modulus 11"),
        ("9434765910", "Modulus 11"),
        ("999000001", "10 digits"),
        ("99900000188", "10 digits"),
        ("999000001A", "10 digits"),
        ("999/000/0018", "10 digits"),
        ("٩٩٩٠٠٠٠٠١٨", "10 digits"),  # Arabic-Indic digits are not NHS digits
        ("", "10 digits"),
    ],
)
def test_an_invalid_nhs_number_is_rejected_naming_the_rule(given_value: str, rule: str) -> None:
    assert not is_valid_nhs_number(given_value)
    assert rule in only_message(NHS, given_value)


def test_an_nhs_number_must_be_a_string() -> None:
    with pytest.raises(ValidationError):
        NHS.validate_python(9990000018)


@pytest.mark.parametrize(
    ("nine_digits", "check"),
    [
        ("999000001", 8),
        ("943476591", 9),
        ("999000005", 0),
        ("999000000", None),
        ("999000014", None),
    ],
)
def test_nhs_check_digit_follows_modulus_11(nine_digits: str, check: int | None) -> None:
    assert nhs_check_digit(nine_digits) == check


@pytest.mark.parametrize("bad", ["99900000", "9990000018", "99900000a", "", "٩٩٩٠٠٠٠٠١"])
def test_nhs_check_digit_needs_exactly_nine_ascii_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="nine digits"):
        nhs_check_digit(bad)


@given(nine_digit_999_prefix)
def test_every_999_prefix_has_a_check_digit_that_validates_or_has_none(prefix: str) -> None:
    check = nhs_check_digit(prefix)
    valid_completions = [d for d in "0123456789" if is_valid_nhs_number(prefix + d)]
    if check is None:
        assert valid_completions == []
    else:
        assert valid_completions == [str(check)]


@given(nine_digit_999_prefix, st.integers(0, 9), digit)
def test_any_single_digit_change_makes_a_valid_nhs_number_invalid(
    prefix: str, position: int, replacement: str
) -> None:
    check = nhs_check_digit(prefix)
    assume(check is not None)
    valid = f"{prefix}{check}"
    assume(valid[position] != replacement)
    changed = valid[:position] + replacement + valid[position + 1 :]
    assert not is_valid_nhs_number(changed)


# --- Unique pupil number ----------------------------------------------------


@pytest.mark.parametrize(
    ("given_value", "stored"),
    [
        ("B801200005001", "B801200005001"),
        ("b801200005001", "B801200005001"),
        (" B801200005001 ", "B801200005001"),
        ("K202300001234", "K202300001234"),
        ("W202100024001", "W202100024001"),
    ],
)
def test_a_valid_upn_is_accepted_in_upper_case(given_value: str, stored: str) -> None:
    assert UPN.validate_python(given_value) == stored


@pytest.mark.parametrize(
    ("given_value", "rule"),
    [
        ("A801200005001", "check letter"),
        ("C801200005001", "check letter"),
        ("I801200005001", "check letter"),
        ("B80120000500", "13 characters"),
        ("B8012000050011", "13 characters"),
        ("B80120000500A", "13 characters"),  # a temporary UPN: not accepted
        ("8801200005001", "13 characters"),
        ("B801 200005001", "13 characters"),
    ],
)
def test_an_invalid_upn_is_rejected_naming_the_rule(given_value: str, rule: str) -> None:
    assert rule in only_message(UPN, given_value)


@pytest.mark.parametrize(
    ("twelve_digits", "letter"),
    [
        ("801200005001", "B"),  # 93 mod 23 = 1
        ("000000000000", "A"),  # 0
        ("400000000000", "J"),  # 2 x 4 = 8: I is skipped
        ("000000000001", "P"),  # 13 x 1 = 13: O is skipped
        ("800000000000", "T"),  # 2 x 8 = 16: S is skipped
        ("000000000200", "Z"),  # 11 x 2 = 22
        ("000000000010", "N"),  # 12 x 1 = 12
        ("900000000009", "X"),  # 2 x 9 + 13 x 9 = 135, mod 23 = 20
    ],
)
def test_upn_check_letter_is_the_weighted_sum_mod_23_without_i_o_s(
    twelve_digits: str, letter: str
) -> None:
    assert upn_check_letter(twelve_digits) == letter


@pytest.mark.parametrize("bad", ["80120000500", "8012000050011", "80120000500A", ""])
def test_upn_check_letter_needs_exactly_twelve_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="twelve digits"):
        upn_check_letter(bad)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_every_upn_built_with_upn_check_letter_validates(digits: str) -> None:
    upn = upn_check_letter(digits) + digits
    assert UPN.validate_python(upn) == upn
    assert UPN.validate_python(upn.lower()) == upn


# --- Postcode ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_value", "stored"),
    [
        ("NW1 7AA", "NW1 7AA"),
        ("nw1 7aa", "NW1 7AA"),
        ("NW17AA", "NW1 7AA"),
        ("  sw1a   1aa ", "SW1A 1AA"),
        ("ec1a1bb", "EC1A 1BB"),
        ("W1A 0AX", "W1A 0AX"),
        ("M1 1AE", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
        ("N19 5AB", "N19 5AB"),
        ("N1C 4AG", "N1C 4AG"),
        ("gir0aa", "GIR 0AA"),
        ("N W 1 7 A A", "NW1 7AA"),
    ],
)
def test_a_valid_postcode_is_normalised_to_upper_case_with_one_space(
    given_value: str, stored: str
) -> None:
    assert POSTCODE.validate_python(given_value) == stored


@pytest.mark.parametrize(
    "given_value",
    [
        "",
        "NW1",
        "NW1 7A",
        "NW1 7AAA",
        "QW1 7AA",  # Q never starts a postcode
        "NJ1 7AA",  # J never second
        "NW1 7CA",  # C never in the inward code
        "NW1-7AA",
        "AAA 1AA",
        "12345",
        "GIR 0AB",
    ],
)
def test_an_invalid_postcode_is_rejected_naming_the_rule(given_value: str) -> None:
    assert "UK postcode" in only_message(POSTCODE, given_value)


@pytest.mark.parametrize(
    ("given_value", "district", "sector"),
    [
        ("nw1 7aa", "NW1", "NW1 7"),
        ("WC1A1AA", "WC1A", "WC1A 1"),
        ("n195ab", "N19", "N19 5"),
        ("GIR 0AA", "GIR", "GIR 0"),
    ],
)
def test_postcode_district_and_sector_come_from_the_normalised_postcode(
    given_value: str, district: str, sector: str
) -> None:
    assert postcode_district(given_value) == district
    assert postcode_sector(given_value) == sector


def test_postcode_district_rejects_an_invalid_postcode() -> None:
    with pytest.raises(ValueError, match="UK postcode"):
        postcode_district("not a postcode")


@given(st.from_regex(POSTCODE_PATTERN, fullmatch=True))
def test_any_spelling_of_a_canonical_postcode_normalises_back_to_it(canonical: str) -> None:
    assert POSTCODE.validate_python(canonical) == canonical
    assert POSTCODE.validate_python(canonical.lower().replace(" ", "")) == canonical


# --- Ethnic category --------------------------------------------------------


def test_ethnic_category_codes_are_the_nhs_data_dictionary_letters() -> None:
    assert "".join(code.value for code in EthnicCategory) == "ABCDEFGHJKLMNPRSZ"


@pytest.mark.parametrize(
    ("code", "description"),
    [
        ("A", "White British"),
        ("D", "White and Black Caribbean"),
        ("H", "Indian"),
        ("P", "Any other Black background"),
        ("S", "Any other ethnic group"),
        ("Z", "Not stated"),
    ],
)
def test_each_ethnic_category_has_its_description(code: str, description: str) -> None:
    assert ETHNICITY.validate_python(code).description == description


def test_every_ethnic_category_has_a_description() -> None:
    assert set(ETHNIC_CATEGORY_DESCRIPTIONS) == set(EthnicCategory)


@pytest.mark.parametrize("bad", ["I", "O", "Q", "T", "99", "a", ""])
def test_an_unknown_ethnic_category_is_rejected(bad: str) -> None:
    with pytest.raises(ValidationError):
        ETHNICITY.validate_python(bad)


def test_the_ethnic_category_schema_describes_every_code() -> None:
    schema = ETHNICITY.json_schema()
    assert schema["x-enum-descriptions"] == [code.description for code in EthnicCategory]
    assert "Z Not stated" in schema["description"]


# --- Dates ------------------------------------------------------------------

TODAY = date(2025, 3, 1)
FIXED_CLOCK = TypeAdapter(Annotated[date, date_not_in_future(lambda: TODAY)])


@pytest.mark.parametrize("day", [TODAY, TODAY - timedelta(days=1), date(2020, 2, 29)])
def test_a_date_up_to_today_is_accepted(day: date) -> None:
    assert FIXED_CLOCK.validate_python(day) == day


@pytest.mark.parametrize("day", [TODAY + timedelta(days=1), date(2099, 1, 1)])
def test_a_date_after_today_is_rejected(day: date) -> None:
    assert "must not be in the future" in only_message(FIXED_CLOCK, day)


def test_a_birth_date_in_the_past_is_accepted() -> None:
    yesterday = london_today() - timedelta(days=1)
    assert BIRTH_DATE.validate_python(yesterday.isoformat()) == yesterday


def test_a_birth_date_in_the_future_is_rejected() -> None:
    next_month = london_today() + timedelta(days=30)
    assert only_message(BIRTH_DATE, next_month.isoformat()) == (
        "Value error, date of birth must not be in the future"
    )


# --- Messages never echo the value ------------------------------------------


@pytest.mark.parametrize(
    ("adapter", "value"),
    [
        (NHS, "9990000000"),
        (NHS, "999 000 0019"),
        (NHS, "99900000188"),
        (UPN, "A801200005001"),
        (UPN, "b80120000500"),
        (POSTCODE, "QW1 7AA"),
        (POSTCODE, "nw1 7ca"),
        (BIRTH_DATE, "2999-01-01"),
    ],
)
def test_an_error_message_never_contains_the_value(adapter: TypeAdapter[Any], value: str) -> None:
    message = only_message(adapter, value).upper()
    compact = value.replace(" ", "").replace("-", "").upper()
    assert value.upper() not in message
    assert compact not in message.replace(" ", "")


def test_each_type_documents_its_pattern_and_an_example() -> None:
    for adapter in (NHS, UPN, POSTCODE):
        schema = adapter.json_schema()
        assert schema["pattern"]
        assert schema["examples"]
        assert schema["description"]
        for example in schema["examples"]:
            assert adapter.validate_python(example) == example
