"""Art 19 notifications as the officer and the subject see them: opaque ids, the event,
the recipient and how delivery went; never the corrected values themselves."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from app.notifications.models import NotificationEvent, NotificationStatus
from app.people.schemas import Strict
from app.platform.categories import tagged
from app.policy.vocabulary import Category, SubjectKind

SERVICES = Category.SERVICES
ID = Category.IDENTITY


class AttemptRead(BaseModel):
    attempted_at: datetime = tagged(SERVICES)
    http_status: int | None = tagged(
        SERVICES, description="What the endpoint answered; null when it did not answer."
    )
    error: str | None = tagged(
        SERVICES, description="Why the attempt failed; null when it was delivered."
    )
    duration_ms: int = tagged(SERVICES)


class NotificationRead(BaseModel):
    """One recipient told (or to be told) of one change to data it received."""

    id: UUID = tagged(SERVICES)
    disclosure_id: UUID = tagged(
        SERVICES, description="The disclosure the recipient received, which the notice names."
    )
    subject_id: UUID = tagged(ID, description="The subject, by opaque id.")
    subject_kind: SubjectKind = tagged(ID)
    recipient: str = tagged(SERVICES, description="The recipient's code (GET /v1/recipients).")
    event: NotificationEvent = tagged(SERVICES)
    categories: list[Category] = tagged(
        SERVICES,
        description="The categories the change touched among those the recipient received; "
        "a rectification's notice carries their corrected values (never shown here).",
    )
    cause_id: UUID = tagged(
        SERVICES, description="The decision (audit event) of the change the notice is about."
    )
    status: NotificationStatus = tagged(
        SERVICES,
        description="`pending`: due; `failed`: the last attempt failed, retried with "
        "backoff; `delivered`; `manual`: the recipient has no endpoint, the officer sends it "
        "by hand; `closed`: closed by the officer (`closed_reason` says why) or superseded "
        "when the subject's record went.",
    )
    attempts: int = tagged(SERVICES)
    last_error: str | None = tagged(SERVICES)
    next_attempt_at: datetime | None = tagged(SERVICES)
    created_at: datetime = tagged(SERVICES)
    delivered_at: datetime | None = tagged(SERVICES)
    closed_at: datetime | None = tagged(SERVICES)
    closed_reason: str | None = tagged(SERVICES)
    history: list[AttemptRead] = tagged(
        SERVICES, description="Every delivery attempt, oldest first."
    )


class NotificationPage(BaseModel):
    items: list[NotificationRead] = tagged(SERVICES)
    next_cursor: str | None = tagged(
        SERVICES,
        default=None,
        description="Pass as `cursor` for the next page; null on the last page.",
    )


class PersonNotifications(BaseModel):
    """Which recipients were told of a rectification, erasure or restriction of the
    person's data (Art 19, second sentence)."""

    subject_id: UUID = tagged(ID)
    items: list[NotificationRead] = tagged(SERVICES)


class CloseBody(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=2000)] = tagged(
        SERVICES,
        description="Why: sent by hand (and how), or why telling the recipient proved "
        "impossible or would involve disproportionate effort (Art 19). Say why, not who.",
    )
