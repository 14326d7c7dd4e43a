"""GET /v1/reports/take-up and /impact: counts only, protected, and nothing recoverable."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.people import records as people_records
from app.people import schemas as people_schemas
from app.people import service as people_service
from app.platform.crypto import get_key_ring
from app.reports.disclosure import Protected
from tests import factories
from tests.reports.helpers import child, contact, review, set_flags
from tests.reports.test_disclosure import all_lines, recoverable

Headers = Callable[..., dict[str, str]]
ANALYST = "public_health_analyst"
ONE_DAY = timedelta(days=1)


def period() -> tuple[date, date]:
    last = factories.today() - ONE_DAY
    return last - timedelta(days=90), last


def born_aged(years: int, days: int = 40) -> date:
    """A birth date in the age band `years` on the period's last day."""
    last = period()[1]
    return date(last.year - years, last.month, 1) - timedelta(days=days)


def take_up(client: TestClient, headers: Headers, by: str, **params: Any) -> Any:
    first, last = period()
    response = client.get(
        "/v1/reports/take-up",
        params={"from": first.isoformat(), "to": last.isoformat(), "by": by, **params},
        headers=headers(ANALYST, "take_up_monitoring"),
    )
    assert response.status_code == 200, response.text
    return response


def count(table: Any, **where: str | None) -> int | None:
    for cell in table["cells"]:
        if all(cell.get(name) == value for name, value in where.items()) and all(
            cell.get(name) is None for name in table["dimensions"] if name not in where
        ):
            return cell["count"]  # type: ignore[no-any-return]
    raise AssertionError(f"no cell {where}")


def as_protected(table: Any) -> Protected:
    dims = tuple(table["dimensions"])
    return Protected(
        dimensions=dims,
        levels=tuple(tuple(table["levels"][d]) for d in dims),
        shown={tuple(cell.get(d) for d in dims): cell["count"] for cell in table["cells"]},
    )


def assert_nothing_recoverable(body: Any) -> None:
    """The attack: every line of every table, with every shown count taken as exact."""
    tables = [body[name] for name in ("children", "children_in_touch", "contacts") if name in body]
    if body.get("service_users"):
        tables.append(body["service_users"])
    tables += body.get("tables", [])
    for table in tables:
        protected = as_protected(table)
        for total, members in all_lines(protected):
            hidden = [e for e in (total, *members) if protected.shown[e] is None]
            assert len(hidden) != 1
        assert recoverable(protected, {}) == set()
        assert all(v is None or v % 5 == 0 for v in protected.shown.values())


@pytest.fixture
def borough(session: Session) -> dict[str, Any]:
    """Hampden: 12 babies, 10 of them seen twice in the period; Agar: 3 toddlers, one seen
    once; Kilburn Grange: 8 two-year-olds, each seen once; Gospel Oak: 9 three-year-olds,
    none seen; and two children the reports must never count."""
    first, last = period()
    hampden = [child(session, born_aged(0), postcode="NW1 1AA") for _ in range(12)]
    for kid in hampden[:10]:
        contact(session, kid, first + timedelta(days=5))
        contact(session, kid, last - timedelta(days=5), service="baby_massage")
    agar = [child(session, born_aged(1), postcode="NW1 7AA") for _ in range(3)]
    contact(session, agar[0], first + timedelta(days=1))
    kilburn = [child(session, born_aged(2), postcode="NW6 1AA") for _ in range(8)]
    for kid in kilburn:
        contact(session, kid, first + timedelta(days=3))
    gospel_oak = [child(session, born_aged(3), postcode="NW3 2AA") for _ in range(9)]
    for reason in ({"restricted": True}, {"objection_upheld": True}):
        left_out = child(session, born_aged(0), postcode="NW1 1AA")
        contact(session, left_out, first + timedelta(days=5))
        set_flags(session, left_out, **reason)
    return {"hampden": hampden, "agar": agar, "kilburn": kilburn, "gospel_oak": gospel_oak}


