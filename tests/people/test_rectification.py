"""Rectification (Art 16) of a date of birth: destruction follows the retention rule,
never a typing slip (DOMAIN.md, "Identifiers and validation")."""

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.retention.rules import add_years
from tests import factories

Headers = Callable[..., dict[str, str]]
HV = ("health_visitor", "health_care")
ONE_DAY = timedelta(days=1)


def years_ago(years: int) -> date:
    return add_years(factories.today(), -years)


def _read(client: TestClient, headers: Headers, url: str) -> tuple[str, str]:
    """The person's date of birth and ETag, as a read shows them."""
    response = client.get(url, headers=headers(*HV))
    assert response.status_code == 200, response.text
    return response.json()["date_of_birth"], response.headers["ETag"]


# (years ago, days later): the date is worked out when the test runs, not when it is
# collected, so a run that crosses midnight asks what it means to.
@pytest.mark.parametrize(
    ("years", "days"),
    [(6, 0), (5, 0), (5, -1)],
    ids=["six_years_ago", "fifth_birthday_today", "five_and_a_day"],
)
def test_a_childs_date_of_birth_may_not_be_rectified_to_one_making_the_child_five(
    client: TestClient, session: Session, headers: Headers, years: int, days: int
) -> None:
    born = years_ago(years) + days * ONE_DAY
    child = factories.make_child(session)
    url = f"/v1/people/{child.id}"
    before, etag = _read(client, headers, url)

    response = client.patch(
        url, json={"date_of_birth": born.isoformat()}, headers=headers(*HV, If_Match=etag)
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["date_of_birth"]
    assert born.isoformat() not in response.text
    assert _read(client, headers, url) == (before, etag)


@pytest.mark.parametrize(
    ("years", "days"), [(4, 0), (5, 1)], ids=["four_years_ago", "five_tomorrow"]
)
def test_a_childs_date_of_birth_may_be_rectified_to_one_under_five(
    client: TestClient, session: Session, headers: Headers, years: int, days: int
) -> None:
    born = years_ago(years) + days * ONE_DAY
    child = factories.make_child(session)
    url = f"/v1/people/{child.id}"
    _, etag = _read(client, headers, url)

    response = client.patch(
        url, json={"date_of_birth": born.isoformat()}, headers=headers(*HV, If_Match=etag)
    )

    assert response.status_code == 200, response.text
    assert _read(client, headers, url)[0] == born.isoformat()


@pytest.mark.parametrize("kind", ["carer", "household_member"])
def test_an_adults_or_older_siblings_date_of_birth_is_not_limited_to_under_five(
    client: TestClient, session: Session, headers: Headers, kind: str
) -> None:
    person = factories.make_person(session, kind=kind, born=years_ago(30))
    url = f"/v1/people/{person.id}"
    _, etag = _read(client, headers, url)

    response = client.patch(
        url, json={"date_of_birth": years_ago(6).isoformat()}, headers=headers(*HV, If_Match=etag)
    )

    assert response.status_code == 200, response.text
    assert _read(client, headers, url)[0] == years_ago(6).isoformat()
