"""A child's education record: decided by category, encrypted, only for a child with a
unique pupil number or a nursery place."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.education import service as education_service
from app.education.schemas import Attainment
from app.people.models import Person
from app.platform.crypto import get_key_ring
from tests import factories

Headers = Callable[..., dict[str, str]]
FW = ("family_worker", "early_help")
HV = ("health_visitor", "health_care")
RECORD: dict[str, Any] = {
    "attendance_percent": 87.5,
    "exclusions": [
        {"from": "2026-10-05", "to": "2026-10-06", "reason": "Bit a classmate Quorvantine"}
    ],
    "behaviour": "some_concerns",
    "attainment": "emerging",
}


def _pupil(session: Session, **kwargs: Any) -> Person:
    """A child with a nursery place, whose household's early help needs no consent (a
    child protection plan is active)."""
    child = factories.make_child(session, **kwargs)
    factories.enrol(session, child, factories.nursery_ids()[0])
    factories.make_plan(session, child)
    return child


def _url(person: Person) -> str:
    return f"/v1/people/{person.id}/education"


def test_a_family_worker_records_and_reads_a_childs_education(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = _pupil(session)
    put = client.put(_url(child), json=RECORD, headers=headers(*FW))
    assert put.status_code == 200, put.text
    assert put.headers["ETag"] == '"1"'
    got = client.get(_url(child), headers=headers(*FW))
    assert got.status_code == 200
    assert got.json() == RECORD
    assert got.headers["X-Lawful-Basis"] == "art6-1-e"
    assert "X-Withheld-Categories" not in got.headers
    event = session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(got.headers["X-Decision-Id"]))
    ).scalar_one()
    assert (event.resource, event.action, event.allowed) == ("education", "read", True)
    assert event.categories_granted == "education"


def test_health_care_does_not_reach_education(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = _pupil(session)
    client.put(_url(child), json=RECORD, headers=headers(*FW))
    denied = client.get(_url(child), headers=headers(*HV))
    assert denied.status_code == 403
    assert denied.json()["reason"] == "purpose_not_permitted"
    assert "Quorvantine" not in denied.text
    written = client.put(_url(child), json=RECORD, headers=headers(*HV, If_Match='"1"'))
    assert written.json()["reason"] == "purpose_not_permitted"


def test_early_help_needs_a_consent_that_covers_education(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session, with_nhs_number=True)
    factories.enrol(session, child, factories.nursery_ids()[0])
    factories.make_consent(session, child, categories=("identity", "contact"))
    denied = client.put(_url(child), json=RECORD, headers=headers(*FW))
    assert denied.status_code == 403
    assert denied.json()["reason"] == "consent_required"
    factories.make_consent(session, child, categories=("education",))
    allowed = client.put(_url(child), json=RECORD, headers=headers(*FW))
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["X-Lawful-Basis"] == "art6-1-a"


def test_an_officer_reads_education_under_subject_rights(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = _pupil(session)
    client.put(_url(child), json=RECORD, headers=headers(*FW))
    got = client.get(_url(child), headers=headers("data_protection_officer", "subject_rights"))
    assert got.status_code == 200
    assert got.json()["attainment"] == "emerging"


def test_a_second_write_needs_the_etag(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = _pupil(session)
    assert client.put(_url(child), json=RECORD, headers=headers(*FW)).status_code == 200
    assert client.put(_url(child), json=RECORD, headers=headers(*FW)).status_code == 428
    stale = client.put(_url(child), json=RECORD, headers=headers(*FW, If_Match='"9"'))
    assert stale.status_code == 412
    fresh = client.put(
        _url(child), json={"attainment": "expected"}, headers=headers(*FW, If_Match='"1"')
    )
    assert fresh.status_code == 200
    assert fresh.headers["ETag"] == '"2"'
    assert client.get(_url(child), headers=headers(*FW)).json()["exclusions"] is None


def test_nothing_recorded_reads_as_an_empty_record_with_version_zero(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = _pupil(session)
    got = client.get(_url(child), headers=headers(*FW))
    assert got.status_code == 200
    assert got.headers["ETag"] == '"0"'
    assert set(got.json().values()) == {None}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"attendance_percent": 100.5}, "attendance_percent"),
        ({"attendance_percent": -1}, "attendance_percent"),
        ({"behaviour": "naughty"}, "behaviour"),
        ({"attainment": "gifted"}, "attainment"),
        (
            {"exclusions": [{"from": "2026-10-06", "to": "2026-10-05", "reason": "x"}]},
            "exclusions.0.to",
        ),
        ({"exclusions": [{"from": "2026-10-06", "reason": ""}]}, "exclusions.0.reason"),
        ({"exclusions": [{"to": "2026-10-06", "reason": "x"}]}, "exclusions.0.from"),
        ({"exclusions": [{"from": "2026-10-06", "reason": "x", "extra": 1}]}, "exclusions.0.extra"),
    ],
)
def test_an_invalid_education_record_is_422_naming_the_field(
    client: TestClient,
    session: Session,
    headers: Headers,
    change: dict[str, Any],
    field: str,
) -> None:
    child = _pupil(session)
    bad = client.put(_url(child), json={**RECORD, **change}, headers=headers(*FW))
    assert bad.status_code == 422, bad.text
    assert field in [e["field"] for e in bad.json()["errors"]]


def test_education_is_422_for_a_carer(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = _pupil(session)
    carer = factories.make_carer(session, family=session.get(factories.Family, child.family_id))
    refused = client.put(_url(carer), json=RECORD, headers=headers(*FW))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "person_id"
    assert client.get(_url(carer), headers=headers(*FW)).json()["attainment"] is None


def test_education_is_422_for_a_child_with_no_pupil_number_and_no_nursery_place(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_plan(session, child)
    refused = client.put(_url(child), json=RECORD, headers=headers(*FW))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "person_id"


def test_a_child_with_a_unique_pupil_number_may_have_an_education_record(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_plan(session, child)
    session.execute(
        Person.__table__.update().where(Person.id == child.id).values(upn="B801200005001")
    )
    session.commit()
    assert client.put(_url(child), json=RECORD, headers=headers(*FW)).status_code == 200


def test_the_raw_row_holds_no_plaintext_of_the_education_record(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = _pupil(session)
    client.put(_url(child), json=RECORD, headers=headers(*FW))
    row = session.execute(
        text("SELECT attendance_percent, exclusions, behaviour, attainment FROM education_record")
    ).one()
    raw = " ".join(str(v) for v in row)
    for word in ("87.5", "Quorvantine", "2026-10-05", "some_concerns", "emerging"):
        assert word not in raw
    assert all(str(v).startswith("v1.") for v in row)


def test_each_childs_attainment_is_yielded_for_the_reports(
    client: TestClient, session: Session, headers: Headers
) -> None:
    first, second = _pupil(session), _pupil(session)
    client.put(_url(first), json=RECORD, headers=headers(*FW))
    client.put(_url(second), json={"attainment": "exceeding"}, headers=headers(*FW))
    found = {
        child_id: attainment
        for _, child_id, attainment in education_service.attainment_by_child(
            session, get_key_ring(), family_ids=[first.family_id, second.family_id]
        )
    }
    assert found == {first.id: Attainment.EMERGING, second.id: Attainment.EXCEEDING}
