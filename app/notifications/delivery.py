"""Delivering Art 19 notifications: each instance runs a worker, safe when several run.

A worker claims a due notification by writing a lease on it (a conditional `UPDATE`
that only one instance can win; on PostgreSQL the candidates are read `FOR UPDATE SKIP
LOCKED`), commits, and posts it outside any transaction. The attempt is then recorded,
and the notification marked delivered or due again after a backoff, only while the lease
is still its own. A worker that dies mid-delivery leaves a lease that runs out, and
another instance takes the notification over: a recipient may receive one twice (the
`notification_id` lets it ignore the second), never none.

Each body is signed: `IEYS-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>" under the recipient's secret>`, so the receiver can check it came from the
service and refuse an old one replayed.
"""

import hashlib
import hmac
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from uuid import UUID, uuid4

import httpx
import orjson
from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from app.notifications import service
from app.notifications.models import Notification, NotificationAttempt, NotificationStatus
from app.platform.crypto import KeyRing
from app.platform.db import utcnow
from app.platform.problems import database_unavailable
from app.platform.settings import Settings
from app.reference import catalogue

log = logging.getLogger(__name__)

SIGNATURE_HEADER: Final = "IEYS-Signature"
BATCH: Final = 20


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `IEYS-Signature` header's value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


@dataclass(frozen=True, slots=True)
class Policy:
    timeout: float
    backoff_base: float
    backoff_max: float
    lease: float

    @classmethod
    def of(cls, settings: Settings) -> "Policy":
        timeout = settings.notify_timeout_seconds
        return cls(
            timeout=timeout,
            backoff_base=settings.notify_backoff_base_seconds,
            backoff_max=settings.notify_backoff_max_seconds,
            lease=max(60.0, 4 * timeout),
        )

    def backoff(self, attempts: int) -> timedelta:
        """Doubling from the base after each failed attempt, capped: retried until it
        succeeds or the officer closes it (DOMAIN.md)."""
        return timedelta(seconds=min(self.backoff_max, self.backoff_base * 2 ** (attempts - 1)))


def _claim(session: Session, now: datetime, policy: Policy) -> list[tuple[UUID, UUID]]:
    due = (
        select(Notification.id)
        .where(
            Notification.status.in_(
                (NotificationStatus.PENDING.value, NotificationStatus.FAILED.value)
            ),
            Notification.next_attempt_at <= now,
            or_(Notification.lease_until.is_(None), Notification.lease_until < now),
        )
        .order_by(Notification.next_attempt_at)
        .limit(BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed: list[tuple[UUID, UUID]] = []
    for notification_id in session.scalars(due).all():
        token = uuid4()
        won = session.execute(
            update(Notification)
            .where(
                Notification.id == notification_id,
                or_(Notification.lease_until.is_(None), Notification.lease_until < now),
            )
            .values(lease_token=token, lease_until=now + timedelta(seconds=policy.lease))
            .execution_options(synchronize_session=False)
        )
        if won.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append((notification_id, token))
    session.commit()
    return claimed


@dataclass(frozen=True, slots=True)
class Outcome:
    http_status: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.error is None


def _post(client: httpx.Client, url: str, secret: str | None, body: bytes) -> Outcome:
    if secret is None:
        return Outcome(None, "no signing secret configured for the recipient")
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(secret, int(time.time()), body),
    }
    try:
        response = client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        return Outcome(None, "timed out")
    except httpx.HTTPError as exc:
        return Outcome(None, f"could not connect ({type(exc).__name__})")
    if 200 <= response.status_code < 300:
        return Outcome(response.status_code, None)
    return Outcome(response.status_code, f"answered HTTP {response.status_code}")


def _deliver_one(
    session: Session,
    client: httpx.Client,
    keys: KeyRing,
    policy: Policy,
    notification_id: UUID,
    token: UUID,
) -> bool:
    notification = session.get(Notification, notification_id)
    if notification is None or notification.lease_token != token:
        return False
    recipient = catalogue.recipients().get(notification.recipient)
    started = utcnow()
    url = catalogue.notification_url(recipient) if recipient is not None else None
    if recipient is None or url is None:
        outcome = Outcome(None, "the recipient takes no notification electronically")
    else:
        corrected = service.corrected_of(session, notification, keys)
        body = orjson.dumps(service.message(notification, corrected, started))
        secret = os.environ.get(recipient.signing_secret_ref or "") or None
        outcome = _post(client, url, secret, body)
    finished = utcnow()
    # Only while the lease is still this worker's: an officer may have closed it.
    session.refresh(notification)
    if notification.lease_token != token:
        session.rollback()
        return False
    session.add(
        NotificationAttempt(
            notification_id=notification.id,
            attempted_at=started,
            http_status=outcome.http_status,
            error=outcome.error,
            duration_ms=int((finished - started).total_seconds() * 1000),
        )
    )
    notification.attempts += 1
    notification.lease_token = None
    notification.lease_until = None
    if outcome.delivered:
        notification.status = NotificationStatus.DELIVERED.value
        notification.delivered_at = finished
        notification.next_attempt_at = None
        notification.last_error = None
    else:
        notification.status = NotificationStatus.FAILED.value
        notification.last_error = outcome.error
        notification.next_attempt_at = finished + policy.backoff(notification.attempts)
    session.commit()
    return outcome.delivered


def deliver_due(
    bind: Engine | Connection,
    keys: KeyRing,
    settings: Settings,
    *,
    client: httpx.Client | None = None,
) -> int:
    """One round: claim what is due, post it, record each attempt. Returns how many
    were delivered. `bind` is the engine, or a connection whose transaction the round
    joins (by savepoints)."""
    policy = Policy.of(settings)
    own = client is None
    http = client or httpx.Client(timeout=policy.timeout)
    delivered = 0
    try:
        with Session(
            bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
        ) as session:
            for notification_id, token in _claim(session, utcnow(), policy):
                try:
                    delivered += _deliver_one(session, http, keys, policy, notification_id, token)
                except Exception:
                    session.rollback()
                    # Its lease runs out and a later round tries again.
                    log.exception("a notification's delivery could not be recorded")
    finally:
        if own:
            http.close()
    return delivered


class Deliverer:
    """The background worker of one instance: a round every `interval` seconds."""

    def __init__(self, engine: Engine, keys: KeyRing, settings: Settings) -> None:
        self._engine = engine
        self._keys = keys
        self._settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notification-delivery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._settings.notify_timeout_seconds + 5)

    def _run(self) -> None:
        policy = Policy.of(self._settings)
        with httpx.Client(timeout=policy.timeout) as client:
            while not self._stop.wait(self._settings.notify_interval_seconds):
                try:
                    deliver_due(self._engine, self._keys, self._settings, client=client)
                except Exception as exc:
                    # The thread never dies: the next round, on a fresh connection, retries.
                    if database_unavailable(exc):
                        log.warning("notification delivery: the database does not answer")
                    else:
                        log.exception("notification delivery round failed; the next retries")
