"""Rectification (Art 16) through the normal PATCH, linked to the case: the old value
survives only as a keyed hash (under the household's key) in the audit event."""

import hashlib

import orjson
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.people.models import Family, Person
from app.people.service import cipher_for_family
from app.platform.crypto import field_aad, get_key_ring
from tests import factories
from tests.rights.cases import OFFICER, Headers, decide, event, open_case


def keyed(session: Session, person: Person, field: str, value: str) -> str:
    cipher = cipher_for_family(session, person.family_id, get_key_ring())
    return cipher.fingerprint(value, aad=field_aad("person", field, person.id))


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_a_rectification_request_is_walked_from_receipt_to_outcome(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session, given_name="Jon")
    carer = factories.make_carer(session, family=session.get(Family, child.family_id))
    case = open_case(
        client,
        headers,
        child.id,
        type="rectification",
        requester_id=carer.id,
        details="His name is spelt John",
    )
    patched = client.patch(
        f"/v1/people/{child.id}",
        json={"given_name": "John"},
        headers=headers(*OFFICER, If_Match='"1"', X_Subject_Request_Id=case["id"]),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["given_name"] == "John"
    row = event(session, patched.headers["X-Decision-Id"])
    assert orjson.loads(row.detail or "{}") == {
        "rectified": {"given_name": keyed(session, child, "given_name", "Jon")},
        "subject_request_id": case["id"],
    }
    # Not a plain hash: "Jon" cannot be found by hashing guesses.
    assert sha256("Jon") not in (row.detail or "")
    decided = decide(client, headers, case["id"], reason="Name corrected as asked")
    assert decided.status_code == 200, decided.text
    history = decided.json()["history"]
    assert [h["kind"] for h in history] == ["received", "rectified", "decided"]
    assert history[1]["detail"] == {"fields": ["given_name"]}
    assert history[1]["decision_id"] == patched.headers["X-Decision-Id"]
    assert decided.json()["outcome"] == "fulfilled"


def test_any_rectification_hashes_what_it_changed_and_skips_what_it_did_not(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session, given_name="Ama", family_name="Boateng")
    patched = client.patch(
        f"/v1/people/{child.id}",
        json={"given_name": "Ama", "family_name": "Boateng-Mensah", "sex": "female"},
        headers=headers("health_visitor", "health_care", If_Match='"1"'),
    )
    assert patched.status_code == 200, patched.text
    detail = orjson.loads(event(session, patched.headers["X-Decision-Id"]).detail or "{}")
    assert detail == {
        "rectified": {"family_name": keyed(session, child, "family_name", "Boateng"), "sex": None}
    }


def test_a_patch_naming_a_case_that_is_not_a_rectification_of_this_person_is_422(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    carer = factories.make_carer(session, family=session.get(Family, child.family_id))
    access = open_case(client, headers, child.id, requester_id=carer.id)
    other = open_case(client, headers, carer.id, type="rectification")
    for case_id in (access["id"], other["id"], "00000000-0000-4000-8000-000000000000"):
        response = client.patch(
            f"/v1/people/{child.id}",
            json={"given_name": "New"},
            headers=headers(*OFFICER, If_Match='"1"', X_Subject_Request_Id=case_id),
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "X-Subject-Request-Id"
