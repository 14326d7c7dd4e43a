"""GET /v1/reports/impact?outcome=attainment: the education outcome, counted from the
report index as every other figure, and protected the same way."""

import random
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.contacts.models import Contact
from app.education import service as education_service
from app.education.models import EducationRecord
from app.education.schemas import Education
from app.nurseries.models import Enrolment
from app.people import records as people_records
from app.people import service as people_service
from app.people.models import Person
from app.platform.crypto import get_key_ring
from app.reports import service as reports_service
from app.reports.facts import ReportFacts
from app.reports.population import ImpactOutcome, children, instants
from tests import factories
from tests.reports.helpers import child, contact, household, review, set_flags
from tests.reports.test_report_facts import another_instance, the_period
from tests.reports.test_reports import (
    ANALYST,
    assert_nothing_recoverable,
    born_aged,
    count,
    period,
)

Headers = Callable[..., dict[str, str]]
LEVELS = ("emerging", "expected", "exceeding")


def attain(session: Session, person: Person, attainment: str | None) -> None:
    """Give the child a nursery place and record its attainment, as PUT …/education does."""
    placed = session.execute(select(Enrolment.id).where(Enrolment.child_id == person.id)).first()
    if placed is None:
        factories.enrol(session, person, factories.nursery_ids()[0])
    view = people_service.find(session, person.id)
    assert view is not None
    held = session.get(EducationRecord, person.id)
    people_records.write(
        session,
        people_records.EDUCATION,
        view,
        Education(attainment=attainment),
        get_key_ring(),
        people_service.etag(held.version) if held else None,
    )
    session.commit()


def by_attainment(client: TestClient, headers: Headers, by: str | None = None) -> Any:
    first, last = period()
    params = {"from": first.isoformat(), "to": last.isoformat(), "outcome": "attainment"}
    if by:
        params["by"] = by
    response = client.get(
        "/v1/reports/impact", params=params, headers=headers(ANALYST, "impact_evaluation")
    )
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
def seeded(session: Session) -> list[Person]:
    """30 children in 12 households: most with an attainment recorded, some seen at a
    centre in the period, some reviewed (a review is not a use of a service)."""
    rng = random.Random(13)
    first, _ = period()
    kids: list[Person] = []
    for _ in range(12):
        family = household(session, rng.choice(("NW1 1AA", "NW5 1AA", "NW6 1AA")))
        for _ in range(rng.randint(1, 4)):
            kid = child(session, born_aged(rng.randint(0, 4)), family=family)
            if rng.random() < 0.8:
                attain(session, kid, rng.choice(LEVELS))
            if rng.random() < 0.5:
                contact(session, kid, first + timedelta(days=rng.randint(0, 80)))
            if rng.random() < 0.3:
                review(session, kid, first + timedelta(days=9), "1_year", "no_concerns")
            kids.append(kid)
    # Left out: restricted, objection upheld, past its destruction date.
    for flags in (
        {"restricted": True},
        {"objection_upheld": True},
        {"destroy_on": factories.today()},
    ):
        set_flags(session, kids[len(flags) * 3], **flags)
    session.commit()
    return kids


def row_by_row(session: Session) -> Counter[tuple[str, str]]:
    """The reference: each counted child's attainment decrypted record by record
    (app.education.service), and whether a contact other than a review in the period
    is recorded for it, read row by row."""
    found = the_period()
    counted = set(
        session.execute(select(Person.id).where(*children(found.last, found.today))).scalars()
    )
    start, end = instants(found.first, found.last)
    used = set(
        session.execute(
            select(Contact.person_id).where(
                Contact.kind != "development_review",
                Contact.occurred_at >= start,
                Contact.occurred_at < end,
            )
        ).scalars()
    )
    expected: Counter[tuple[str, str]] = Counter()
    for _, child_id, attainment in education_service.attainment_by_child(session, get_key_ring()):
        if child_id in counted:
            expected["used" if child_id in used else "did_not_use", attainment.value] += 1
    return expected


def test_impact_by_attainment_counts_what_decrypting_every_education_record_counts(
    session: Session, seeded: list[Person]
) -> None:
    expected = row_by_row(session)
    assert len(expected) > 2, "the seed spreads the children over several cells"
    found = reports_service.impact(
        session, the_period(), None, get_key_ring(), ReportFacts(), ImpactOutcome.ATTAINMENT
    )
    [(service, counts)] = found.tables
    assert service is None
    assert counts.dimensions == ("used_service", "outcome")
    assert dict(counts.values) == dict(expected)


def test_impact_by_attainment_per_service_counts_each_services_users_row_by_row(
    session: Session, seeded: list[Person]
) -> None:
    found = reports_service.impact(
        session,
        the_period(),
        reports_service.Dimension.SERVICE,
        get_key_ring(),
        ReportFacts(),
        ImpactOutcome.ATTAINMENT,
    )
    tables = dict(found.tables)
    # Every contact of the seed is at `stay_and_play`: its users are the children who
    # used any service.
    assert dict(tables["stay_and_play"].values) == dict(row_by_row(session))


@pytest.fixture
def hampden(session: Session) -> list[Person]:
    """13 babies at a nursery in Hampden's area, each attaining the expected level and
    each seen once: 13 shows as 15, 12 as 10, so one child changed shows."""
    first, _ = period()
    babies = [child(session, born_aged(0), postcode="NW1 1AA") for _ in range(13)]
    for baby in babies:
        attain(session, baby, "expected")
        contact(session, baby, first)
    return babies


