"""Delivering notifications to a real HTTP receiver: signed, retried with backoff until
it succeeds, each attempt recorded, and never delivered by two workers at once."""

import hashlib
import hmac
from datetime import timedelta

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app.notifications import delivery
from app.notifications.models import Notification, NotificationAttempt
from app.people.models import Person
from app.platform.crypto import get_key_ring
from app.platform.db import utcnow
from app.platform.settings import Settings, get_settings
from tests import factories
from tests.notifications.helpers import SECRET, Receiver, endpoint_for, receiving, share
from tests.rights.cases import OFFICER, Headers, decide, open_case

HV = ("health_visitor", "health_care")


@pytest.fixture
def quick() -> Settings:
    """No wait between attempts, so a test can run round after round."""
    return get_settings().model_copy(
        update={"notify_backoff_base_seconds": 0.0, "notify_timeout_seconds": 5.0}
    )


def correct_name(client: TestClient, headers: Headers, child: Person, name: str) -> None:
    response = client.patch(
        f"/v1/people/{child.id}", json={"given_name": name}, headers=headers(*HV, If_Match='"1"')
    )
    assert response.status_code == 200, response.text


def notice(session: Session, child: Person) -> Notification:
    child_id = child.id
    session.expire_all()
    return session.scalars(select(Notification).where(Notification.subject_id == child_id)).one()


def attempts(session: Session, notification: Notification) -> list[NotificationAttempt]:
    return list(
        session.scalars(
            select(NotificationAttempt)
            .where(NotificationAttempt.notification_id == notification.id)
            .order_by(NotificationAttempt.id)
        )
    )


def rounds(connection: Connection, settings: Settings, n: int) -> int:
    return sum(delivery.deliver_due(connection, get_key_ring(), settings) for _ in range(n))


def test_a_receiver_that_fails_at_first_gets_the_notification_once_it_answers(
    client: TestClient,
    session: Session,
    connection: Connection,
    headers: Headers,
    monkeypatch: pytest.MonkeyPatch,
    quick: Settings,
) -> None:
    with receiving(Receiver(failures=2)) as receiver:
        endpoint_for(monkeypatch, "childrens_social_care", receiver.url)
        child = factories.make_child(session, given_name="Jon")
        shared = share(client, headers, child, "identity")
        correct_name(client, headers, child, "John")
        assert notice(session, child).status == "pending"
        assert rounds(connection, quick, 1) == 0
        assert notice(session, child).status == "failed"
        assert rounds(connection, quick, 3) == 1
    found = notice(session, child)
    assert found.status == "delivered"
    assert found.attempts == 3
    assert [a.http_status for a in attempts(session, found)] == [503, 503, 200]
    assert receiver.answered == [503, 503, 200]
    _, body = receiver.received[-1]
    sent = orjson.loads(body)
    assert sent["disclosure_id"] == shared["disclosure_id"]
    assert sent["subject_id"] == str(child.id)
    assert sent["event"] == "rectification"
    assert sent["corrected"]["identity"]["given_name"] == "John"
    # Nothing beyond what DOMAIN.md names: opaque ids, the event, the corrected values.
    assert set(sent) == {
        "notification_id",
        "disclosure_id",
        "subject_id",
        "recipient",
        "event",
        "categories",
        "occurred_at",
        "sent_at",
        "corrected",
    }


def test_each_notification_is_signed_so_the_receiver_can_check_it(
    client: TestClient,
    session: Session,
    connection: Connection,
    headers: Headers,
    monkeypatch: pytest.MonkeyPatch,
    quick: Settings,
) -> None:
    with receiving(Receiver()) as receiver:
        endpoint_for(monkeypatch, "childrens_social_care", receiver.url)
        child = factories.make_child(session)
        share(client, headers, child, "identity")
        correct_name(client, headers, child, "Johnny")
        assert rounds(connection, quick, 1) == 1
    sent_headers, body = receiver.received[0]
    signature = sent_headers[delivery.SIGNATURE_HEADER]
    fields = dict(part.split("=", 1) for part in signature.split(","))
    expected = hmac.new(
        SECRET.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)