def test_take_up_counts_children_and_contacts_by_area_and_age_band(
    client: TestClient, headers: Headers, borough: dict[str, Any]
) -> None:
    response = take_up(client, headers, "area,age_band")
    body = response.json()
    assert response.headers["X-Lawful-Basis"] == "art6-1-e"
    assert body["by"] == ["area", "age_band"]
    children, contacts = body["children"], body["contacts"]
    assert count(children, area="hampden", age_band="0-1") == 10  # 12, rounded
    assert count(children, area="gospel_oak", age_band="3-4") == 10  # 9, rounded
    assert count(children, area="agar", age_band="1-2") is None  # 3: suppressed
    # Secondary suppression: beside Agar's hidden total, the next smallest area total is
    # hidden too (Kilburn Grange's 8), and with it the one cell that makes it up.
    assert count(children, area="agar") is None
    assert count(children, area="kilburn_grange") is None
    assert count(children, area="kilburn_grange", age_band="2-3") is None
    # The restricted child and the objector are not counted: 12 babies, not 14.
    assert count(children, area="hampden") == 10
    assert count(children) == 30  # 32, rounded
    assert count(body["children_in_touch"], area="hampden", age_band="0-1") == 10
    assert count(contacts, area="hampden", age_band="0-1") == 20
    assert_nothing_recoverable(body)


def test_a_report_names_no_one(
    client: TestClient, headers: Headers, borough: dict[str, Any]
) -> None:
    text = take_up(client, headers, "area,age_band,service").text
    for kid in borough["hampden"] + borough["agar"]:
        assert str(kid.id) not in text
    assert "Test" not in text
    assert "Person" not in text


def test_a_smaller_report_agrees_with_the_totals_of_a_larger_one(
    client: TestClient, headers: Headers, borough: dict[str, Any]
) -> None:
    by_area = take_up(client, headers, "area").json()
    by_both = take_up(client, headers, "age_band,area").json()
    assert by_both["by"] == ["area", "age_band"]
    for name in ("children", "children_in_touch", "contacts"):
        for area in by_area[name]["levels"]["area"]:
            assert count(by_area[name], area=area) == count(by_both[name], area=area)


def test_take_up_by_service_counts_the_children_who_used_each(
    client: TestClient, headers: Headers, borough: dict[str, Any]
) -> None:
    body = take_up(client, headers, "service").json()
    users = body["service_users"]
    assert count(users, service="stay_and_play") == 20  # 19 children
    assert count(users, service="baby_massage") == 10
    assert body["children"]["dimensions"] == []
    assert_nothing_recoverable(body)


def test_a_service_fewer_than_8_children_used_is_counted_as_other(
    client: TestClient, session: Session, headers: Headers, borough: dict[str, Any]
) -> None:
    contact(session, borough["agar"][1], period()[0], service="Speech therapy for Zara")
    body = take_up(client, headers, "service").json()
    assert "Speech therapy for Zara" not in str(body)
    assert "other" in body["contacts"]["levels"]["service"]


def test_take_up_by_ethnicity_decrypts_each_childs_category(
    client: TestClient, session: Session, headers: Headers, borough: dict[str, Any]
) -> None:
    for kid in borough["hampden"]:
        view = people_service.find(session, kid.id)
        assert view is not None
        people_records.write(
            session,
            people_records.SPECIAL_CATEGORY,
            view,
            people_schemas.SpecialCategory(ethnicity="N"),
            get_key_ring(),
            None,
        )
    session.commit()
    response = take_up(client, headers, "ethnicity,area")
    body = response.json()
    assert response.headers["X-Lawful-Basis"] == "art6-1-e,art9-2-g"
    assert body["by"] == ["area", "ethnicity"]
    assert count(body["children"], area="hampden", ethnicity="N") == 10  # 12
    assert count(body["children"], ethnicity="N") == 10
    assert count(body["children"], ethnicity="not_recorded") == 20  # 20
    assert count(body["contacts"], ethnicity="N") == 20
    assert_nothing_recoverable(body)


