"""Children's centres: reference data, the areas they serve, and each household's centre."""

from collections.abc import Callable
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.centres import catalogue
from app.centres.areas import centre_for, matches, normalise_area
from app.people.models import Family, Person
from tests import factories

Headers = Callable[..., dict[str, str]]

AREAS = {"NW1": "agar", "NW1 1": "hampden", "WC1": "thomas_coram", "WC1H": "judd", "N1": "n1"}


@pytest.mark.parametrize(
    ("area", "postcode", "expected"),
    [
        ("NW1", "NW1 7AA", True),
        ("NW1", "NW10 7AA", False),
        ("WC1", "WC1H 9JE", True),
        ("WC1", "WC1X 8AA", True),
        ("WC1", "WC2H 9JE", False),
        ("N1", "N19 5DH", False),
        ("N1", "N1C 4AA", True),
        ("EC1R 0", "EC1R 0AA", True),
        ("EC1R 0", "EC1R 1AA", False),
        ("EC1R 0", "ec1r0aa", True),
    ],
)
def test_an_area_covers_its_district_its_lettered_sub_districts_or_its_sector(
    area: str, postcode: str, expected: bool
) -> None:
    assert matches(area, postcode) is expected


@pytest.mark.parametrize(
    ("postcode", "centre"),
    [
        ("NW1 7AA", "agar"),
        ("NW1 1AA", "hampden"),
        ("WC1H 9JE", "judd"),
        ("WC1N 3AA", "thomas_coram"),
        ("N19 5DH", None),
        ("SW1A 1AA", None),
    ],
)
def test_the_longest_matching_area_wins(postcode: str, centre: str | None) -> None:
    assert centre_for(postcode, AREAS) == centre


@pytest.mark.parametrize("bad", ["NW", "NW1 7AA", "1NW", "NW1  12"])
def test_an_area_must_be_a_district_or_a_sector(bad: str) -> None:
    with pytest.raises(ValueError, match="district nor a sector"):
        normalise_area(bad)


def test_an_area_served_by_two_centres_is_refused() -> None:
    rows = [
        {"code": "a", "name": "A", "areas": ["NW1"]},
        {"code": "b", "name": "B", "areas": ["nw1"]},
    ]
    with pytest.raises(ValueError, match="served by both"):
        catalogue.parse(rows)


def test_the_seed_data_covers_every_camden_district() -> None:
    for district in ("NW1", "NW3", "NW5", "NW6", "NW8", "N6", "N7", "N19", "WC1H", "WC2H"):
        assert catalogue.centre_of(f"{district} 1AB") is not None, district
    assert catalogue.centre_of("EC1R 0AA") == "thomas_coram"
    assert catalogue.centre_of("EC1R 5AA") is None


def test_centres_are_listed_with_their_areas_to_any_valid_token(
    client: TestClient, headers: Headers
) -> None:
    response = client.get("/v1/centres", headers=headers("public_health_analyst"))
    assert response.status_code == 200
    by_code = {item["code"]: item for item in response.json()["items"]}
    assert set(by_code) == catalogue.codes()
    assert by_code["hampden"]["areas"] == ["NW1 1", "NW1 2"]
    assert "WC1" in by_code["thomas_coram"]["areas"]


def test_centres_are_paginated(client: TestClient, headers: Headers) -> None:
    first = client.get("/v1/centres?limit=4", headers=headers("health_visitor")).json()
    second = client.get(
        f"/v1/centres?limit=50&cursor={first['next_cursor']}", headers=headers("health_visitor")
    ).json()
    codes = [c["code"] for c in first["items"] + second["items"]]
    assert codes == sorted(catalogue.codes())
    assert second["next_cursor"] is None


def test_centres_need_a_token(client: TestClient) -> None:
    assert client.get("/v1/centres").status_code == 401


def test_a_household_belongs_to_the_centre_serving_its_postcode(session: Session) -> None:
    family = factories.make_family(session, postcode="nw1 2ab")
    assert family.centre_code == "hampden"
    child = factories.make_child(session, family=family)
    assert (
        session.execute(select(Person.centre_code).where(Person.id == child.id)).scalar_one()
        == "hampden"
    )


def test_a_postcode_outside_every_area_is_accepted_and_unassigned(
    client: TestClient, session: Session, headers: Headers
) -> None:
    response = client.post(
        "/v1/families",
        json={"address": {"line1": "1 High Street", "postcode": "SW1A 1AA"}},
        headers=headers("health_visitor", "health_care"),
    )
    assert response.status_code == 201, response.text
    family = session.get(Family, UUID(response.json()["id"]))
    assert family is not None
    assert family.centre_code is None
