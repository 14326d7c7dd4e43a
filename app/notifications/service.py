"""Art 19: every recipient that received data later rectified, erased or restricted is
told, unless that proves impossible or disproportionate (the officer records why).

A notification is written in the transaction of the change itself, so a change is never
made without its notifications: if one cannot be written, the change fails with it
(`NotificationsNotRecorded`, 503) and nothing is changed. It names the disclosure the
recipient received and the subject's opaque id, what happened and, for a
rectification, the corrected values of the categories that recipient received, nothing
else (DOMAIN.md, "Notifying recipients"). Delivery is `app.notifications.delivery`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from uuid import UUID, uuid4

import orjson
from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.notifications.models import (
    OPEN_STATUSES,
    Notification,
    NotificationAttempt,
    NotificationEvent,
    NotificationStatus,
)
from app.people.service import PersonView, cipher_for_family
from app.platform.categories import field_categories
from app.platform.crypto import KeyRing, field_aad
from app.platform.db import utcnow
from app.platform.problems import Conflict, Problem, database_unavailable
from app.policy.vocabulary import Category
from app.reference import catalogue
from app.sharing.models import Disclosure

TABLE: Final = "notification"
SUPERSEDED: Final = (
    "Superseded: the subject's record went before delivery; nothing about the subject is "
    "kept but opaque ids."
)


class NotificationsNotRecorded(Problem):
    """The change's notifications could not be written, so the change was not made."""

    status = 503
    code = "notifications_not_recorded"
    title = "Recipients could not be recorded as to be told: nothing was changed"

    def __init__(self) -> None:
        super().__init__(
            "Art 19: the change would have to be notified to recipients of this data and the "
            "notifications could not be written; the change was not made. Try again.",
            headers={"Retry-After": "5"},
        )


def _received(disclosure: Disclosure) -> frozenset[Category]:
    return frozenset(Category(c) for c in disclosure.categories.split(",") if c)


def _disclosures(session: Session, subject_id: UUID) -> list[Disclosure]:
    return list(
        session.scalars(
            select(Disclosure)
            .where(Disclosure.subject_id == subject_id)
            .order_by(Disclosure.disclosed_at, Disclosure.id)
        )
    )


def changed_categories(
    model: type[BaseModel], before: Mapping[str, Any], after: Mapping[str, Any]
) -> frozenset[Category]:
    """The categories of the fields whose values differ, compared as `model` gives them."""
    old = model.model_validate(dict(before)).model_dump(mode="json")
    new = model.model_validate(dict(after)).model_dump(mode="json")
    fields = field_categories(model)
    return frozenset(fields[name] for name in fields if old.get(name) != new.get(name))


def corrected_values(
    model: type[BaseModel], values: Mapping[str, Any]
) -> dict[Category, dict[str, Any]]:
    """A record's values as JSON, grouped by the category of each field."""
    dumped = model.model_validate(dict(values)).model_dump(mode="json")
    out: dict[Category, dict[str, Any]] = {}
    for name, category in field_categories(model).items():
        if name in dumped:
            out.setdefault(category, {})[name] = dumped[name]
    return out


@dataclass(frozen=True, slots=True)
class Change:
    """A change about one subject that recipients of its data may need to be told of."""

    event: NotificationEvent
    subject: PersonView
    cause_id: UUID
    """The decision (audit event) of the change."""
    categories: frozenset[Category]
    """What the change touched; a restriction or a whole erasure touches everything."""
    corrected: Mapping[Category, Mapping[str, Any]] | None = None
    """A rectification's corrected values, by category."""


def disclosed(session: Session, subject_id: UUID) -> bool:
    """Whether anything about the subject ever left the service (a recorded disclosure)."""
    found = session.execute(
        select(Disclosure.id).where(Disclosure.subject_id == subject_id).limit(1)
    ).first()
    return found is not None


def rectified(
    session: Session,
    keys: KeyRing,
    subject: PersonView,
    model: type[BaseModel],
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    cause_id: UUID,
) -> list[Notification]:
    """Art 16 then Art 19: the recipients of a category whose values the change corrected
    are told the corrected values of that category."""
    changed = changed_categories(model, before, after)
    if not changed:
        return []
    change = Change(
        NotificationEvent.RECTIFICATION,
        subject,
        cause_id,
        changed,
        corrected=corrected_values(model, after),
    )
    return record(session, keys, change)


def record(session: Session, keys: KeyRing, change: Change) -> list[Notification]:
    """One notification per disclosure of a category the change touched, in the change's
    transaction; raises `NotificationsNotRecorded` when they cannot be written."""
    try:
        return _record(session, keys, change)
    except SQLAlchemyError as exc:
        if database_unavailable(exc):
            raise
        raise NotificationsNotRecorded() from None