@pytest.mark.parametrize(
    ("by", "field"),
    [
        ("area,age_band,ethnicity,service", "by"),
        ("area,postcode", "by"),
        ("area,area", "by"),
    ],
)
def test_a_report_by_something_else_is_422(
    client: TestClient, headers: Headers, by: str, field: str
) -> None:
    first, last = period()
    response = client.get(
        "/v1/reports/take-up",
        params={"from": first.isoformat(), "to": last.isoformat(), "by": by},
        headers=headers(ANALYST, "take_up_monitoring"),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_a_period_that_ends_before_it_starts_is_422(client: TestClient, headers: Headers) -> None:
    response = client.get(
        "/v1/reports/take-up",
        params={"from": "2026-03-01", "to": "2026-01-01"},
        headers=headers(ANALYST, "take_up_monitoring"),
    )
    assert response.status_code == 422


def impact(client: TestClient, headers: Headers, by: str | None = None) -> Any:
    first, last = period()
    params = {"from": first.isoformat(), "to": last.isoformat()}
    if by:
        params["by"] = by
    response = client.get(
        "/v1/reports/impact", params=params, headers=headers(ANALYST, "impact_evaluation")
    )
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
def reviewed(session: Session, borough: dict[str, Any]) -> None:
    """Users of a service: Hampden's 10, latest review no concerns (an earlier one
    referred); Kilburn Grange's 8, referred. Non-users: Gospel Oak's 9, no concerns."""
    first, last = period()
    for kid in borough["hampden"][:10]:
        review(session, kid, first + timedelta(days=2), "6_8_week", "referred")
        review(session, kid, last - ONE_DAY, "1_year", "no_concerns")
    for kid in borough["kilburn"]:
        review(session, kid, first + ONE_DAY, "2_2_5_year", "referred")
    for kid in borough["gospel_oak"]:
        review(session, kid, first + ONE_DAY, "2_2_5_year", "no_concerns")


def test_impact_compares_the_outcomes_of_users_and_non_users(
    client: TestClient, headers: Headers, reviewed: None
) -> None:
    response = impact(client, headers)
    assert response.headers["X-Lawful-Basis"] == "art6-1-e,art9-2-h"
    [table] = response.json()["tables"]
    assert table["dimensions"] == ["used_service", "outcome"]
    assert count(table, used_service="used", outcome="no_concerns") == 10  # 10
    assert count(table, used_service="used", outcome="referred") == 10  # 8
    assert count(table, used_service="did_not_use", outcome="no_concerns") == 10  # 9
    assert count(table, used_service="used") == 20  # 18
    shares = {
        (s["used_service"], s["outcome"]): s["share"]
        for s in table["shares"]
        if "area" not in s and "age_band" not in s
    }
    # From the published counts: 10 of the shown 20, never the true 10 of 18.
    assert shares[("used", "no_concerns")] == 0.5
    assert shares[("did_not_use", "no_concerns")] == 1.0
    assert shares[("did_not_use", "support_needed")] == 0.0
    assert_nothing_recoverable({"tables": [table]})


def test_impact_by_area_and_by_service(
    client: TestClient, headers: Headers, reviewed: None
) -> None:
    by_area = impact(client, headers, "area").json()
    assert by_area["tables"][0]["dimensions"] == ["area", "used_service", "outcome"]
    assert_nothing_recoverable({"tables": by_area["tables"]})
    by_service = impact(client, headers, "service").json()
    services = [t["service"] for t in by_service["tables"]]
    assert "stay_and_play" in services
    assert "baby_massage" in services
    assert_nothing_recoverable({"tables": by_service["tables"]})


def test_impact_by_ethnicity_is_422(client: TestClient, headers: Headers) -> None:
    first, last = period()
    response = client.get(
        "/v1/reports/impact",
        params={"from": first.isoformat(), "to": last.isoformat(), "by": "ethnicity"},
        headers=headers(ANALYST, "impact_evaluation"),
    )
    assert response.status_code == 422


def test_take_up_monitoring_may_not_draw_the_impact_report(
    client: TestClient, headers: Headers
) -> None:
    first, last = period()
    response = client.get(
        "/v1/reports/impact",
        params={"from": first.isoformat(), "to": last.isoformat()},
        headers=headers(ANALYST, "take_up_monitoring"),
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "purpose_not_permitted"


def test_children_outside_every_centres_area_are_reported_as_unassigned(
    client: TestClient, session: Session, headers: Headers
) -> None:
    for _ in range(9):
        child(session, born_aged(2), postcode="SW1A 1AA")
    body = take_up(client, headers, "area").json()
    assert "unassigned" in body["children"]["levels"]["area"]
    assert count(body["children"], area="unassigned") == 10  # 9
