"""DPA 2018 Sch 1 para 8 stops for a subject who objects in writing: from the day the
objection is received, whatever its later outcome, the subject is left out of every
aggregate that reaches ethnicity, and of nothing else until the objection is upheld."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.people import records as people_records
from app.people import schemas as people_schemas
from app.people import service as people_service
from app.people.models import Family, Person
from app.platform.crypto import get_key_ring
from tests import factories
from tests.reports.helpers import child, contact
from tests.reports.test_reports import born_aged, count, period, take_up
from tests.rights.cases import OFFICER, decide, open_case

Headers = Callable[..., dict[str, str]]


@pytest.fixture
def hampden(session: Session) -> list[Person]:
    """13 babies in Hampden's area, each of ethnic category N, each seen once: 13 shows
    as 15, 12 as 10, so one child left out changes what is published."""
    first, _ = period()
    babies = [child(session, born_aged(0), postcode="NW1 1AA") for _ in range(13)]
    for baby in babies:
        view = people_service.find(session, baby.id)
        assert view is not None
        people_records.write(
            session,
            people_records.SPECIAL_CATEGORY,
            view,
            people_schemas.SpecialCategory(ethnicity="N"),
            get_key_ring(),
            None,
        )
        contact(session, baby, first)
    session.commit()
    return babies


def _object(
    client: TestClient, session: Session, headers: Headers, subject: Person, then: str
) -> None:
    """A carer objects in writing for the child; the officer then leaves the case open,
    pauses it, or refuses it."""
    carer = factories.make_carer(session, family=session.get(Family, subject.family_id))
    case = open_case(client, headers, subject.id, type="objection", requester_id=carer.id)
    if then == "paused":
        paused = client.post(
            f"/v1/subject-requests/{case['id']}/pause",
            json={"reason": "Waiting for proof of identity"},
            headers=headers(*OFFICER),
        )
        assert paused.status_code == 200, paused.text
    if then == "refused":
        refused = decide(client, headers, case["id"], outcome="refused", reason="Compelling")
        assert refused.status_code == 200, refused.text


@pytest.mark.parametrize("then", ["open", "paused", "refused"])
def test_a_child_whose_objection_was_received_is_left_out_of_reports_by_ethnicity(
    client: TestClient, session: Session, headers: Headers, hampden: list[Person], then: str
) -> None:
    before = take_up(client, headers, "ethnicity").json()
    assert count(before["children"], ethnicity="N") == 15  # 13

    _object(client, session, headers, hampden[0], then)

    body: Any = take_up(client, headers, "area,ethnicity").json()
    for table in ("children", "children_in_touch"):
        assert count(body[table], ethnicity="N") == 10, table  # 12
        assert count(body[table], area="hampden", ethnicity="N") == 10, table
        assert count(body[table], area="hampden") == 10, table  # a total of the same report
        assert count(body[table]) == 10, table
    assert count(body["contacts"], ethnicity="N") == 10
    by_service = take_up(client, headers, "ethnicity,service").json()
    assert count(by_service["service_users"], ethnicity="N") == 10


@pytest.mark.parametrize("then", ["open", "paused", "refused"])
def test_an_objection_not_upheld_leaves_the_child_in_reports_without_ethnicity(
    client: TestClient, session: Session, headers: Headers, hampden: list[Person], then: str
) -> None:
    _object(client, session, headers, hampden[0], then)

    for by in ("area", "area,age_band", "service"):
        body = take_up(client, headers, by).json()
        assert count(body["children"]) == 15, by  # 13
        assert count(body["children_in_touch"]) == 15, by
    by_area = take_up(client, headers, "area").json()
    assert count(by_area["children"], area="hampden") == 15
