"""/v1/notifications: the officer's view of Art 19 notifications, and a person's.

Officer only, under `subject_rights` (API.md). Each is decided and audited about the
notification's subject (the list, about no one subject), so the subject's access log
shows that their notifications were handled.
"""

from typing import Annotated, Final

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.decisions.access import Access, From, declare
from app.notifications import schemas
from app.notifications import service as notifications_service
from app.notifications.models import Notification, NotificationEvent, NotificationStatus
from app.platform.categories import categories_of
from app.platform.db import SessionDep, as_utc
from app.platform.pagination import keyset_page
from app.policy.vocabulary import Action, Category, SubjectKind

router = APIRouter(tags=["notifications"])

CATEGORIES: Final = categories_of(schemas.NotificationRead)
RESOURCE: Final = "notification"

ListNotifications = Annotated[
    Access, declare("list_notifications", Action.LIST, CATEGORIES, RESOURCE)
]
CloseNotification = Annotated[
    Access,
    declare(
        "close_notification",
        Action.WRITE,
        CATEGORIES,
        RESOURCE,
        subject=From.NOTIFICATION,
        body=schemas.CloseBody,
    ),
]
PersonNotifications = Annotated[
    Access,
    declare("person_notifications", Action.READ, CATEGORIES, RESOURCE, subject=From.PERSON),
]


def _read(notifications: list[Notification], session: Session) -> list[schemas.NotificationRead]:
    history = notifications_service.attempts(session, [n.id for n in notifications])
    return [
        schemas.NotificationRead(
            id=n.id,
            disclosure_id=n.disclosure_id,
            subject_id=n.subject_id,
            subject_kind=SubjectKind(n.subject_kind),
            recipient=n.recipient,
            event=NotificationEvent(n.event),
            categories=[Category(c) for c in n.categories.split(",") if c],
            cause_id=n.cause_id,
            status=NotificationStatus(n.status),
            attempts=n.attempts,
            last_error=n.last_error,
            next_attempt_at=n.next_attempt_at and as_utc(n.next_attempt_at),
            created_at=as_utc(n.created_at),
            delivered_at=n.delivered_at and as_utc(n.delivered_at),
            closed_at=n.closed_at and as_utc(n.closed_at),
            closed_reason=n.closed_reason,
            history=[
                schemas.AttemptRead(
                    attempted_at=as_utc(a.attempted_at),
                    http_status=a.http_status,
                    error=a.error,
                    duration_ms=a.duration_ms,
                )
                for a in history[n.id]
            ],
        )
        for n in notifications
    ]


@router.get(
    "/notifications",
    summary="Art 19 notifications to recipients, newest first (officer)",
    description="Every notification of a rectification, erasure or restriction to a "
    "recipient that received the data, filterable by `status`: `pending`, `failed` "
    "(retried with backoff until delivered or closed), `delivered`, `manual` (the "
    "recipient has no endpoint: send it by hand, then close it saying so), `closed`.",
)
def list_notifications(
    _granted: ListNotifications,
    session: SessionDep,
    status: NotificationStatus | None = None,
    recipient: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> schemas.NotificationPage:
    query = select(Notification)
    if status is not None:
        query = query.where(Notification.status == status.value)
    if recipient is not None:
        query = query.where(Notification.recipient == recipient)
    found = keyset_page(
        session,
        query,
        (Notification.created_at, Notification.id),
        limit=limit,
        cursor=cursor,
        descending=True,
    )
    return schemas.NotificationPage(
        items=_read(found.items, session), next_cursor=found.next_cursor
    )


@router.post(
    "/notifications/{notification_id}/close",
    summary="Close a notification: sent by hand, or impossible or disproportionate",
    description="Art 19: a recipient is told unless that proves impossible or involves "
    "disproportionate effort; the officer records why. A notification already delivered "
    "or closed is 409. Delivery stops at once.",
    responses={409: {"description": "Already delivered or closed"}},
)
def close_notification(
    body: schemas.CloseBody, granted: CloseNotification, session: SessionDep
) -> schemas.NotificationRead:
    notification = granted.notification
    assert notification is not None
    notifications_service.close(session, notification, body.reason, granted.caller.sub)
    return _read([notification], session)[0]


@router.get(
    "/people/{person_id}/notifications",
    summary="Which recipients were told of a rectification, erasure or restriction",
    tags=["people"],
)
def person_notifications(
    granted: PersonNotifications, session: SessionDep
) -> schemas.PersonNotifications:
    person = granted.the_person()
    return schemas.PersonNotifications(
        subject_id=person.id,
        items=_read(notifications_service.for_subject(session, person.id), session),
    )
