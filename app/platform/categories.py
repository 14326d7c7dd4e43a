"""A data category on every field, shown in OpenAPI and read by the response filter.

Docs and enforcement read the same annotation, so they cannot drift.
"""

from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from app.policy.vocabulary import Category

CATEGORY_KEY = "x-category"
M = TypeVar("M", bound=BaseModel)


def tagged(category: Category, **field_kwargs: Any) -> Any:
    """`Field(...)` carrying the field's data category as `x-category`."""
    extra = dict(field_kwargs.pop("json_schema_extra", None) or {})
    extra[CATEGORY_KEY] = category.value
    return Field(json_schema_extra=extra, **field_kwargs)


def field_category(model: type[BaseModel], name: str) -> Category | None:
    extra = model.model_fields[name].json_schema_extra
    if isinstance(extra, dict) and CATEGORY_KEY in extra:
        return Category(str(extra[CATEGORY_KEY]))
    return None


@cache
def field_categories(model: type[BaseModel]) -> dict[str, Category]:
    """Every field's category; a field without one is a programming error."""
    out: dict[str, Category] = {}
    for name in model.model_fields:
        category = field_category(model, name)
        if category is None:
            raise TypeError(f"{model.__name__}.{name} carries no data category")
        out[name] = category
    return out


@cache
def categories_of(model: type[BaseModel]) -> frozenset[Category]:
    return frozenset(field_categories(model).values())


def only(model: type[M], values: dict[str, Any], allowed: frozenset[Category]) -> M:
    """Build `model` from the fields whose category the decision allowed; the rest stay unset."""
    fields = field_categories(model)
    return model.model_validate(
        {name: value for name, value in values.items() if fields.get(name) in allowed}
    )
