"""Art 19: recipients of shared data are told of its rectification, erasure or
restriction, by a notification written in the transaction of the change."""

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.notifications import service as notifications_service
from app.notifications.models import Notification
from app.people.models import Person
from app.platform.crypto import get_key_ring
from tests import factories
from tests.notifications.helpers import share
from tests.rights.cases import OFFICER, Headers, decide, open_case

HV = ("health_visitor", "health_care")


def patch(
    client: TestClient, headers: Headers, person: Person, body: dict[str, Any], tag: str = '"1"'
) -> Any:
    return client.patch(f"/v1/people/{person.id}", json=body, headers=headers(*HV, If_Match=tag))


def told(client: TestClient, headers: Headers, person: Person) -> list[dict[str, Any]]:
    response = client.get(f"/v1/people/{person.id}/notifications", headers=headers(*OFFICER))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def rows(session: Session, person: Person) -> list[Notification]:
    person_id = person.id
    session.expire_all()
    return list(session.scalars(select(Notification).where(Notification.subject_id == person_id)))


def test_correcting_a_shared_name_tells_the_recipient_that_received_it(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session, given_name="Jon")
    shared = share(client, headers, child, "identity")
    response = patch(client, headers, child, {"given_name": "John"})
    assert response.status_code == 200, response.text
    (notice,) = told(client, headers, child)
    assert notice["disclosure_id"] == shared["disclosure_id"]
    assert notice["recipient"] == "childrens_social_care"
    assert notice["event"] == "rectification"
    assert notice["categories"] == ["identity"]
    assert notice["cause_id"] == response.headers["X-Decision-Id"]
    # The recipient has no endpoint in the reference data: the officer sends it by hand.
    assert notice["status"] == "manual"


def test_a_correction_of_a_category_the_recipient_never_received_tells_no_one(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    share(client, headers, child, "identity")
    assert patch(client, headers, child, {"phone": "020 7946 0000"}).status_code == 200
    assert told(client, headers, child) == []


def test_the_notice_carries_the_corrected_values_of_the_categories_received_only(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session, given_name="Jon")
    share(client, headers, child, "identity")
    share(client, headers, child, "contact", recipient="police")
    assert patch(client, headers, child, {"given_name": "John"}).status_code == 200
    (notice,) = rows(session, child)
    assert notice.recipient == "childrens_social_care"
    # Stored encrypted under the household's key: no plaintext in the row.
    assert notice.payload is not None
    assert "John" not in notice.payload
    corrected = notifications_service.corrected_of(session, notice, get_key_ring())
    assert set(corrected) == {"identity"}
    assert corrected["identity"]["given_name"] == "John"
    # The NHS number travels with identity, which this recipient received.
    assert corrected["identity"]["nhs_number"] == child.nhs_number


def test_a_recipient_of_contact_only_is_told_of_a_contact_correction_without_the_nhs_number(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    share(client, headers, child, "contact")
    assert patch(client, headers, child, {"phone": "020 7946 0000"}).status_code == 200
    (notice,) = rows(session, child)
    corrected = notifications_service.corrected_of(session, notice, get_key_ring())
    assert set(corrected) == {"contact"}
    assert "nhs_number" not in orjson.dumps(corrected).decode()


def test_a_correction_with_no_disclosure_writes_no_notification(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session, given_name="Jon")
    assert patch(client, headers, child, {"given_name": "John"}).status_code == 200
    assert rows(session, child) == []


def test_replacing_shared_health_data_tells_its_recipient(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    path = f"/v1/people/{child.id}/special-category"
    first = client.put(path, json={"health": {"allergies": "None known"}}, headers=headers(*HV))
    assert first.status_code == 200, first.text
    share(client, headers, child, "health")
    second = client.put(
        path,
        json={"health": {"allergies": "Peanut allergy"}},
        headers=headers(*HV, If_Match=first.headers["ETag"]),
    )
    assert second.status_code == 200, second.text
    (notice,) = told(client, headers, child)
    assert notice["categories"] == ["health"]
    assert notice["event"] == "rectification"


def test_a_rectification_whose_notification_cannot_be_written_changes_nothing(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session, given_name="Jon")
    share(client, headers, child, "identity")
    # The database itself refuses the notification's row.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'refused'; END $$"
            )
        )
        session.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON notification "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
        )
    else:
        session.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON notification "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        )
    session.commit()
    response = patch(client, headers, child, {"given_name": "John"})
    assert response.status_code == 503, response.text
    assert response.json()["type"].endswith("notifications_not_recorded")
    assert response.headers["Retry-After"]
    assert "Jon" not in response.text
    assert "John" not in response.text
    session.expire_all()
    assert session.get(Person, child.id).given_name == "Jon"  # type: ignore[union-attr]
    assert rows(session, child) == []
    # The refusal is still in the trail, with the status the caller got.
    read = client.get(f"/v1/people/{child.id}", headers=headers(*HV))
    assert read.json()["given_name"] == "Jon"


