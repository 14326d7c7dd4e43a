"""Examples for the OpenAPI document's request bodies and successful answers, made from
the schemas themselves: a field's own `examples` first, else the example another schema
gives a field of the same name (a request's `given_name` names the answer's too), else
the first value of its enum, else a fixed value of its format. So an example never says
what the schemas do not, and changes with them (Redocly checks each against its schema).

Optional fields without an example of their own are left out of a request's example
(the smallest body that works); an answer's example shows every field it can carry.
Values are invented: 999-range NHS numbers, Camden postcodes, ids fixed per field name.
"""

from typing import Any, Final
from uuid import NAMESPACE_URL, uuid5

Schema = dict[str, Any]

FORMATS: Final[dict[str, str]] = {
    "date": "2026-01-15",
    "date-time": "2026-01-15T10:30:00Z",
    "email": "parent@example.org",
}
FALLBACK_TEXT: Final = "Text as the caller wrote it."
MAX_DEPTH: Final = 6


def _resolve(schema: Schema, components: dict[str, Schema]) -> Schema:
    ref = schema.get("$ref")
    return components[ref.rsplit("/", 1)[-1]] if ref else schema


def _branch(schema: Schema, components: dict[str, Schema]) -> Schema:
    """The schema, or its first branch that is not `null`."""
    schema = _resolve(schema, components)
    for branch in schema.get("anyOf", (schema,)):
        branch = _resolve(branch, components)
        if branch.get("type") != "null":
            return branch
    return schema


def _own(schema: Schema, components: dict[str, Schema]) -> Any:
    """The schema's own example (its first `examples`, or `example`), or None."""
    schema = _resolve(schema, components)
    for branch in (schema, *schema.get("anyOf", ())):
        branch = _resolve(branch, components)
        if branch.get("examples"):
            return branch["examples"][0]
        if "example" in branch:
            return branch["example"]
    return None


def by_name(components: dict[str, Schema]) -> dict[str, Any]:
    """Each field name's example, wherever some schema gives one."""
    found: dict[str, Any] = {}
    for schema in components.values():
        for name, field in schema.get("properties", {}).items():
            own = _own(field, components)
            if own is not None:
                found.setdefault(name, own)
    return found


class Maker:
    """Examples for one document: its components, and the examples known by field name."""

    def __init__(self, components: dict[str, Schema]) -> None:
        self.components = components
        self.names = by_name(components)

    def example(self, schema: Schema, *, request: bool, depth: int = 0) -> Any:
        """An example value of `schema` (None when none can be made without guessing)."""
        own = _own(schema, self.components)
        if own is not None:
            return own
        schema = _branch(schema, self.components)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        if schema.get("default") is not None:
            return schema["default"]
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            return self._object(schema, request=request, depth=depth)
        if kind == "array":
            item = self.example(schema.get("items", {}), request=request, depth=depth + 1)
            return [] if item is None else [item]
        if kind == "string":
            if schema.get("format") in FORMATS:
                return FORMATS[schema["format"]]
            if "pattern" in schema or schema.get("format") == "uuid":
                return None
            return FALLBACK_TEXT[: schema.get("maxLength", len(FALLBACK_TEXT))]
        if kind == "integer":
            return max(int(schema.get("minimum", 1)), 1)
        if kind == "number":
            return float(schema.get("minimum", 1))
        if kind == "boolean":
            return True
        return None

    def _field(self, name: str, field: Schema, *, request: bool, depth: int) -> Any:
        own = _own(field, self.components)
        if own is not None:
            return own
        branch = _branch(field, self.components)
        if branch.get("type") == "string" and "enum" not in branch and name in self.names:
            return self.names[name]
        if branch.get("format") == "uuid":
            return str(uuid5(NAMESPACE_URL, f"ieys:example:{name}"))
        return self.example(field, request=request, depth=depth + 1)

    def _object(self, schema: Schema, *, request: bool, depth: int) -> Any:
        if depth > MAX_DEPTH:
            return {}
        required = set(schema.get("required", ()))
        built: dict[str, Any] = {}
        for name, field in schema.get("properties", {}).items():
            if request and name not in required and _own(field, self.components) is None:
                continue
            value = self._field(name, field, request=request, depth=depth)
            if value is None and name in required:
                return None
            if value is not None or not request:
                built[name] = value
        return built
