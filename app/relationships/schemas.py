"""Family relationships, in and outside the household (category `household`)."""

from uuid import UUID

from pydantic import BaseModel, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from app.people.schemas import RelationshipKind, RelationshipRead, Strict
from app.platform.categories import tagged
from app.policy.vocabulary import Category

HOUSEHOLD = Category.HOUSEHOLD

# The household read shows relationships too: the read model lives with the household's.
__all__ = ["RelationshipCreate", "RelationshipKind", "RelationshipPage", "RelationshipRead"]


class RelationshipCreate(Strict):
    """A relationship of this person: to someone on the record (`to_person_id`) or to
    someone who is not (`to_name`): exactly one of the two."""

    kind: RelationshipKind = tagged(HOUSEHOLD)
    to_person_id: UUID | None = tagged(
        HOUSEHOLD,
        default=None,
        description="A person on the record (not this person); decided like this person.",
    )
    to_name: str | None = tagged(
        HOUSEHOLD,
        default=None,
        min_length=1,
        max_length=200,
        description="The name of someone not on the record (stored encrypted).",
        examples=["Grace Mensah"],
    )
    in_household: bool = tagged(HOUSEHOLD, description="Whether they live in this household.")
    has_parental_responsibility: bool | None = tagged(
        HOUSEHOLD, default=None, description="Whether the other person has parental responsibility."
    )

    @model_validator(mode="after")
    def _exactly_one_other(self) -> "RelationshipCreate":
        if (self.to_person_id is None) == (self.to_name is None):
            # Named as a field, as every 422 is (a model's own error would name none).
            error = PydanticCustomError(
                "exactly_one", "give exactly one of to_person_id and to_name"
            )
            raise ValidationError.from_exception_data(
                type(self).__name__, [InitErrorDetails(type=error, loc=("to_name",), input=None)]
            )
        return self


class RelationshipPage(BaseModel):
    """The relationships recorded from this person (one recorded from the other person
    is listed under theirs), in the order recorded."""

    items: list[RelationshipRead] = tagged(HOUSEHOLD)
    next_cursor: str | None = tagged(
        HOUSEHOLD, default=None, description="Pass as `cursor` for the next page."
    )
