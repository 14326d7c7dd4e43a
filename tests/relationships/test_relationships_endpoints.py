"""Family relationships: recorded, listed, shown in the household read only where the
decision reaches `household`, removed, and a name not on the record never in clear."""

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.people.models import Family, Person
from app.relationships.models import Relationship
from tests import factories

Headers = Callable[..., dict[str, str]]
HV = ("health_visitor", "health_care")
NAME = "Gwendolyn Threlkeld-Oyelaran"


def _household(session: Session) -> tuple[Person, Person]:
    family = factories.make_family(session)
    carer = factories.make_carer(session, family=family)
    child = factories.make_child(session, family=family)
    return carer, child


def _post(client: TestClient, person: Person, body: dict[str, Any], h: dict[str, str]) -> Any:
    return client.post(f"/v1/people/{person.id}/relationships", json=body, headers=h)


def test_a_relationship_to_someone_on_the_record_is_recorded_and_listed(
    client: TestClient, session: Session, headers: Headers
) -> None:
    carer, child = _household(session)
    body = {
        "kind": "parent",
        "to_person_id": str(carer.id),
        "in_household": True,
        "has_parental_responsibility": True,
    }
    created = _post(client, child, body, headers(*HV))
    assert created.status_code == 201, created.text
    assert created.json()["to_person_id"] == str(carer.id)
    assert created.headers["X-Lawful-Basis"] == "art6-1-e"
    listed = client.get(f"/v1/people/{child.id}/relationships", headers=headers(*HV))
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert (item["kind"], item["in_household"], item["has_parental_responsibility"]) == (
        "parent",
        True,
        True,
    )
    event = session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(created.headers["X-Decision-Id"]))
    ).scalar_one()
    assert (event.resource, event.action, event.categories_asked) == (
        "relationship",
        "write",
        "household",
    )


def test_a_name_not_on_the_record_is_stored_encrypted_and_read_back(
    client: TestClient, session: Session, headers: Headers
) -> None:
    _, child = _household(session)
    body = {"kind": "grandparent", "to_name": NAME, "in_household": False}
    created = _post(client, child, body, headers(*HV))
    assert created.status_code == 201, created.text
    raw = session.execute(text("SELECT * FROM relationship")).all()
    assert raw
    assert all("Threlkeld" not in " ".join(str(v) for v in row) for row in raw)
    listed = client.get(f"/v1/people/{child.id}/relationships", headers=headers(*HV))
    assert listed.json()["items"][0]["to_name"] == NAME


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "parent", "in_household": True},
        {"kind": "parent", "in_household": True, "to_name": NAME, "to_person_id": str(uuid4())},
    ],
    ids=["neither", "both"],
)
def test_exactly_one_of_to_person_id_and_to_name_is_given(
    client: TestClient, session: Session, headers: Headers, body: dict[str, Any]
) -> None:
    _, child = _household(session)
    refused = _post(client, child, body, headers(*HV))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "to_name"


def test_a_relationship_to_a_person_never_held_is_422(
    client: TestClient, session: Session, headers: Headers
) -> None:
    _, child = _household(session)
    body = {"kind": "sibling", "to_person_id": str(uuid4()), "in_household": True}
    refused = _post(client, child, body, headers(*HV))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "to_person_id"


def test_a_relationship_to_oneself_is_422_and_nothing_is_stored(
    client: TestClient, session: Session, headers: Headers
) -> None:
    _, child = _household(session)
    body = {"kind": "sibling", "to_person_id": str(child.id), "in_household": True}
    refused = _post(client, child, body, headers(*HV))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "to_person_id"
    assert session.execute(select(func.count()).select_from(Relationship)).scalar_one() == 0


def test_an_unknown_kind_is_422(client: TestClient, session: Session, headers: Headers) -> None:
    _, child = _household(session)
    body = {"kind": "nemesis", "to_name": NAME, "in_household": False}
    assert _post(client, child, body, headers(*HV)).status_code == 422


