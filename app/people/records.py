"""Records held once per person beside the person's row (special category data,
circumstances, education): one shape for all of them.

Each is a row keyed by the person with a version (its ETag) and its columns, encrypted
under the household's key where the record is special category data. `read` gives the
response values and version; `write` replaces the record, a first write needing no
If-Match and every later one the current tag. The endpoints (`GET` and `PUT
/people/{person_id}/<path>`) are made from the same description, in the people router.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.education import schemas as education_schemas
from app.education import service as education_service
from app.education.models import EducationRecord
from app.people import schemas
from app.people.models import CircumstancesRecord, SpecialCategoryRecord
from app.people.service import PersonView, check_optional_etag, cipher_for_family
from app.platform.crypto import FieldCipher, KeyRing, field_aad
from app.platform.db import utcnow
from app.reports.models import household_changed

Columns = dict[str, str | None]


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """One kind of per-person record: its table, schema, columns and how a body maps
    to and from them."""

    name: str
    """The resource named in the audit trail, and the AAD's table for encrypted columns."""
    table: type[Any]
    schema: type[BaseModel]
    columns: tuple[str, ...]
    encrypted: bool
    to_columns: Callable[[Any], Columns]
    to_values: Callable[[Columns], dict[str, Any]]
    empty: Mapping[str, Any]
    """The response values when nothing is recorded yet."""
    eligible: Callable[[Session, PersonView], None] | None = None
    """Raises (422) when the record may not be held for this person; checked before a
    write stores anything."""


def _cipher(session: Session, view: PersonView, keys: KeyRing) -> FieldCipher:
    return cipher_for_family(session, view.row.family_id, keys)


def read(
    session: Session, kind: PersonRecord, view: PersonView, keys: KeyRing
) -> tuple[dict[str, Any], int]:
    """The record's response values and version (0 when nothing is recorded yet)."""
    record = session.get(kind.table, view.id)
    if record is None:
        return dict(kind.empty), 0
    stored: Columns = {column: getattr(record, column) for column in kind.columns}
    if kind.encrypted:
        cipher = _cipher(session, view, keys)
        stored = {
            column: cipher.decrypt_optional(value, aad=field_aad(kind.name, column, view.id))
            for column, value in stored.items()
        }
    return kind.to_values(stored), int(record.version)


def write(
    session: Session,
    kind: PersonRecord,
    view: PersonView,
    body: BaseModel,
    keys: KeyRing,
    if_match: str | None,
) -> int:
    """Replace the record; returns its new version."""
    if kind.eligible is not None:
        kind.eligible(session, view)
    record = session.get(kind.table, view.id)
    check_optional_etag(record.version if record else 0, if_match)
    values = kind.to_columns(body)
    if kind.encrypted:
        cipher = _cipher(session, view, keys)
        values = {
            column: cipher.encrypt_optional(value, aad=field_aad(kind.name, column, view.id))
            for column, value in values.items()
        }
    if record is None:
        record = kind.table(person_id=view.id, version=1, **values)
        session.add(record)
    else:
        for column, value in values.items():
            setattr(record, column, value)
        record.version += 1
        record.updated_at = utcnow()
    session.flush()
    if kind.encrypted:
        # Reports group by ethnicity: the processes' decrypted facts reload the household.
        household_changed(session, [view.row.family_id])
    return int(record.version)


_HEALTH: Final = ("medical_history", "wellbeing", "needs", "allergies")


def _special_columns(body: schemas.SpecialCategory) -> Columns:
    health = body.health or schemas.Health()
    return {
        "ethnicity": body.ethnicity.value if body.ethnicity else None,
        **{column: getattr(health, column) for column in _HEALTH},
    }


def _special_values(columns: Columns) -> dict[str, Any]:
    health = {column: columns[column] for column in _HEALTH}
    return {
        "ethnicity": columns["ethnicity"],
        "health": health if any(v is not None for v in health.values()) else None,
    }


SPECIAL_CATEGORY: Final = PersonRecord(
    name="special_category",
    table=SpecialCategoryRecord,
    schema=schemas.SpecialCategory,
    columns=("ethnicity", *_HEALTH),
    encrypted=True,
    to_columns=_special_columns,
    to_values=_special_values,
    empty={"ethnicity": None, "health": None},
)
CIRCUMSTANCES: Final = PersonRecord(
    name="circumstances",
    table=CircumstancesRecord,
    schema=schemas.Circumstances,
    columns=("work_status", "family_makeup", "legal_status", "accommodation"),
    encrypted=False,
    to_columns=lambda body: body.model_dump(),
    to_values=dict,
    empty={},
)
EDUCATION: Final = PersonRecord(
    name="education",
    table=EducationRecord,
    schema=education_schemas.Education,
    columns=("attendance_percent", "exclusions", "behaviour", "attainment"),
    encrypted=True,
    to_columns=education_service.to_columns,
    to_values=education_service.to_values,
    empty={"attendance_percent": None, "exclusions": None, "behaviour": None, "attainment": None},
    eligible=education_service.require_eligible,
)
