"""Special category, circumstances, rectification, idempotency and validation."""

from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.people.models import Family, FamilyKey, Person
from tests import factories

Headers = Callable[..., dict[str, str]]
FW_WHY = "Family worker key work agreed at the strategy meeting"
HV = ("health_visitor", "health_care")
SPECIAL = {
    "ethnicity": "N",
    "health": {"medical_history": "Born at 34 weeks", "allergies": "Peanut allergy"},
}


def test_special_category_round_trips_for_health_care(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    put = client.put(f"/v1/people/{child.id}/special-category", json=SPECIAL, headers=headers(*HV))
    assert put.status_code == 200, put.text
    assert put.headers["ETag"] == '"1"'
    got = client.get(f"/v1/people/{child.id}/special-category", headers=headers(*HV))
    assert got.status_code == 200
    assert got.json()["ethnicity"] == "N"
    assert got.json()["health"]["allergies"] == "Peanut allergy"
    assert got.headers["X-Lawful-Basis"] == "art6-1-e,art9-2-h"


def test_the_raw_database_row_holds_no_plaintext_of_special_category_data(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    client.put(f"/v1/people/{child.id}/special-category", json=SPECIAL, headers=headers(*HV))
    row = session.execute(
        text("SELECT * FROM special_category WHERE person_id = :p"),
        {"p": child.id.hex if session.bind.dialect.name == "sqlite" else child.id},  # type: ignore[union-attr]
    ).one()
    raw = " ".join(str(v) for v in row)
    assert "Peanut" not in raw
    assert "34 weeks" not in raw
    assert all(str(v).startswith("v1.") for v in row[1:3] if v is not None)


def test_destroying_the_family_key_makes_the_special_category_data_unreadable(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    client.put(f"/v1/people/{child.id}/special-category", json=SPECIAL, headers=headers(*HV))
    session.execute(FamilyKey.__table__.delete().where(FamilyKey.family_id == child.family_id))
    session.commit()
    got = client.get(f"/v1/people/{child.id}/special-category", headers=headers(*HV))
    assert got.status_code == 404
    assert "Peanut" not in got.text


def test_service_invitation_cannot_read_special_category_data(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    got = client.get(
        f"/v1/people/{child.id}/special-category",
        headers=headers("childrens_centre_worker", "service_invitation"),
    )
    assert got.status_code == 403
    assert got.json()["reason"] == "purpose_not_permitted"


def test_a_second_special_category_write_needs_the_etag(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    url = f"/v1/people/{child.id}/special-category"
    assert client.put(url, json=SPECIAL, headers=headers(*HV)).status_code == 200
    assert client.put(url, json=SPECIAL, headers=headers(*HV)).status_code == 428
    stale = client.put(url, json=SPECIAL, headers=headers(*HV, If_Match='"7"'))
    assert stale.status_code == 412
    fresh = client.put(url, json={"ethnicity": "A"}, headers=headers(*HV, If_Match='"1"'))
    assert fresh.status_code == 200
    assert fresh.headers["ETag"] == '"2"'


def test_an_unknown_ethnic_category_is_422_and_names_the_field(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    bad = client.put(
        f"/v1/people/{child.id}/special-category", json={"ethnicity": "I"}, headers=headers(*HV)
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "ethnicity"


def test_circumstances_are_withheld_from_health_care(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    fw = headers("health_visitor", "needs_assessment")
    put = client.put(
        f"/v1/people/{child.id}/circumstances", json={"accommodation": "temporary"}, headers=fw
    )
    assert put.status_code == 200, put.text
    assert client.get(f"/v1/people/{child.id}/circumstances", headers=fw).json() == {
        "work_status": None,
        "family_makeup": None,
        "legal_status": None,
        "accommodation": "temporary",
    }
    denied = client.get(f"/v1/people/{child.id}/circumstances", headers=headers(*HV))
    assert denied.status_code == 403
    assert denied.json()["reason"] == "purpose_not_permitted"


def test_rectification_needs_if_match_and_bumps_the_etag(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session, given_name="Jon")
    url = f"/v1/people/{child.id}"
    missing = client.patch(url, json={"given_name": "John"}, headers=headers(*HV))
    assert missing.status_code == 428
    ok = client.patch(url, json={"given_name": "John"}, headers=headers(*HV, If_Match='"1"'))
    assert ok.status_code == 200, ok.text
    assert ok.json()["given_name"] == "John"
    assert ok.headers["ETag"] == '"2"'
    stale = client.patch(url, json={"given_name": "Johnny"}, headers=headers(*HV, If_Match='"1"'))
    assert stale.status_code == 412


def test_a_retried_create_with_the_same_idempotency_key_creates_one_household(
    client: TestClient, session: Session, headers: Headers
) -> None:
    body = {"address": {"line1": "3 Road", "postcode": "NW3 2AB"}}
    before = session.execute(select(func.count()).select_from(Family)).scalar_one()
    first = client.post("/v1/families", json=body, headers=headers(*HV, Idempotency_Key="k-1"))
    second = client.post("/v1/families", json=body, headers=headers(*HV, Idempotency_Key="k-1"))
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    after = session.execute(select(func.count()).select_from(Family)).scalar_one()
    assert after == before + 1


def test_reusing_an_idempotency_key_for_a_different_body_is_422(
    client: TestClient, headers: Headers
) -> None:
    h = headers(*HV, Idempotency_Key="k-2")
    client.post("/v1/families", json={"address": {"line1": "A", "postcode": "NW3 2AB"}}, headers=h)
    other = client.post(
        "/v1/families", json={"address": {"line1": "B", "postcode": "NW3 2AB"}}, headers=h
    )
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"


def _person(family: UUID, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "family_id": str(family),
        "kind": "child",
        "given_name": "Ada",
        "family_name": "Obi",
        "date_of_birth": str(factories.today() - timedelta(days=100)),
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"nhs_number": "9990000000"}, "nhs_number"),
        ({"nhs_number": "12345"}, "nhs_number"),
        ({"upn": "A801200005001"}, "upn"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"kind": "child", "date_of_birth": "2015-01-01"}, "date_of_birth"),
        ({"kind": "grandparent"}, "kind"),
        ({"given_name": ""}, "given_name"),
        ({"family_id": "not-a-uuid"}, "family_id"),
        ({"has_parental_responsibility": True}, "has_parental_responsibility"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_invalid_person_is_422_naming_the_field_and_changes_nothing(
    client: TestClient,
    session: Session,
    headers: Headers,
    overrides: dict[str, object],
    field: str,
) -> None:
    family = factories.make_family(session)
    before = session.execute(select(func.count()).select_from(Person)).scalar_one()
    response = client.post("/v1/people", json=_person(family.id, **overrides), headers=headers(*HV))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert str(overrides.get("nhs_number", "~")) not in response.text.replace(field, "")
    after = session.execute(select(func.count()).select_from(Person)).scalar_one()
    assert after == before


def test_an_invalid_postcode_is_422(client: TestClient, headers: Headers) -> None:
    response = client.post(
        "/v1/families",
        json={"address": {"line1": "1", "postcode": "NOT A CODE"}},
        headers=headers(*HV),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "address.postcode"


def test_a_second_person_with_the_same_nhs_number_is_409(
    client: TestClient, session: Session, headers: Headers
) -> None:
    family = factories.make_family(session)
    first = client.post(
        "/v1/people", json=_person(family.id, nhs_number="9990000018"), headers=headers(*HV)
    )
    assert first.status_code == 201
    second = client.post(
        "/v1/people", json=_person(family.id, nhs_number="999 000 0018"), headers=headers(*HV)
    )
    assert second.status_code == 409


def test_malformed_json_is_422_not_500(client: TestClient, headers: Headers) -> None:
    response = client.post(
        "/v1/families",
        content=b"{not json",
        headers={**headers(*HV), "Content-Type": "application/json"},
    )
    assert response.status_code == 422


def test_family_worker_support_keeps_the_child_to_25(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.post(
        f"/v1/people/{child.id}/family-worker-support",
        json={"started_on": str(factories.today())},
        headers=headers("family_worker", "safeguarding", justification=FW_WHY),
    )
    assert response.status_code == 201, response.text
    assert response.json()["retention_until"] == str(
        child.date_of_birth.replace(year=child.date_of_birth.year + 25)
    )
    session.expire_all()
    assert session.get(Person, child.id).destroy_on.year == child.date_of_birth.year + 25  # type: ignore[union-attr]


def test_a_person_past_the_destruction_date_is_refused_retention_expired(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    session.execute(
        Person.__table__.update().where(Person.id == child.id).values(destroy_on=factories.today())
    )
    session.commit()
    denied = client.get(f"/v1/people/{child.id}", headers=headers(*HV))
    assert denied.status_code == 403
    assert denied.json()["reason"] == "retention_expired"
    officer = client.get(
        f"/v1/people/{child.id}", headers=headers("data_protection_officer", "subject_rights")
    )
    assert officer.status_code == 200


def test_a_restricted_person_is_refused_except_for_safeguarding(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    session.execute(Person.__table__.update().where(Person.id == child.id).values(restricted=True))
    session.commit()
    denied = client.get(f"/v1/people/{child.id}", headers=headers(*HV))
    assert denied.json()["reason"] == "processing_restricted"
    allowed = client.get(
        f"/v1/people/{child.id}",
        headers=headers(
            "health_visitor",
            "safeguarding",
            justification="Bruising seen at home visit, discussing with social care",
        ),
    )
    assert allowed.status_code == 200
    event = session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(allowed.headers["X-Decision-Id"]))
    ).scalar_one()
    assert event.review_required is True
    assert event.justification is not None


def test_early_help_without_consent_is_refused(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    denied = client.get(f"/v1/people/{child.id}", headers=headers("family_worker", "early_help"))
    assert denied.status_code == 403
    assert denied.json()["reason"] == "consent_required"


def test_early_help_under_a_child_protection_plan_needs_no_consent(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_plan(session, child)
    ok = client.get(f"/v1/people/{child.id}", headers=headers("family_worker", "early_help"))
    assert ok.status_code == 200, ok.text
    assert ok.headers["X-Lawful-Basis"] == "art6-1-e"


def test_an_erased_person_answers_410_with_a_decision_id(
    client: TestClient, session: Session, headers: Headers
) -> None:
    from app.retention.models import DestructionLog

    child = factories.make_child(session)
    session.execute(Person.__table__.delete().where(Person.id == child.id))
    session.add(
        DestructionLog(
            subject_id=child.id,
            subject_kind="child",
            rule="erasure",
            destroyed_on=factories.today(),
        )
    )
    session.commit()
    gone = client.get(f"/v1/people/{child.id}", headers=headers(*HV))
    assert gone.status_code == 410
    assert "X-Decision-Id" in gone.headers


def test_an_unknown_person_is_404(client: TestClient, headers: Headers) -> None:
    response = client.get("/v1/people/00000000-0000-4000-8000-000000000000", headers=headers(*HV))
    assert response.status_code == 404


def test_a_stored_idempotent_response_holds_no_plaintext(
    client: TestClient, session: Session, headers: Headers
) -> None:
    family = factories.make_family(session)
    response = client.post(
        "/v1/people",
        json=_person(family.id, given_name="Ifeoluwa"),
        headers=headers(*HV, Idempotency_Key="k-plain"),
    )
    assert response.status_code == 201
    raw = session.execute(text("SELECT body FROM idempotency_record")).scalars().all()
    assert raw
    assert all(b"Ifeoluwa" not in bytes(body) for body in raw)


def test_an_idempotency_key_is_forgotten_after_a_day(
    client: TestClient, session: Session, headers: Headers
) -> None:
    from app.platform.idempotency import IdempotencyRecord

    body = {"address": {"line1": "4 Road", "postcode": "NW3 2AB"}}
    first = client.post("/v1/families", json=body, headers=headers(*HV, Idempotency_Key="k-old"))
    session.execute(
        IdempotencyRecord.__table__.update().values(
            created_at=factories.now() - timedelta(hours=25)
        )
    )
    session.commit()
    second = client.post("/v1/families", json=body, headers=headers(*HV, Idempotency_Key="k-old"))
    assert second.status_code == 201
    assert second.json()["id"] != first.json()["id"]
