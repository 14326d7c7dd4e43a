"""A child's education record: attendance, exclusions, behaviour, attainment (category
`education`, stored encrypted)."""

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from app.people.schemas import Strict
from app.platform.categories import tagged
from app.policy.vocabulary import Category

EDUCATION = Category.EDUCATION
MAX_EXCLUSIONS = 50


class Behaviour(StrEnum):
    """How the setting describes the child's behaviour."""

    NO_CONCERNS = "no_concerns"
    SOME_CONCERNS = "some_concerns"
    SIGNIFICANT_CONCERNS = "significant_concerns"


class Attainment(StrEnum):
    """Progress against the Early Years Foundation Stage's expected level of development
    (the two-year progress check and the EYFS profile)."""

    EMERGING = "emerging"
    EXPECTED = "expected"
    EXCEEDING = "exceeding"


class Exclusion(Strict):
    """A suspension or exclusion from the setting: from a day, to a day (none yet for a
    permanent one or one still running)."""

    # `from` is a Python keyword: the field is `from_`, read and written as `from`
    # everywhere (the stored access package too).
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, serialize_by_alias=True)

    from_: date = tagged(EDUCATION, alias="from", description="The first day excluded.")
    to: date | None = tagged(
        EDUCATION, default=None, description="The last day excluded; not before `from`."
    )
    reason: str = tagged(
        EDUCATION, min_length=1, max_length=500, examples=["Persistent disruptive behaviour"]
    )

    @field_validator("to")
    @classmethod
    def _not_before_from(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("from_")
        if value is not None and start is not None and value < start:
            raise ValueError("must not be before from")
        return value


Percent = Annotated[float, Field(ge=0, le=100)]


class Education(Strict):
    """A child's education record. Recorded only for a child with a unique pupil number
    or a nursery place; every field is stored encrypted under the household's key."""

    attendance_percent: Percent | None = tagged(
        EDUCATION,
        default=None,
        description="Attendance over the current term, 0 to 100.",
        examples=[92.5],
    )
    exclusions: list[Exclusion] | None = tagged(EDUCATION, default=None, max_length=MAX_EXCLUSIONS)
    behaviour: Behaviour | None = tagged(EDUCATION, default=None)
    attainment: Attainment | None = tagged(EDUCATION, default=None)
