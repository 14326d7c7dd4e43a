"""After a sweep, the raw database holds nothing of a destroyed household but the
destruction log and opaque ids in the audit record: every table is read directly."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from app.consent.models import Consent
from app.contacts.models import Contact
from app.documents.models import Document, DocumentChunk
from app.education.models import EducationRecord
from app.people.models import Person
from app.relationships.models import Relationship
from app.safeguarding.models import SafeguardingRecord
from tests import factories
from tests.retention.aging import expire

Headers = Callable[..., dict[str, str]]
FW_WHY = "Family worker key work agreed at the strategy meeting"
HV = ("health_visitor", "health_care")
OFFICER = ("data_protection_officer", "subject_rights")
LEGAL = ("data_protection_officer", "legal_claims")
JUSTIFIED = "Bruising seen at the home visit; referring to social care today"

AUDIT_RECORD = {
    # The trail names subjects by opaque id only, and must still verify.
    "audit_event",
    "audit_event_subject",
    "audit_seal",
    # A disclosure is the audit record of a share (opaque id, recipient, categories),
    # keyed to its audit event; the review of a safeguarding override likewise.
    "disclosure",
    "safeguarding_review",
    "destruction_log",
    # The report change feed names the destroyed household (opaque id and time only) so
    # that every instance drops the decrypted report facts it held of it.
    "report_change",
}


def _post(client: TestClient, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    response = client.post(url, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _everything_about_one_household(
    client: TestClient, session: Session, headers: Headers
) -> tuple[set[UUID], set[str]]:
    """A household with a record of every kind, made through the API where it can be."""
    family = _post(
        client,
        "/v1/families",
        {
            "address": {"line1": "17 Quillfeather Mews", "postcode": "NW5 2QX"},
            "phone": "020 7946 0321",
            "email": "okonkwo.family@example.com",
        },
        headers(*HV, Idempotency_Key="raw-family"),
    )
    carer = _post(
        client,
        "/v1/people",
        {
            "family_id": family["id"],
            "kind": "carer",
            "given_name": "Ebele",
            "family_name": "Okonkwo-Quill",
            "date_of_birth": "1990-02-03",
            "nhs_number": "9990000018",
            "has_parental_responsibility": True,
        },
        headers(*HV, Idempotency_Key="raw-carer"),
    )
    child = factories.make_child(
        session,
        family=session.get(factories.Family, UUID(family["id"])),
        given_name="Zikora",
        family_name="Okonkwo-Quill",
    )
    child_id = child.id
    nhs = child.nhs_number
    ids = {UUID(family["id"]), UUID(carer["id"]), child_id}
    for person_id in (carer["id"], str(child_id)):
        client.put(
            f"/v1/people/{person_id}/special-category",
            json={"ethnicity": "N", "health": {"medical_history": "Marbleshaw syndrome"}},
            headers=headers(*HV),
        )
        client.put(
            f"/v1/people/{person_id}/circumstances",
            json={"accommodation": "temporary"},
            headers=headers("health_visitor", "needs_assessment"),
        )
        contact = _post(
            client,
            f"/v1/people/{person_id}/contacts",
            {
                "kind": "home_visit",
                "occurred_at": "2026-10-01T10:00:00+00:00",
                "staff_role": "health_visitor",
                "notes": "Spoke with Ebele about Zikora's sleep",
            },
            headers(*HV),
        )
        ids.add(UUID(contact["id"]))
    consent = factories.make_consent(
        session, session.get(Person, child_id), given_by=session.get(Person, UUID(carer["id"]))
    )
    ids.add(consent)
    record = factories.make_safeguarding_record(session, session.get(Person, child_id))
    ids.add(record.id)
    session.commit()
    nursery = factories.nursery_ids()[0]
    enrolment = _post(
        client,
        f"/v1/nurseries/{nursery}/enrolments",
        {"child_id": str(child_id), "start_date": str(factories.today())},
        headers("nursery_practitioner", "nursery_care", nursery_id=nursery),
    )
    ids.add(UUID(enrolment["id"]))
    education = client.put(
        f"/v1/people/{child_id}/education",
        json={
            "attendance_percent": 61.25,
            "exclusions": [{"from": "2026-09-14", "reason": "Gorseblight incident"}],
            "behaviour": "significant_concerns",
        },
        headers=headers("family_worker", "safeguarding", justification=FW_WHY),
    )
    assert education.status_code == 200, education.text
    relationship = _post(
        client,
        f"/v1/people/{child_id}/relationships",
        {"kind": "grandparent", "to_name": "Thaddeus Brackenridge", "in_household": False},
        headers(*HV, Idempotency_Key="raw-relationship"),
    )
    ids.add(UUID(relationship["id"]))
    uploaded = client.post(
        f"/v1/people/{child_id}/documents",
        data={"kind": "report", "category": "health", "source": "Ravenscar clinic"},
        files={
            "file": ("Zikora report.txt", b"Wolfsbane-Ferncastle review " * 20000, "text/plain")
        },
        headers=headers(*HV),
    )
    assert uploaded.status_code == 201, uploaded.text
    ids.add(UUID(uploaded.json()["id"]))
    support = _post(
        client,
        f"/v1/people/{child_id}/family-worker-support",
        {"started_on": str(factories.today())},
        headers("family_worker", "safeguarding", justification=FW_WHY),
    )
    ids.add(UUID(support["id"]))
    _post(
        client,
        "/v1/shares",
        {"subject_id": str(child_id), "recipient": "police", "categories": ["identity"]},
        headers("health_visitor", "safeguarding", justification=JUSTIFIED),
    )
    case = _post(
        client,
        "/v1/subject-requests",
        {
            "type": "access",
            "subject_id": carer["id"],
            "requester_id": carer["id"],
            "details": "Ebele asks for everything about Zikora",
        },
        headers(*OFFICER),
    )
    ids.add(UUID(case["id"]))
    decided = client.post(
        f"/v1/subject-requests/{case['id']}/decide",
        json={"outcome": "fulfilled", "reason": "Answered in full"},
        headers=headers(*OFFICER),
    )
    assert decided.status_code == 200, decided.text
    hold = _post(
        client,
        "/v1/legal-holds",
        {"subject_id": str(child_id), "reason": "Claim expected"},
        headers(*LEGAL),
    )
    assert client.delete(f"/v1/legal-holds/{hold['id']}", headers=headers(*LEGAL)).is_success
    ids.add(UUID(hold["id"]))
    # Family-worker support keeps the child to 25: this is that day, passed.
    expire(session, session.get(Person, child_id))  # type: ignore[arg-type]
    words = {
        "Ebele",
        "Zikora",
        "Okonkwo",
        "Quillfeather",
        "NW5 2QX",
        "7946 0321",
        "okonkwo.family",
        "9990000018",
        str(nhs),
        "Marbleshaw",
        "Gorseblight",
        "61.25",
        "significant_concerns",
        "Thaddeus",
        "Brackenridge",
        "Wolfsbane",
        "Ravenscar",
    }
    return ids, words


def _table_rows(session: Session) -> dict[str, list[str]]:
    connection = session.connection()
    out: dict[str, list[str]] = {}
    for table in inspect(connection).get_table_names():
        if table == "alembic_version":
            continue
        rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
        out[table] = [" ".join(str(v) for v in row).lower() for row in rows]
    return out


def test_nothing_of_a_destroyed_household_is_left_but_the_log_and_opaque_audit_ids(
    client: TestClient, session: Session, headers: Headers
) -> None:
    ids, words = _everything_about_one_household(client, session, headers)
    before = _table_rows(session)
    needles = {s for i in ids for s in (str(i), i.hex)}
    assert any(n in row for rows in before.values() for row in rows for n in needles)
    assert any("zikora" in row for row in before["person"])
    assert len(before["idempotency_record"]) == 3
    # Encrypted at rest before any destruction, too: nothing of these in any table.
    for table, rows in before.items():
        for row in rows:
            for word in ("gorseblight", "61.25", "thaddeus", "wolfsbane", "ravenscar"):
                assert word not in row, f"{word!r} in clear in {table}"

    swept = client.post("/v1/retention/sweep", headers=headers(*OFFICER))
    assert swept.status_code == 200, swept.text
    assert swept.json()["destroyed"] == {"child": 1, "carer": 1, "family": 1}

    after = _table_rows(session)
    for table, rows in after.items():
        for row in rows:
            for word in words:
                assert word.lower() not in row, f"{word!r} left in {table}"
            if table not in AUDIT_RECORD:
                for needle in needles:
                    assert needle not in row, f"an id of the household left in {table}"
    logged = session.execute(text("SELECT subject_kind, rule FROM destruction_log")).all()
    assert sorted(tuple(r) for r in logged) == [
        ("carer", "household_last_child"),
        ("child", "25th_birthday_family_worker"),
        ("family", "household_last_child"),
    ]
    replays = session.execute(
        text(
            "SELECT count(*) FROM idempotency_record "
            "WHERE key IN ('raw-family', 'raw-carer', 'raw-relationship')"
        )
    ).scalar_one()
    assert replays == 0, "a stored create response of the household goes with it"
    for model in (
        Person,
        Contact,
        Consent,
        SafeguardingRecord,
        EducationRecord,
        Relationship,
        Document,
        DocumentChunk,
    ):
        assert session.execute(select(model)).first() is None, model.__name__
    verified = client.get("/v1/audit/verify", headers=headers(*OFFICER)).json()
    assert verified["ok"] is True