def _record(session: Session, keys: KeyRing, change: Change) -> list[Notification]:
    subject = change.subject
    made: list[Notification] = []
    now = utcnow()
    cipher = None
    for disclosure in _disclosures(session, subject.id):
        touched = _received(disclosure) & change.categories
        if not touched:
            continue
        recipient = catalogue.recipients().get(disclosure.recipient)
        electronic = recipient is not None and catalogue.notification_url(recipient) is not None
        notification = Notification(
            id=uuid4(),
            disclosure_id=disclosure.id,
            subject_id=subject.id,
            subject_kind=subject.kind.value,
            recipient=disclosure.recipient,
            event=change.event.value,
            cause_id=change.cause_id,
            categories=",".join(c.value for c in Category if c in touched),
            family_id=None,
            payload=None,
            status=(NotificationStatus.PENDING if electronic else NotificationStatus.MANUAL).value,
            attempts=0,
            next_attempt_at=now if electronic else None,
            created_at=now,
        )
        if change.corrected is not None:
            corrected = {c.value: dict(change.corrected[c]) for c in Category if c in touched}
            if cipher is None:
                cipher = cipher_for_family(session, subject.row.family_id, keys)
            notification.family_id = subject.row.family_id
            notification.payload = cipher.encrypt(
                orjson.dumps(corrected).decode(),
                aad=field_aad(TABLE, "payload", notification.id),
            )
        session.add(notification)
        made.append(notification)
    if made:
        session.flush()
    return made


def forget_subjects(connection: Connection, subject_ids: Sequence[UUID]) -> None:
    """The subjects' records are gone (erased or destroyed): see `forget_where`."""
    if subject_ids:
        forget_where(connection, Notification.subject_id.in_(list(subject_ids)))


def forget_where(connection: Connection, about: ColumnElement[bool]) -> None:
    """The notifications `about` gone subjects keep nothing but opaque ids, and one still
    carrying corrected values is superseded (it could no longer say them)."""
    connection.execute(
        update(Notification)
        .where(about, Notification.payload.is_not(None), Notification.status.in_(OPEN_STATUSES))
        .values(
            status=NotificationStatus.CLOSED.value,
            closed_at=utcnow(),
            closed_reason=SUPERSEDED,
            next_attempt_at=None,
        )
    )
    connection.execute(
        update(Notification)
        .where(about, Notification.family_id.is_not(None))
        .values(payload=None, family_id=None)
    )


def corrected_of(session: Session, notification: Notification, keys: KeyRing) -> Any:
    """A rectification's corrected values, decrypted; None for the other events."""
    if notification.payload is None or notification.family_id is None:
        return None
    cipher = cipher_for_family(session, notification.family_id, keys)
    plain = cipher.decrypt(notification.payload, aad=field_aad(TABLE, "payload", notification.id))
    return orjson.loads(plain)


def message(notification: Notification, corrected: Any, sent_at: datetime) -> dict[str, Any]:
    """What the recipient receives: opaque ids, the event, and for a rectification the
    corrected values of the categories it received."""
    body: dict[str, Any] = {
        "notification_id": str(notification.id),
        "disclosure_id": str(notification.disclosure_id),
        "subject_id": str(notification.subject_id),
        "recipient": notification.recipient,
        "event": notification.event,
        "categories": [c for c in notification.categories.split(",") if c],
        "occurred_at": notification.created_at.isoformat(),
        "sent_at": sent_at.isoformat(),
    }
    if notification.event == NotificationEvent.RECTIFICATION.value:
        body["corrected"] = corrected
    return body


def get(session: Session, notification_id: UUID) -> Notification | None:
    return session.get(Notification, notification_id)


def close(session: Session, notification: Notification, reason: str, actor: str) -> None:
    """The officer closes it: sent by hand, or impossible or disproportionate (why)."""
    if notification.status not in OPEN_STATUSES:
        raise Conflict(f"The notification is {notification.status}: nothing to close.")
    notification.status = NotificationStatus.CLOSED.value
    notification.closed_at = utcnow()
    notification.closed_reason = reason
    notification.closed_by = actor
    notification.next_attempt_at = None
    notification.lease_token = None
    notification.lease_until = None
    session.flush()


def for_subject(session: Session, subject_id: UUID) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.subject_id == subject_id)
            .order_by(Notification.created_at, Notification.id)
        )
    )


def attempts(session: Session, ids: Sequence[UUID]) -> dict[UUID, list[NotificationAttempt]]:
    out: dict[UUID, list[NotificationAttempt]] = {i: [] for i in ids}
    if not ids:
        return out
    for attempt in session.scalars(
        select(NotificationAttempt)
        .where(NotificationAttempt.notification_id.in_(list(ids)))
        .order_by(NotificationAttempt.id)
    ):
        out[attempt.notification_id].append(attempt)
    return out


def counts(connection: Connection) -> dict[str, int]:
    """Open notifications by status, for the metrics."""
    found = dict.fromkeys((s.value for s in OPEN_STATUSES), 0)
    for status, count in connection.execute(
        select(Notification.status, func.count())
        .where(Notification.status.in_(OPEN_STATUSES))
        .group_by(Notification.status)
    ):
        found[str(status)] = int(count)
    return found