def test_an_erasure_tells_every_recipient_and_leaves_only_opaque_ids(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session, given_name="Jon")
    shared = share(client, headers, child, "identity", "safeguarding")
    share(client, headers, child, "contact", recipient="police")
    assert patch(client, headers, child, {"given_name": "John"}).status_code == 200
    case = open_case(client, headers, child.id, type="erasure")
    decided = decide(client, headers, case["id"], reason="No longer needed; erased as asked")
    assert decided.status_code == 200, decided.text
    assert decided.json()["history"][-1]["detail"]["recipients_notified"] == [
        "childrens_social_care",
        "police",
    ]
    found = rows(session, child)
    erasures = [n for n in found if n.event == "erasure"]
    assert sorted(n.recipient for n in erasures) == ["childrens_social_care", "police"]
    assert {str(n.disclosure_id) for n in erasures} >= {shared["disclosure_id"]}
    # Nothing about the subject is kept but opaque ids: no corrected values, no key.
    assert all(n.payload is None and n.family_id is None for n in found)
    (rectification,) = [n for n in found if n.event == "rectification"]
    assert rectification.status == "closed"
    assert rectification.closed_reason is not None
    assert "Jon" not in rectification.closed_reason


def test_a_restriction_tells_every_recipient_of_the_subjects_data(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    share(client, headers, child, "identity")
    case = open_case(client, headers, child.id, type="restriction")
    assert decide(client, headers, case["id"], reason="Accuracy contested").status_code == 200
    (notice,) = told(client, headers, child)
    assert notice["event"] == "restriction"
    assert notice["categories"] == ["identity"]


def test_a_refused_restriction_tells_no_one(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    share(client, headers, child, "identity")
    case = open_case(client, headers, child.id, type="restriction")
    refused = decide(client, headers, case["id"], outcome="refused", reason="Accuracy confirmed")
    assert refused.status_code == 200, refused.text
    assert told(client, headers, child) == []


def test_the_officer_closes_a_notification_sent_by_hand(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    share(client, headers, child, "identity")
    assert patch(client, headers, child, {"given_name": "Johnny"}).status_code == 200
    (notice,) = told(client, headers, child)
    path = f"/v1/notifications/{notice['id']}/close"
    closed = client.post(path, json={"reason": "Sent by secure email"}, headers=headers(*OFFICER))
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_reason"] == "Sent by secure email"
    assert closed.headers["X-Decision-Id"]
    again = client.post(path, json={"reason": "Twice"}, headers=headers(*OFFICER))
    assert again.status_code == 409


@pytest.mark.parametrize("role", ["health_visitor", "family_worker"])
def test_no_one_but_the_officer_sees_or_closes_notifications(
    client: TestClient, headers: Headers, role: str
) -> None:
    listed = client.get("/v1/notifications", headers=headers(role, "early_help"))
    assert listed.status_code == 403
    assert listed.json()["reason"] == "purpose_not_permitted"


def test_the_officer_lists_notifications_by_status(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    share(client, headers, child, "identity")
    assert patch(client, headers, child, {"given_name": "Johnny"}).status_code == 200
    manual = client.get("/v1/notifications?status=manual", headers=headers(*OFFICER))
    assert manual.status_code == 200, manual.text
    assert [n["subject_id"] for n in manual.json()["items"]] == [str(child.id)]
    delivered = client.get("/v1/notifications?status=delivered", headers=headers(*OFFICER))
    assert delivered.json()["items"] == []
    assert client.get("/v1/notifications?status=lost", headers=headers(*OFFICER)).status_code == 422


def test_an_unknown_notification_is_404(client: TestClient, headers: Headers) -> None:
    response = client.post(
        "/v1/notifications/00000000-0000-4000-8000-000000000001/close",
        json={"reason": "x"},
        headers=headers(*OFFICER),
    )
    assert response.status_code == 404


def test_the_open_notifications_are_counted_by_status_for_the_metrics(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    share(client, headers, child, "identity")
    before = notifications_service.counts(session.connection())
    assert patch(client, headers, child, {"given_name": "Johnny"}).status_code == 200
    after = notifications_service.counts(session.connection())
    assert after["manual"] == before["manual"] + 1
    assert after["pending"] == before["pending"]


def test_the_access_package_lists_the_recipients_told(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session, given_name="Jon")
    shared = share(client, headers, child, "identity")
    assert patch(client, headers, child, {"given_name": "John"}).status_code == 200
    case = open_case(client, headers, child.id, type="access")
    assert decide(client, headers, case["id"]).status_code == 200
    exported = client.get(f"/v1/subject-requests/{case['id']}/export", headers=headers(*OFFICER))
    assert exported.status_code == 200, exported.text
    (record,) = exported.json()["people"]
    (disclosure,) = record["disclosures"]
    assert disclosure["disclosure_id"] == shared["disclosure_id"]
    (notice,) = record["recipients_told"]
    assert notice["recipient"] == "childrens_social_care"
    assert notice["disclosure_id"] == shared["disclosure_id"]
    assert notice["event"] == "rectification"
    assert notice["status"] == "manual"
