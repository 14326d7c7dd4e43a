"""Legal holds (under legal_claims) and what falls due (under subject_rights)."""

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.retention.aging import age_child

Headers = Callable[..., dict[str, str]]
LEGAL = ("data_protection_officer", "legal_claims")
OFFICER = ("data_protection_officer", "subject_rights")
HV = ("health_visitor", "health_care")


def test_a_legal_hold_is_placed_and_released_under_legal_claims(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    placed = client.post(
        "/v1/legal-holds",
        json={"subject_id": str(child.id), "reason": "Claim against the council"},
        headers=headers(*LEGAL),
    )
    assert placed.status_code == 201, placed.text
    assert placed.headers["X-Lawful-Basis"] == "art6-1-e"
    hold = placed.json()
    assert (hold["subject_kind"], hold["active"]) == ("child", True)
    released = client.delete(f"/v1/legal-holds/{hold['id']}", headers=headers(*LEGAL))
    assert released.status_code == 200
    assert released.json()["active"] is False
    assert released.json()["released_by"] == "data_protection_officer-1"
    again = client.delete(f"/v1/legal-holds/{hold['id']}", headers=headers(*LEGAL))
    assert again.status_code == 409


def test_a_household_can_be_held_and_an_unknown_subject_cannot(
    client: TestClient, session: Session, headers: Headers
) -> None:
    family = factories.make_family(session)
    held = client.post(
        "/v1/legal-holds",
        json={"subject_id": str(family.id), "reason": "Claim"},
        headers=headers(*LEGAL),
    )
    assert held.status_code == 201
    assert held.json()["subject_kind"] == "family"
    unknown = client.post(
        "/v1/legal-holds",
        json={"subject_id": "00000000-0000-4000-8000-000000000000", "reason": "Claim"},
        headers=headers(*LEGAL),
    )
    assert unknown.status_code == 422


def test_holds_are_the_officers_under_legal_claims_only(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    body = {"subject_id": str(child.id), "reason": "Claim"}
    for who in (OFFICER, HV):
        response = client.post("/v1/legal-holds", json=body, headers=headers(*who))
        assert response.status_code == 403, who
        assert response.json()["reason"] == "purpose_not_permitted"


def test_a_hold_does_not_lift_retention_expired_for_anyone_but_the_officer(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    age_child(session, child)
    client.post(
        "/v1/legal-holds",
        json={"subject_id": str(child.id), "reason": "Claim"},
        headers=headers(*LEGAL),
    )
    denied = client.get(f"/v1/people/{child.id}", headers=headers(*HV))
    assert denied.json()["reason"] == "retention_expired"
    assert client.get(f"/v1/people/{child.id}", headers=headers(*OFFICER)).status_code == 200


def test_due_lists_children_adults_and_households_before_a_date_with_rule_and_hold(
    client: TestClient, session: Session, headers: Headers
) -> None:
    family = factories.make_family(session)
    carer = factories.make_carer(session, family=family)
    child = factories.make_child(session, family=family)
    other = factories.make_child(session)
    destroy_on = age_child(session, child)
    client.post(
        "/v1/legal-holds",
        json={"subject_id": str(child.id), "reason": "Claim"},
        headers=headers(*LEGAL),
    )
    before = factories.today() + timedelta(days=1)
    response = client.get(f"/v1/retention/due?before={before}", headers=headers(*OFFICER))
    assert response.status_code == 200, response.text
    items = {i["subject_id"]: i for i in response.json()["items"]}
    assert items[str(child.id)] == {
        "subject_id": str(child.id),
        "subject_kind": "child",
        "destroy_on": str(destroy_on),
        "rule": "fifth_birthday",
        "held": True,
    }
    assert items[str(carer.id)]["rule"] == "household_last_child"
    assert items[str(carer.id)]["held"] is True, "a held child keeps its household's adults"
    assert items[str(family.id)]["subject_kind"] == "family"
    assert str(other.id) not in items
    assert set(response.json()["items"][0]) == {
        "subject_id",
        "subject_kind",
        "destroy_on",
        "rule",
        "held",
    }


def test_due_pages_through_everything_in_date_order(
    client: TestClient, session: Session, headers: Headers
) -> None:
    for years in (6, 7, 8):
        age_child(session, factories.make_child(session), years=years)
    seen: list[str] = []
    cursor = None
    while True:
        url = f"/v1/retention/due?before={factories.today()}&limit=2"
        page = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=headers(*OFFICER))
        assert page.status_code == 200
        seen.extend(i["destroy_on"] for i in page.json()["items"])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 6, "each household: its child, and the household itself"
    assert seen == sorted(seen)


def test_due_is_the_officers(client: TestClient, headers: Headers) -> None:
    response = client.get(f"/v1/retention/due?before={factories.today()}", headers=headers(*HV))
    assert response.status_code == 403