def test_a_receiver_that_is_down_gets_the_notification_once_it_is_up(
    client: TestClient,
    session: Session,
    connection: Connection,
    headers: Headers,
    monkeypatch: pytest.MonkeyPatch,
    quick: Settings,
) -> None:
    with receiving(Receiver()) as receiver:
        url = receiver.url
    # The port is closed now: nothing listens there.
    endpoint_for(monkeypatch, "childrens_social_care", url)
    child = factories.make_child(session)
    share(client, headers, child, "identity")
    correct_name(client, headers, child, "Johnny")
    assert rounds(connection, quick, 2) == 0
    down = notice(session, child)
    assert down.status == "failed"
    assert down.last_error is not None
    assert "connect" in down.last_error
    with receiving(Receiver()) as up:
        endpoint_for(monkeypatch, "childrens_social_care", up.url)
        assert rounds(connection, quick, 1) == 1
    assert notice(session, child).status == "delivered"
    assert len(up.received) == 1


def test_a_failed_attempt_waits_longer_each_time(
    client: TestClient,
    session: Session,
    connection: Connection,
    headers: Headers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = get_settings().model_copy(update={"notify_backoff_base_seconds": 30.0})
    with receiving(Receiver(failures=5)) as receiver:
        endpoint_for(monkeypatch, "childrens_social_care", receiver.url)
        child = factories.make_child(session)
        share(client, headers, child, "identity")
        correct_name(client, headers, child, "Johnny")
        assert rounds(connection, settings, 3) == 0
    found = notice(session, child)
    # Only the first round found it due: the next is 30 s after the failure.
    assert found.attempts == 1
    (attempt,) = attempts(session, found)
    assert found.next_attempt_at is not None
    waited = found.next_attempt_at - attempt.attempted_at
    assert 29 <= waited.total_seconds() <= 31


def test_a_claimed_notification_waits_for_its_lease_to_run_out_before_another_worker_takes_it(
    client: TestClient,
    session: Session,
    connection: Connection,
    headers: Headers,
    quick: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint_for(monkeypatch, "childrens_social_care", "http://127.0.0.1:9/art19")
    for _ in range(3):
        child = factories.make_child(session)
        share(client, headers, child, "identity")
        correct_name(client, headers, child, "Johnny")
    policy = delivery.Policy.of(quick)
    now = utcnow()
    with Session(connection, join_transaction_mode="create_savepoint") as worker:
        first = delivery._claim(worker, now, policy)
        # A second worker at the same moment finds every lease taken.
        second = delivery._claim(worker, now, policy)
        # A worker that died holding them: once its leases run out, another takes over.
        later = delivery._claim(worker, now + timedelta(seconds=policy.lease + 1), policy)
    assert len(first) == 3
    assert second == []
    assert sorted(i for i, _ in later) == sorted(i for i, _ in first)


def test_an_erasure_is_delivered_with_opaque_ids_only(
    client: TestClient,
    session: Session,
    connection: Connection,
    headers: Headers,
    monkeypatch: pytest.MonkeyPatch,
    quick: Settings,
) -> None:
    with receiving(Receiver()) as receiver:
        endpoint_for(monkeypatch, "childrens_social_care", receiver.url)
        child = factories.make_child(session, given_name="Jon")
        shared = share(client, headers, child, "identity")
        case = open_case(client, headers, child.id, type="erasure")
        assert decide(client, headers, case["id"], reason="Erased as asked").status_code == 200
        assert rounds(connection, quick, 1) == 1
    (_, body) = receiver.received[0]
    sent = orjson.loads(body)
    assert sent["event"] == "erasure"
    assert sent["disclosure_id"] == shared["disclosure_id"]
    assert "corrected" not in sent
    assert b"Jon" not in body


def test_a_closed_notification_is_not_delivered(
    client: TestClient,
    session: Session,
    connection: Connection,
    headers: Headers,
    monkeypatch: pytest.MonkeyPatch,
    quick: Settings,
) -> None:
    with receiving(Receiver()) as receiver:
        endpoint_for(monkeypatch, "childrens_social_care", receiver.url)
        child = factories.make_child(session)
        share(client, headers, child, "identity")
        correct_name(client, headers, child, "Johnny")
        found = notice(session, child)
        closed = client.post(
            f"/v1/notifications/{found.id}/close",
            json={"reason": "The recipient told us by phone it has no copy left"},
            headers=headers(*OFFICER),
        )
        assert closed.status_code == 200, closed.text
        assert rounds(connection, quick, 2) == 0
    assert receiver.received == []
