"""GET /v1/invitations: exactly the children in the window and the area, the rest counted."""

import csv
import io
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent, AuditEventSubject
from app.contacts.schemas import DevelopmentReview
from app.invitations.windows import born_between
from app.people.models import Person
from tests import factories
from tests.reports.helpers import child, contact, household, review, set_flags

Headers = Callable[..., dict[str, str]]
CCW = ("childrens_centre_worker", "service_invitation")
ONE_DAY = timedelta(days=1)


def invitations(
    client: TestClient, headers: Headers, review: str, on: date, centre: str = "hampden", **q: Any
) -> Any:
    params = {"review": review, "centre": centre, "on": on.isoformat(), **q}
    response = client.get("/v1/invitations", params=params, headers=headers(*CCW))
    assert response.status_code == 200, response.text
    return response.json()


def listed(body: Any) -> list[str]:
    return [item["child_id"] for item in body["items"]]


@pytest.mark.parametrize("which", list(DevelopmentReview))
def test_the_list_holds_exactly_the_children_born_inside_the_window(
    client: TestClient, session: Session, headers: Headers, which: DevelopmentReview
) -> None:
    on = factories.today()
    earliest, latest = born_between(which, on)
    inside = [child(session, earliest), child(session, latest)]
    outside = [child(session, earliest - ONE_DAY), child(session, latest + ONE_DAY)]
    body = invitations(client, headers, which.value, on)
    assert set(listed(body)) == {str(c.id) for c in inside}
    assert not {str(c.id) for c in outside} & set(listed(body))
    assert (body["born_from"], body["born_to"]) == (earliest.isoformat(), latest.isoformat())


def test_a_child_born_31_january_is_due_the_1_year_review_until_the_day_before_13_months(
    client: TestClient, session: Session, headers: Headers
) -> None:
    born = date(2025, 1, 31)
    due = child(session, born)
    on_last_day = invitations(client, headers, "1_year", date(2026, 2, 27))
    on_13_months = invitations(client, headers, "1_year", date(2026, 2, 28))
    on_9_months = invitations(client, headers, "1_year", date(2025, 10, 31))
    day_before = invitations(client, headers, "1_year", date(2025, 10, 30))
    assert str(due.id) in listed(on_last_day)
    assert str(due.id) in listed(on_9_months)
    assert str(due.id) not in listed(on_13_months)
    assert str(due.id) not in listed(day_before)


def test_only_children_living_in_the_centres_area_are_listed(
    client: TestClient, session: Session, headers: Headers
) -> None:
    on = factories.today()
    born = born_between(DevelopmentReview.NEW_BIRTH, on)[0]
    sector = child(session, born, postcode="NW1 2AB")  # hampden's sector
    district = child(session, born, postcode="NW1 7AA")  # the rest of NW1: agar
    nowhere = child(session, born, postcode="SW1A 1AA")
    hampden = listed(invitations(client, headers, "new_birth", on))
    agar = listed(invitations(client, headers, "new_birth", on, centre="agar"))
    assert str(sector.id) in hampden
    assert str(sector.id) not in agar
    assert str(district.id) in agar
    assert str(district.id) not in hampden
    assert str(nowhere.id) not in hampden + agar


def test_children_left_out_are_counted_by_reason_and_never_named(
    client: TestClient, session: Session, headers: Headers
) -> None:
    on = factories.today()
    born = born_between(DevelopmentReview.SIX_TO_EIGHT_WEEKS, on)[0]
    due = child(session, born)
    seen = child(session, born)
    review(session, seen, on - ONE_DAY, "6_8_week", "no_concerns")
    other_review = child(session, born)
    review(session, other_review, born + timedelta(days=11), "new_birth", "no_concerns")
    restricted = child(session, born)
    set_flags(session, restricted, restricted=True)
    objected = child(session, born)
    set_flags(session, objected, objection_upheld=True)
    expired = child(session, born)
    set_flags(session, expired, destroy_on=factories.today(), restricted=True)
    body = invitations(client, headers, "6_8_week", on)
    assert set(listed(body)) == {str(due.id), str(other_review.id)}
    assert body["left_out"] == {
        "already_seen": 1,
        "erased": 0,
        "restricted": 1,
        "objection_upheld": 1,
        "retention_expired": 1,
    }
    for hidden in (seen, restricted, objected, expired):
        assert str(hidden.id) not in str(body)


def test_each_child_comes_with_the_household_address_and_the_carers_to_write_to(
    client: TestClient, session: Session, headers: Headers
) -> None:
    on = factories.today()
    family = household(session, "NW1 1AA")
    kid = child(session, born_between(DevelopmentReview.NEW_BIRTH, on)[1], family=family)
    mother = factories.make_carer(session, family=family, given_name="Amara")
    objector = factories.make_carer(session, family=family, given_name="Kwame")
    set_flags(session, objector, objection_upheld=True)
    [item] = invitations(client, headers, "new_birth", on)["items"]
    assert item["child_id"] == str(kid.id)
    assert item["address"]["postcode"] == "NW1 1AA"
    assert [carer["id"] for carer in item["carers"]] == [str(mother.id)]
    assert item["carers"][0]["given_name"] == "Amara"
    assert item["due_from"] <= on.isoformat() <= item["due_by"]


