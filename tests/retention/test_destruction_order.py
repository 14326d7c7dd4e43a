"""Destruction deletes every row that points at a person or a household: a table added
later with such a foreign key must be added to the destruction order too."""

from app.models import metadata
from app.retention import service as retention_service


def _pointing_at(table_name: str) -> set[tuple[str, str]]:
    return {
        (fk.parent.table.name, fk.parent.name)
        for table in metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == table_name
    }


def test_every_column_pointing_at_a_person_is_deleted_before_the_person() -> None:
    covered = {(c.table.name, c.name) for c in retention_service.PERSON_ROWS}  # type: ignore[attr-defined]
    assert _pointing_at("person") == covered


def test_every_column_pointing_at_a_household_is_deleted_before_it() -> None:
    covered = {(c.table.name, c.name) for c in retention_service.FAMILY_ROWS}  # type: ignore[attr-defined]
    assert _pointing_at("family") - {("person", "family_id")} == covered
