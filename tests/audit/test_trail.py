"""The audit trail: one event per decision, no personal data, tamper-evident."""

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.audit.models import AuditEvent, AuditSeal
from app.platform.db import as_utc
from tests import factories

Headers = Callable[..., dict[str, str]]
OFFICER = ("data_protection_officer", "subject_rights")


def event(session: Session, decision_id: str) -> AuditEvent:
    return session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(decision_id))
    ).scalar_one()


@contextmanager
def tampering(session: Session) -> Iterator[None]:
    """Switch off the append-only guards inside the test's transaction, as an
    attacker with the database owner's rights could; the rollback restores them."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL session_replication_role = replica"))
    else:
        connection.execute(text("PRAGMA defer_foreign_keys = ON"))
        for table in ("audit_event", "audit_seal", "audit_event_subject"):
            for op in ("update", "delete"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{op}"))
    yield


def reads(client: TestClient, headers: Headers, session: Session, n: int) -> list[str]:
    child = factories.make_child(session)
    ids = []
    for _ in range(n):
        r = client.get(f"/v1/people/{child.id}", headers=headers("health_visitor", "health_care"))
        assert r.status_code == 200
        ids.append(r.headers["X-Decision-Id"])
    return ids


def test_an_allowed_read_writes_one_event_with_who_why_and_basis(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session, given_name="Zanele", family_name="Mokoena")
    before = session.execute(select(AuditEvent.id)).all()
    response = client.get(
        f"/v1/people/{child.id}", headers=headers("health_visitor", "health_care")
    )
    after = session.execute(select(AuditEvent.id)).all()
    assert len(after) == len(before) + 1
    row = event(session, response.headers["X-Decision-Id"])
    assert (row.actor_role, row.actor_org, row.purpose, row.action) == (
        "health_visitor",
        "RV3",
        "health_care",
        "read",
    )
    assert row.subject_id == child.id
    assert row.allowed is True
    assert row.reason == "allowed"
    assert row.bases == "art6-1-e"
    assert row.categories_granted == "contact,identity"
    assert row.outcome == "completed"


def test_the_trail_holds_no_names_or_identifiers(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session, given_name="Zanele", family_name="Mokoena")
    client.get(f"/v1/people/{child.id}", headers=headers("health_visitor", "health_care"))
    client.get(f"/v1/people/{child.id}", headers=headers("camhs_clinician", "early_help"))
    dump = " ".join(
        str(v) for row in session.execute(select(AuditEvent)).scalars() for v in vars(row).values()
    )
    assert "Zanele" not in dump
    assert "Mokoena" not in dump
    assert child.nhs_number is not None
    assert child.nhs_number not in dump


def test_a_denial_is_audited_and_survives_the_rollback(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = client.get(
        f"/v1/people/{child.id}", headers=headers("camhs_clinician", "early_help")
    )
    assert response.status_code == 403
    row = event(session, response.headers["X-Decision-Id"])
    assert row.allowed is False
    assert row.reason == "purpose_not_permitted"
    assert row.bases == ""
    assert row.outcome == "denied"
    assert row.status == 403


def test_a_write_that_fails_after_its_decision_keeps_the_decision_as_failed(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session, given_name="Before")
    response = client.patch(
        f"/v1/people/{child.id}",
        json={"given_name": "After"},
        headers=headers("health_visitor", "health_care", If_Match='"99"'),
    )
    assert response.status_code == 412
    row = event(session, response.headers["X-Decision-Id"])
    assert (row.allowed, row.outcome, row.status) == (True, "failed", 412)
    session.expire_all()
    again = client.get(f"/v1/people/{child.id}", headers=headers("health_visitor", "health_care"))
    assert again.json()["given_name"] == "Before"


def test_verify_reports_an_intact_trail(
    client: TestClient, session: Session, headers: Headers
) -> None:
    reads(client, headers, session, 3)
    response = client.get("/v1/audit/verify", headers=headers(*OFFICER))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True
    assert body["events"] >= 3
    assert body["unsealed"] == 0
    assert body["sealed"] == body["events"]
    assert len(body["head"]) == 64


def test_only_the_officer_may_verify(
    client: TestClient, session: Session, headers: Headers
) -> None:
    response = client.get("/v1/audit/verify", headers=headers("health_visitor", "health_care"))
    assert response.status_code == 403
    assert response.json()["reason"] == "purpose_not_permitted"


def _sealed(client: TestClient, headers: Headers, session: Session) -> list[str]:
    ids = reads(client, headers, session, 4)
    audit_service.seal(session.connection(), full=True)
    return ids


def _verify(client: TestClient, headers: Headers) -> dict[str, Any]:
    response = client.get("/v1/audit/verify", headers=headers(*OFFICER))
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_verify_detects_an_altered_event(
    client: TestClient, session: Session, headers: Headers
) -> None:
    ids = _sealed(client, headers, session)
    with tampering(session):
        session.execute(
            text("UPDATE audit_event SET purpose = 'safeguarding' WHERE id = :i"),
            {"i": event(session, ids[1]).id},
        )
    body = _verify(client, headers)
    assert body["ok"] is False
    assert body["first_bad"]["problem"] == "event_altered"


def test_verify_detects_a_removed_event(
    client: TestClient, session: Session, headers: Headers
) -> None:
    ids = _sealed(client, headers, session)
    with tampering(session):
        session.execute(
            text("DELETE FROM audit_event WHERE id = :i"), {"i": event(session, ids[1]).id}
        )
    body = _verify(client, headers)
    assert body["ok"] is False
    assert body["first_bad"]["problem"] == "event_removed"


def test_verify_detects_a_removed_event_and_its_seal(
    client: TestClient, session: Session, headers: Headers
) -> None:
    ids = _sealed(client, headers, session)
    victim = event(session, ids[1]).id
    with tampering(session):
        session.execute(text("DELETE FROM audit_seal WHERE event_id = :i"), {"i": victim})
        session.execute(text("DELETE FROM audit_event WHERE id = :i"), {"i": victim})
    body = _verify(client, headers)
    assert body["ok"] is False
    assert body["first_bad"]["problem"] == "missing_seal"


def test_verify_detects_reordered_events(
    client: TestClient, session: Session, headers: Headers
) -> None:
    ids = _sealed(client, headers, session)
    first, second = event(session, ids[1]).id, event(session, ids[2]).id
    with tampering(session):
        # Swap which event each chain position seals.
        session.execute(
            text("UPDATE audit_seal SET event_id = -1 WHERE event_id = :a"), {"a": first}
        )
        session.execute(
            text("UPDATE audit_seal SET event_id = :a WHERE event_id = :b"),
            {"a": first, "b": second},
        )
        session.execute(
            text("UPDATE audit_seal SET event_id = :b WHERE event_id = -1"), {"b": second}
        )
    body = _verify(client, headers)
    assert body["ok"] is False
    assert body["first_bad"]["problem"] == "event_altered"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET purpose = 'safeguarding'",
        "DELETE FROM audit_event",
        "UPDATE audit_seal SET hash = 'x'",
        "DELETE FROM audit_seal",
    ],
)
def test_the_database_refuses_to_change_the_trail(
    client: TestClient, session: Session, headers: Headers, statement: str
) -> None:
    _sealed(client, headers, session)
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text(statement))


def test_access_log_lists_who_read_the_person_and_why(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    client.get(f"/v1/people/{child.id}", headers=headers("health_visitor", "health_care"))
    client.get(f"/v1/people/{child.id}", headers=headers("camhs_clinician", "early_help"))
    other = factories.make_child(session)
    client.get(f"/v1/people/{other.id}", headers=headers("health_visitor", "health_care"))
    response = client.get(f"/v1/people/{child.id}/access-log", headers=headers(*OFFICER))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    seen = {(i["actor_role"], i["purpose"], i["allowed"]) for i in items}
    assert ("health_visitor", "health_care", True) in seen
    assert ("camhs_clinician", "early_help", False) in seen
    hv = next(i for i in items if i["actor_role"] == "health_visitor")
    assert hv["bases"] == ["art6-1-e"]
    assert all(i["resource"] in {"person", "access_log"} for i in items)
    assert len([i for i in items if i["resource"] == "person"]) == 2


def _reference_digest(prev_hash: str, seq: int, row: AuditEvent) -> str:
    """The chain's documented form, computed independently of the service's code: sha256
    of sorted-key compact JSON; datetimes as UTC with microseconds, UUIDs as text."""

    def canonical(value: object) -> object:
        if isinstance(value, datetime):
            return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return str(value) if isinstance(value, UUID) else value

    event = {c.name: canonical(getattr(row, c.key)) for c in AuditEvent.__table__.columns}
    payload = json.dumps(
        {"prev": prev_hash, "seq": seq, "event": event},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def test_every_seal_is_the_documented_hash_of_its_event(
    client: TestClient, session: Session, headers: Headers
) -> None:
    ids = _sealed(client, headers, session)
    for decision_id in ids:
        row = event(session, decision_id)
        seal = session.execute(select(AuditSeal).where(AuditSeal.event_id == row.id)).scalar_one()
        assert seal.hash == _reference_digest(seal.prev_hash, seal.seq, row)


def test_a_time_with_no_microseconds_or_another_offset_hashes_as_its_utc_text() -> None:
    names = audit_service.HASHED_COLUMNS
    values: list[object] = [None] * len(names)
    values[names.index("occurred_at")] = datetime(
        2026, 6, 1, 13, 0, tzinfo=timezone(timedelta(hours=1))
    )
    values[names.index("decision_id")] = UUID(int=7)
    digest = audit_service._digest(audit_service.GENESIS, 1, values)
    event = dict(zip(names, values, strict=True))
    event["occurred_at"] = "2026-06-01T12:00:00.000000Z"
    event["decision_id"] = str(UUID(int=7))
    payload = json.dumps(
        {"prev": audit_service.GENESIS, "seq": 1, "event": event},
        sort_keys=True,
        separators=(",", ":"),
    )
    assert digest == hashlib.sha256(payload.encode()).hexdigest()


def _verify_from(client: TestClient, headers: Headers, from_seq: int) -> dict[str, Any]:
    response = client.get(f"/v1/audit/verify?from_seq={from_seq}", headers=headers(*OFFICER))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_daily_check_verifies_from_where_the_last_one_ended(
    client: TestClient, session: Session, headers: Headers
) -> None:
    _sealed(client, headers, session)
    yesterday = _verify(client, headers)
    reads(client, headers, session, 3)
    today = _verify_from(client, headers, int(yesterday["head_seq"]) + 1)
    assert today["ok"] is True
    assert today["anchor"] == yesterday["head"]
    # The three reads, and yesterday's verification itself.
    assert today["checked"] == 4
    assert today["head_seq"] == int(yesterday["head_seq"]) + 4


def test_a_range_check_finds_tampering_inside_the_range(
    client: TestClient, session: Session, headers: Headers
) -> None:
    ids = _sealed(client, headers, session)
    victim = session.execute(
        select(AuditSeal.seq).where(AuditSeal.event_id == event(session, ids[2]).id)
    ).scalar_one()
    with tampering(session):
        session.execute(
            text("UPDATE audit_event SET purpose = 'legal_claims' WHERE id = :i"),
            {"i": event(session, ids[2]).id},
        )
    body = _verify_from(client, headers, victim)
    assert body["ok"] is False
    assert body["first_bad"]["problem"] == "event_altered"
    assert body["first_bad"]["seq"] == victim


def test_a_range_past_the_head_shows_the_chain_was_cut_short(
    client: TestClient, session: Session, headers: Headers
) -> None:
    _sealed(client, headers, session)
    head_seq = int(_verify(client, headers)["head_seq"])
    body = _verify_from(client, headers, head_seq + 10)
    assert body["ok"] is False
    assert body["first_bad"]["problem"] == "missing_seal"


def test_a_range_must_start_at_the_first_position_or_later(
    client: TestClient, headers: Headers
) -> None:
    response = client.get("/v1/audit/verify?from_seq=0", headers=headers(*OFFICER))
    assert response.status_code == 422
