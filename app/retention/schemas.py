"""Legal holds, what falls due, and the sweep's report: opaque ids and dates only."""

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field

from app.people.schemas import Strict
from app.platform.categories import tagged
from app.policy.vocabulary import Category, SubjectKind

SERVICES = Category.SERVICES
ID = Category.IDENTITY


class LegalHoldCreate(Strict):
    subject_id: UUID = tagged(ID, description="A person, or a household (its id).")
    reason: str = tagged(
        SERVICES,
        min_length=1,
        max_length=4000,
        description="The claim the record may be needed for.",
    )


class LegalHoldRead(BaseModel):
    """Destruction paused for the subject. A hold on a child keeps its household's adults
    too; a hold on a household keeps every member."""

    id: UUID = tagged(SERVICES)
    subject_id: UUID = tagged(ID)
    subject_kind: SubjectKind = tagged(ID)
    reason: str = tagged(SERVICES)
    placed_by: str = tagged(SERVICES)
    placed_at: datetime = tagged(SERVICES)
    released_by: str | None = tagged(SERVICES, default=None)
    released_at: datetime | None = tagged(SERVICES, default=None)
    active: bool = tagged(SERVICES)


class LegalHoldPage(BaseModel):
    """Legal holds, newest first."""

    items: list[LegalHoldRead] = tagged(SERVICES)
    next_cursor: str | None = tagged(
        SERVICES, default=None, description="Pass as `cursor` for the next page; null on the last."
    )


class DueRead(BaseModel):
    subject_id: UUID = tagged(ID)
    subject_kind: SubjectKind = tagged(ID)
    destroy_on: date = tagged(SERVICES)
    rule: str = tagged(
        SERVICES,
        description="fifth_birthday, 25th_birthday_family_worker, household_last_child or "
        "household_without_child.",
    )
    held: bool = tagged(
        SERVICES,
        description="Kept past its date: a legal hold on it, its household or (for an "
        "adult) a child of the household, or an open subject request about it.",
    )


class DuePage(BaseModel):
    items: list[DueRead] = tagged(SERVICES)
    next_cursor: str | None = tagged(
        SERVICES, default=None, description="Pass as `cursor` for the next page."
    )


class SweepRead(BaseModel):
    """Counts only: the destruction log names what went, by opaque id."""

    on: date = Field(description="The day the sweep applied the retention rules for.")
    dry_run: bool
    households_examined: int
    destroyed: dict[str, int] = Field(
        description="Subjects destroyed (in a dry run: that would be), by kind: child, "
        "carer, household_member, family."
    )
    kept: int = Field(description="Households of which something due was kept by a hold.")
    failed_batches: int = Field(
        description="Batches rolled back; their households are still due: run again."
    )
    failed_households: int