def test_impact_by_attainment_publishes_protected_counts_of_the_education_outcome(
    client: TestClient, headers: Headers, hampden: list[Person]
) -> None:
    response = by_attainment(client, headers)
    body = response.json()
    assert body["outcome"] == "attainment"
    [table] = body["tables"]
    assert table["dimensions"] == ["used_service", "outcome"]
    assert table["levels"]["outcome"] == list(LEVELS)
    assert count(table, used_service="used", outcome="expected") == 15  # 13
    assert count(table, used_service="did_not_use", outcome="expected") == 0
    assert count(table) == 15
    assert_nothing_recoverable(body)


def test_impact_by_attainment_rests_on_public_task_alone_and_reaches_no_health_data(
    client: TestClient, headers: Headers, hampden: list[Person]
) -> None:
    response = by_attainment(client, headers)
    assert response.headers["X-Lawful-Basis"] == "art6-1-e"


def test_small_counts_of_an_attainment_are_suppressed_with_a_complementary_cell(
    client: TestClient, session: Session, headers: Headers, hampden: list[Person]
) -> None:
    for baby in hampden[:3]:
        attain(session, baby, "emerging")
    [table] = by_attainment(client, headers).json()["tables"]
    assert count(table, used_service="used", outcome="emerging") is None  # 3
    # The used row holds one small cell: the next smallest (expected, 10) goes too.
    assert count(table, used_service="used", outcome="expected") is None
    assert count(table, used_service="used") == 15
    assert_nothing_recoverable({"tables": [table]})


@pytest.mark.parametrize(
    "flags",
    [{"restricted": True}, {"objection_upheld": True}, {"destroy_on": "today"}],
    ids=["restricted", "objection_upheld", "retention_expired"],
)
def test_a_child_the_engine_keeps_from_aggregates_is_not_counted_by_attainment(
    client: TestClient,
    session: Session,
    headers: Headers,
    hampden: list[Person],
    flags: dict[str, Any],
) -> None:
    values = {k: factories.today() if v == "today" else v for k, v in flags.items()}
    set_flags(session, hampden[0], **values)
    [table] = by_attainment(client, headers).json()["tables"]
    assert count(table, used_service="used", outcome="expected") == 10  # 12


def test_an_education_put_over_http_on_another_instance_shows_in_the_next_impact_report(
    client: TestClient, session: Session, headers: Headers, hampden: list[Person]
) -> None:
    [before] = by_attainment(client, headers).json()["tables"]
    assert count(before, used_service="used", outcome="expected") == 15
    factories.make_plan(session, hampden[0])
    other = another_instance(session)
    response = other.put(
        f"/v1/people/{hampden[0].id}/education",
        json={"attainment": "exceeding"},
        headers=headers("family_worker", "early_help", if_match='"1"'),
    )
    assert response.status_code == 200, response.text
    [after] = by_attainment(client, headers).json()["tables"]
    assert count(after, used_service="used", outcome="exceeding") is None  # 1
    facts: ReportFacts = client.app.state.report_facts  # type: ignore[attr-defined]
    found = reports_service.impact(
        session, the_period(), None, get_key_ring(), facts, ImpactOutcome.ATTAINMENT
    )
    [(_, counts)] = found.tables
    assert dict(counts.values) == {("used", "expected"): 12, ("used", "exceeding"): 1}


def test_impact_by_attainment_breaks_down_by_area_and_by_service(
    client: TestClient, headers: Headers, hampden: list[Person]
) -> None:
    by_area = by_attainment(client, headers, "area").json()
    assert by_area["tables"][0]["dimensions"] == ["area", "used_service", "outcome"]
    assert count(by_area["tables"][0], area="hampden", used_service="used") == 15
    assert_nothing_recoverable({"tables": by_area["tables"]})
    by_service = by_attainment(client, headers, "service").json()
    assert "stay_and_play" in [t["service"] for t in by_service["tables"]]
    assert_nothing_recoverable({"tables": by_service["tables"]})


def test_a_child_with_no_attainment_recorded_is_not_counted_by_attainment(
    client: TestClient, session: Session, headers: Headers, hampden: list[Person]
) -> None:
    attain(session, hampden[0], None)
    [table] = by_attainment(client, headers).json()["tables"]
    assert count(table) == 10  # 12


def test_the_impact_report_asked_as_before_counts_reviews_and_reads_as_before(
    client: TestClient, session: Session, headers: Headers, hampden: list[Person]
) -> None:
    first, last = period()
    for baby in hampden[:8]:
        review(session, baby, first + timedelta(days=1), "6_8_week", "no_concerns")
    response = client.get(
        "/v1/reports/impact",
        params={"from": first.isoformat(), "to": last.isoformat()},
        headers=headers(ANALYST, "impact_evaluation"),
    )
    body = response.json()
    assert set(body) == {"from", "to", "by", "tables", "rules"}
    assert body["tables"][0]["levels"]["outcome"] == ["no_concerns", "support_needed", "referred"]
    assert response.headers["X-Lawful-Basis"] == "art6-1-e,art9-2-h"


def test_an_impact_report_by_an_unknown_outcome_is_422(
    client: TestClient, headers: Headers
) -> None:
    first, last = period()
    response = client.get(
        "/v1/reports/impact",
        params={"from": first.isoformat(), "to": last.isoformat(), "outcome": "income"},
        headers=headers(ANALYST, "impact_evaluation"),
    )
    assert response.status_code == 422


def test_a_report_by_attainment_names_no_one(
    client: TestClient, headers: Headers, hampden: list[Person]
) -> None:
    text = by_attainment(client, headers, "area").text
    assert not any(str(baby.id) in text for baby in hampden)
