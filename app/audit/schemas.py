from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field


class VerifyReport(BaseModel):
    ok: bool = Field(description="False when any event was altered, removed or reordered.")
    events: int = Field(description="Events in the trail.")
    sealed: int = Field(description="Events in the hash chain, up to the head verified.")
    unsealed: int = Field(description="Events committed but not yet chained (a small tail).")
    head: str = Field(description="Hash of the last sealed event: record it to anchor the trail.")
    head_seq: int
    first_bad: dict[str, Any] | None = Field(
        default=None, description="Where verification failed: seq, event_id and the problem."
    )
    from_seq: int = Field(description="The first chain position this walk rehashed.")
    anchor: str = Field(
        description="The hash the walk started from: the genesis (64 zeros) for a whole "
        "walk, else the stored hash at `from_seq` - 1, to compare with a head recorded before."
    )
    checked: int = Field(description="Events rehashed by this walk.")


class AuditEventRead(BaseModel):
    """One decision. Subjects appear as opaque ids; the trail holds no names."""

    decision_id: UUID
    occurred_at: datetime
    actor_sub: str
    actor_role: str
    actor_org: str
    purpose: str
    action: str
    resource: str
    subject_id: UUID | None
    categories_asked: list[str]
    categories_granted: list[str]
    allowed: bool
    reason: str
    bases: list[str]
    justification: str | None
    review_required: bool
    outcome: str
    status: int | None


class AuditPage(BaseModel):
    items: list[AuditEventRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class AccessLogEntry(BaseModel):
    """Who read, changed or shared the person's data, when, why and on what basis."""

    decision_id: UUID
    occurred_at: datetime
    actor_role: str
    actor_org: str
    actor_sub: str
    purpose: str
    action: str
    resource: str
    allowed: bool
    reason: str
    bases: list[str]
    categories_granted: list[str]
    recipient: str | None = Field(
        default=None, description="For a share outside the service: who received the data."
    )


class AccessLog(BaseModel):
    subject_id: UUID
    items: list[AccessLogEntry]