def test_needs_assessment_does_not_reach_relationships(
    client: TestClient, session: Session, headers: Headers
) -> None:
    _, child = _household(session)
    body = {"kind": "grandparent", "to_name": NAME, "in_household": False}
    denied = _post(client, child, body, headers("health_visitor", "needs_assessment"))
    assert denied.status_code == 403
    assert denied.json()["reason"] == "purpose_not_permitted"


def test_the_other_person_is_decided_too(
    client: TestClient, session: Session, headers: Headers
) -> None:
    _, child = _household(session)
    elsewhere = factories.make_carer(session)
    session.execute(
        Person.__table__.update().where(Person.id == elsewhere.id).values(restricted=True)
    )
    session.commit()
    body = {"kind": "parent", "to_person_id": str(elsewhere.id), "in_household": False}
    denied = _post(client, child, body, headers(*HV))
    assert denied.status_code == 403
    assert denied.json()["reason"] == "processing_restricted"


def test_a_retry_with_the_same_key_returns_the_first_relationship_without_the_name(
    client: TestClient, session: Session, headers: Headers
) -> None:
    _, child = _household(session)
    body = {"kind": "grandparent", "to_name": NAME, "in_household": False}
    h = headers(*HV, Idempotency_Key="rel-1")
    first, second = _post(client, child, body, h), _post(client, child, body, h)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "to_name" not in second.json()
    assert session.execute(select(func.count()).select_from(Relationship)).scalar_one() == 1


def test_the_household_read_shows_relationships_where_it_reaches_household(
    client: TestClient, session: Session, headers: Headers
) -> None:
    _, child = _household(session)
    _post(
        client,
        child,
        {"kind": "grandparent", "to_name": NAME, "in_household": False},
        headers(*HV),
    )
    read = client.get(f"/v1/families/{child.family_id}", headers=headers(*HV))
    assert read.status_code == 200
    assert [r["to_name"] for r in read.json()["relationships"]] == [NAME]
    outreach = client.get(
        f"/v1/families/{child.family_id}", headers=headers("health_visitor", "needs_assessment")
    )
    assert outreach.status_code == 200
    assert "relationships" not in outreach.json()
    assert "household" in outreach.headers["X-Withheld-Categories"].split(",")
    assert NAME not in outreach.text


def test_a_relationship_is_removed(client: TestClient, session: Session, headers: Headers) -> None:
    _, child = _household(session)
    created = _post(
        client, child, {"kind": "other", "to_name": NAME, "in_household": False}, headers(*HV)
    )
    url = f"/v1/relationships/{created.json()['id']}"
    denied = client.delete(url, headers=headers("health_visitor", "needs_assessment"))
    assert denied.status_code == 403
    removed = client.delete(url, headers=headers(*HV))
    assert removed.status_code == 204, removed.text
    assert "X-Decision-Id" in removed.headers
    assert removed.headers["X-Lawful-Basis"] == "art6-1-e"
    assert client.delete(url, headers=headers(*HV)).status_code == 404
    listed = client.get(f"/v1/people/{child.id}/relationships", headers=headers(*HV))
    assert listed.json()["items"] == []


def test_an_erased_person_takes_relationships_in_both_directions_with_them(
    client: TestClient, session: Session, headers: Headers
) -> None:
    from tests.rights.cases import decide, open_case

    carer, child = _household(session)
    sibling = factories.make_child(session, family=session.get(Family, child.family_id))
    _post(
        client,
        child,
        {"kind": "sibling", "to_person_id": str(sibling.id), "in_household": True},
        headers(*HV),
    )
    _post(
        client,
        sibling,
        {"kind": "sibling", "to_person_id": str(child.id), "in_household": True},
        headers(*HV),
    )
    _post(client, carer, {"kind": "parent", "to_name": NAME, "in_household": False}, headers(*HV))
    case = open_case(client, headers, child.id, type="erasure", requester_id=carer.id)
    assert decide(client, headers, case["id"]).status_code == 200
    left = session.execute(select(Relationship.person_id, Relationship.to_person_id)).all()
    assert [tuple(row) for row in left] == [(carer.id, None)]