def test_the_list_carries_identity_and_contact_only(
    client: TestClient, session: Session, headers: Headers
) -> None:
    on = factories.today()
    child(session, born_between(DevelopmentReview.NEW_BIRTH, on)[0])
    response = client.get(
        "/v1/invitations",
        params={"review": "new_birth", "centre": "hampden", "on": on.isoformat()},
        headers=headers(*CCW),
    )
    assert response.headers["X-Lawful-Basis"] == "art6-1-e"
    assert "X-Withheld-Categories" not in response.headers
    item = response.json()["items"][0]
    assert set(item) == {
        "child_id",
        "given_name",
        "family_name",
        "date_of_birth",
        "due_from",
        "due_by",
        "address",
        "phone",
        "email",
        "carers",
    }


def test_the_list_is_paginated_by_date_of_birth_then_id(
    client: TestClient, session: Session, headers: Headers
) -> None:
    on = factories.today()
    earliest, _ = born_between(DevelopmentReview.NEW_BIRTH, on)
    children = [child(session, earliest + timedelta(days=i % 5)) for i in range(7)]
    expected = [str(c.id) for c in sorted(children, key=lambda c: (c.date_of_birth, c.id.hex))]
    seen: list[str] = []
    cursor = None
    while True:
        extra = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = invitations(client, headers, "new_birth", on, **extra)
        seen += listed(body)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


def test_the_list_comes_as_csv_for_a_mail_merge(
    client: TestClient, session: Session, headers: Headers
) -> None:
    on = factories.today()
    family = household(session, "NW1 1AA")
    kid = child(session, born_between(DevelopmentReview.NEW_BIRTH, on)[0], family=family)
    factories.make_carer(session, family=family, given_name="=HYPERLINK(1)", family_name="Okafor")
    restricted = child(session, kid.date_of_birth)
    set_flags(session, restricted, restricted=True)
    response = client.get(
        "/v1/invitations",
        params={"review": "new_birth", "centre": "hampden", "on": on.isoformat()},
        headers={**headers(*CCW), "Accept": "text/csv"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["X-Lawful-Basis"] == "art6-1-e"
    assert response.headers["X-Decision-Id"]
    assert "restricted=1" in response.headers["X-Left-Out"]
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert row["child_id"] == str(kid.id)
    # A spreadsheet would run a cell starting with "=": it is made text.
    assert row["addressee"] == "'=HYPERLINK(1) Okafor"
    assert row["postcode"] == "NW1 1AA"


def test_every_child_and_carer_listed_is_recorded_against_the_decision(
    client: TestClient, session: Session, headers: Headers
) -> None:
    on = factories.today()
    family = household(session)
    kid = child(session, born_between(DevelopmentReview.NEW_BIRTH, on)[0], family=family)
    carer = factories.make_carer(session, family=family)
    response = client.get(
        "/v1/invitations",
        params={"review": "new_birth", "centre": "hampden", "on": on.isoformat()},
        headers=headers(*CCW),
    )
    event = session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(response.headers["X-Decision-Id"]))
    ).scalar_one()
    assert event.action == "list"
    assert event.purpose == "service_invitation"
    subjects = set(
        session.execute(
            select(AuditEventSubject.subject_id).where(AuditEventSubject.event_id == event.id)
        ).scalars()
    )
    assert {kid.id, carer.id} <= subjects


def test_an_unknown_centre_is_422_naming_the_field(client: TestClient, headers: Headers) -> None:
    response = client.get(
        "/v1/invitations",
        params={"review": "new_birth", "centre": "nowhere"},
        headers=headers(*CCW),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "centre"


def test_an_unknown_review_is_422(client: TestClient, headers: Headers) -> None:
    response = client.get(
        "/v1/invitations", params={"review": "3_year", "centre": "hampden"}, headers=headers(*CCW)
    )
    assert response.status_code == 422


def test_a_needs_assessment_purpose_may_not_draw_an_invitation_list(
    client: TestClient, session: Session, headers: Headers
) -> None:
    response = client.get(
        "/v1/invitations",
        params={"review": "new_birth", "centre": "hampden"},
        headers=headers("childrens_centre_worker", "needs_assessment"),
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "purpose_not_permitted"


def test_a_safeguarding_override_never_reaches_a_list(client: TestClient, headers: Headers) -> None:
    response = client.get(
        "/v1/invitations",
        params={"review": "new_birth", "centre": "hampden"},
        headers=headers(
            "health_visitor", "safeguarding", justification="Concern raised by the GP today"
        ),
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "purpose_not_permitted"


def test_a_child_without_carers_is_addressed_to_the_parent_or_carer(
    client: TestClient, session: Session, headers: Headers
) -> None:
    on = factories.today()
    kid = child(session, born_between(DevelopmentReview.NEW_BIRTH, on)[0], given_name="Zara")
    response = client.get(
        "/v1/invitations",
        params={"review": "new_birth", "centre": "hampden", "on": on.isoformat()},
        headers={**headers(*CCW), "Accept": "text/csv"},
    )
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert row["child_id"] == str(kid.id)
    assert row["addressee"] == "The parent or carer of Zara Person"
    assert session.get(Person, kid.id) is not None
    contact(session, kid, on)  # any other contact does not count as the review
    again = invitations(client, headers, "new_birth", on)
    assert listed(again) == [str(kid.id)]
