"""Households and people: reads through one joined SELECT, writes that flush only."""

from dataclasses import dataclass
from datetime import date
from typing import Any, Final
from uuid import UUID, uuid4

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.centres import catalogue as centres_catalogue
from app.people import schemas
from app.people.models import (
    Family,
    FamilyKey,
    FamilyWorkerSupport,
    Person,
)
from app.platform.crypto import FieldCipher, KeyRing, WrappedKey, field_aad
from app.platform.db import utcnow
from app.platform.problems import (
    Conflict,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    Unprocessable,
)
from app.policy.vocabulary import SubjectKind
from app.reports.models import household_changed
from app.retention import rules as retention_rules

_PERSON_VIEW = select(
    Person.id,
    Person.family_id,
    Person.kind,
    Person.given_name,
    Person.family_name,
    Person.date_of_birth,
    Person.sex,
    Person.nhs_number,
    Person.upn,
    Person.has_parental_responsibility,
    Person.phone,
    Person.email,
    Person.restricted,
    Person.objection_upheld,
    Person.destroy_on,
    Person.version,
    Family.address_line1,
    Family.address_line2,
    Family.postcode,
    Family.phone.label("family_phone"),
    Family.email.label("family_email"),
    Family.destroy_on.label("family_destroy_on"),
).join(Family, Family.id == Person.family_id)


_FIND_PERSON = _PERSON_VIEW.where(Person.id == bindparam("person_id"))


@dataclass(frozen=True, slots=True)
class PersonView:
    """A person with the household's contact data and the state the engine needs."""

    row: Any
    """The joined row of `_PERSON_VIEW`."""

    @property
    def id(self) -> UUID:
        return UUID(str(self.row.id)) if not isinstance(self.row.id, UUID) else self.row.id

    @property
    def kind(self) -> SubjectKind:
        return SubjectKind(self.row.kind)

    @property
    def destruction_date(self) -> date | None:
        # A child's own date; adults go with the household's last child.
        if self.row.kind == SubjectKind.CHILD:
            return self.row.destroy_on  # type: ignore[no-any-return]
        return self.row.family_destroy_on  # type: ignore[no-any-return]

    @property
    def etag(self) -> str:
        return etag(self.row.version)

    def values(self) -> dict[str, Any]:
        r = self.row
        return {
            "id": r.id,
            "family_id": r.family_id,
            "kind": r.kind,
            "given_name": r.given_name,
            "family_name": r.family_name,
            "date_of_birth": r.date_of_birth,
            "sex": r.sex,
            "nhs_number": r.nhs_number,
            "upn": r.upn,
            "has_parental_responsibility": r.has_parental_responsibility,
            "address": {"line1": r.address_line1, "line2": r.address_line2, "postcode": r.postcode},
            "phone": r.phone or r.family_phone,
            "email": r.email or r.family_email,
        }


def etag(version: int) -> str:
    return f'"{version}"'


def check_etag(if_match: str, version: int) -> None:
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if "*" not in tags and etag(version) not in tags:
        raise PreconditionFailed("If-Match does not match the current ETag; read it again.")


def find(session: Session, person_id: UUID) -> PersonView | None:
    # Core on the session's connection: a read of columns, no identity map needed;
    # the statement is built once, only the id changes.
    row = session.connection().execute(_FIND_PERSON, {"person_id": person_id}).first()
    return None if row is None else PersonView(row)


def members(session: Session, family_id: UUID) -> list[PersonView]:
    rows = session.execute(
        _PERSON_VIEW.where(Person.family_id == family_id).order_by(Person.date_of_birth, Person.id)
    ).all()
    return [PersonView(row) for row in rows]


def family_of(session: Session, subject_id: UUID) -> UUID | None:
    """The household of a person, or the household itself; None when neither exists."""
    found = session.execute(
        select(Person.family_id).where(Person.id == subject_id)
    ).scalar_one_or_none()
    if found is not None:
        return found
    return session.execute(select(Family.id).where(Family.id == subject_id)).scalar_one_or_none()


def get_family(session: Session, family_id: UUID) -> Family | None:
    return session.get(Family, family_id)


def create_family(
    session: Session,
    body: schemas.FamilyCreate,
    keys: KeyRing,
    *,
    family_id: UUID,
    wrapped_key: WrappedKey | None = None,
) -> Family:
    """`wrapped_key`: a data key already in use for this household (its creation was
    decided under `safeguarding`, and the justification sealed with it)."""
    now = utcnow()
    family = Family(
        id=family_id,
        address_line1=body.address.line1,
        address_line2=body.address.line2,
        postcode=body.address.postcode,
        centre_code=centres_catalogue.centre_of(body.address.postcode),
        phone=body.phone,
        email=str(body.email) if body.email else None,
        family_worker_supported=False,
        destroy_on=retention_rules.household_destruction_date(now.date(), []),
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(family)
    key = wrapped_key or keys.new_wrapped_key()
    session.add(FamilyKey(family_id=family.id, wrapped_key=key.wrapped, kek_id=key.kek_id))
    session.flush()
    household_changed(session, [family.id])
    return family


_DUPLICATE: Final = "A person with this NHS number or unique pupil number is already recorded."


def _refuse_duplicate(
    session: Session, nhs_number: str | None, upn: str | None, *, person_id: UUID | None = None
) -> None:
    """An NHS number or UPN identifies one person: a second record is a conflict, which
    names the person already recorded (the caller knows the identifier already)."""
    if nhs_number is None and upn is None:
        return
    existing = find_by_identifier(session, nhs_number=nhs_number, upn=upn)
    if existing is not None and existing.id != person_id:
        raise Conflict(_DUPLICATE, extra={"existing_id": str(existing.id)})


def _flush_unique(session: Session) -> None:
    """The same rule when two requests race past `_refuse_duplicate` at once."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(_DUPLICATE) from None


def find_by_identifier(
    session: Session, *, nhs_number: str | None = None, upn: str | None = None
) -> PersonView | None:
    """The person an exact NHS number or unique pupil number names, if any."""
    if nhs_number is not None:
        row = session.execute(_PERSON_VIEW.where(Person.nhs_number == nhs_number)).first()
        if row is not None:
            return PersonView(row)
    if upn is not None:
        row = session.execute(_PERSON_VIEW.where(Person.upn == upn)).first()
        if row is not None:
            return PersonView(row)
    return None


def _starting(column: Any, text: str) -> Any:
    """FHIR string search: case-insensitive, matching the start of the value."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(escaped + "%", escape="\\")


def search(
    session: Session,
    *,
    nhs_number: str | None = None,
    family: str | None = None,
    given: str | None = None,
    born: date | None = None,
    limit: int,
) -> list[PersonView]:
    """The people an NHS number, a name (the start of the family or given name, any
    case) and a date of birth all match, by id; at most `limit`."""
    query = _PERSON_VIEW
    if nhs_number is not None:
        query = query.where(Person.nhs_number == nhs_number)
    if family is not None:
        query = query.where(_starting(Person.family_name, family))
    if given is not None:
        query = query.where(_starting(Person.given_name, given))
    if born is not None:
        query = query.where(Person.date_of_birth == born)
    rows = session.execute(query.order_by(Person.id).limit(limit)).all()
    return [PersonView(row) for row in rows]


def carers_of(session: Session, child: PersonView) -> list[PersonView]:
    """The carers with parental responsibility in the person's household, by id."""
    rows = session.execute(
        _PERSON_VIEW.where(
            Person.family_id == child.row.family_id,
            Person.kind == SubjectKind.CARER.value,
            Person.has_parental_responsibility.is_(True),
        ).order_by(Person.id)
    ).all()
    return [PersonView(row) for row in rows]


def _check_under_five(born: date, on: date) -> None:
    """The service covers children under 5 (DOMAIN.md): a child recorded or rectified
    must be under 5 on the day."""
    if not retention_rules.is_under_five(born, on):
        raise Unprocessable(
            "date_of_birth", "a child must be under 5; record older children as household_member"
        )


def create_person(
    session: Session, body: schemas.PersonCreate, on: date, *, person_id: UUID
) -> Person:
    family = session.get(Family, body.family_id)
    if family is None:
        raise Unprocessable("family_id", "no household with this id")
    if body.kind is schemas.PersonKind.CHILD:
        _check_under_five(body.date_of_birth, on)
    if body.has_parental_responsibility and body.kind is not schemas.PersonKind.CARER:
        raise Unprocessable("has_parental_responsibility", "only a carer holds it")
    now = utcnow()
    person = Person(
        id=person_id,
        family_id=family.id,
        kind=body.kind.value,
        given_name=body.given_name,
        family_name=body.family_name,
        date_of_birth=body.date_of_birth,
        sex=body.sex.value if body.sex else None,
        nhs_number=body.nhs_number,
        upn=body.upn,
        has_parental_responsibility=body.has_parental_responsibility,
        phone=body.phone,
        email=str(body.email) if body.email else None,
        centre_code=family.centre_code,
        restricted=False,
        objection_upheld=False,
        destroy_on=None,
        created_at=now,
        updated_at=now,
        version=1,
    )
    if body.kind is schemas.PersonKind.CHILD:
        person.destroy_on = retention_rules.child_destruction_date(
            body.date_of_birth, family_worker_supported=family.family_worker_supported
        )
    _refuse_duplicate(session, person.nhs_number, person.upn)
    session.add(person)
    _flush_unique(session)
    refresh_household_retention(session, family)
    household_changed(session, [family.id])
    return person


def refresh_household_retention(session: Session, family: Family) -> None:
    child_dates = [
        d
        for d in session.execute(
            select(Person.destroy_on).where(
                Person.family_id == family.id, Person.kind == SubjectKind.CHILD.value
            )
        ).scalars()
        if d is not None
    ]
    family.destroy_on = retention_rules.household_destruction_date(
        family.created_at.date(), child_dates
    )
    session.flush()


def _plain(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "value"):
        return str(value.value)
    return value.isoformat() if isinstance(value, date) else str(value)


def changed_fields(view: PersonView, patch: schemas.PersonPatch) -> list[str]:
    """The fields a patch changes."""
    return [
        name
        for name, value in patch.model_dump(exclude_unset=True).items()
        if _plain(getattr(view.row, name)) != _plain(value)
    ]


def rectified_hashes(
    session: Session, view: PersonView, patch: schemas.PersonPatch, keys: KeyRing
) -> dict[str, str | None]:
    """Each field the patch changes, with a keyed hash of its old value under the
    household's key (None where there was none): the audit event keeps this, and the
    old value is kept nowhere else. A plain sha256 of an NHS number could be reversed
    by trying every number; this cannot, and it dies with the household's key."""
    cipher = cipher_for_family(session, view.row.family_id, keys)
    out: dict[str, str | None] = {}
    for name, value in patch.model_dump(exclude_unset=True).items():
        old = _plain(getattr(view.row, name))
        if old == _plain(value):
            continue
        aad = field_aad("person", name, view.id)
        out[name] = cipher.fingerprint(old, aad=aad) if old is not None else None
    return out


def patch_person(
    session: Session, view: PersonView, patch: schemas.PersonPatch, if_match: str, on: date
) -> None:
    check_etag(if_match, view.row.version)
    changes: dict[str, Any] = {}
    for name, value in patch.model_dump(exclude_unset=True).items():
        if value is None and name in {"given_name", "family_name", "date_of_birth"}:
            raise Unprocessable(name, "may be corrected but not removed")
        changes[name] = value.value if hasattr(value, "value") else value
    if "email" in changes and changes["email"] is not None:
        changes["email"] = str(changes["email"])
    if not changes:
        return
    if view.row.kind == SubjectKind.CHILD and "date_of_birth" in changes:
        # Destruction follows the retention rule, never a typing slip: a corrected date
        # of birth that made the child 5 would have the next sweep destroy the household.
        _check_under_five(changes["date_of_birth"], on)
        family = session.get(Family, view.row.family_id)
        assert family is not None
        changes["destroy_on"] = retention_rules.child_destruction_date(
            changes["date_of_birth"], family_worker_supported=family.family_worker_supported
        )
    _refuse_duplicate(session, changes.get("nhs_number"), changes.get("upn"), person_id=view.id)
    # Compare-and-set on the version: a concurrent writer makes this a 412, not a lost update.
    result = session.execute(
        update(Person)
        .where(Person.id == view.id, Person.version == view.row.version)
        .values(**changes, version=Person.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise PreconditionFailed("The person changed since it was read; read it again.")
    _flush_unique(session)
    household_changed(session, [view.row.family_id])
    if "destroy_on" in changes:
        family = session.get(Family, view.row.family_id)
        assert family is not None
        refresh_household_retention(session, family)


# --- special category and circumstances ---------------------------------------------


def cipher_for_family(session: Session, family_id: UUID, keys: KeyRing) -> FieldCipher:
    found = session.execute(
        select(FamilyKey.wrapped_key, FamilyKey.kek_id).where(FamilyKey.family_id == family_id)
    ).one_or_none()
    if found is None:
        raise NotFound("The household's data key no longer exists.")
    return keys.cipher_for(found.wrapped_key, found.kek_id)


def check_optional_etag(current_version: int, if_match: str | None) -> None:
    """A first write needs no tag; replacing an existing record needs the current one."""
    if current_version == 0:
        if if_match is not None:
            check_etag(if_match, 0)
        return
    if if_match is None:
        raise PreconditionRequired("Send If-Match with the ETag from your last read.")
    check_etag(if_match, current_version)


def record_family_worker_support(
    session: Session, view: PersonView, body: schemas.FamilyWorkerSupportCreate, recorded_by: str
) -> tuple[FamilyWorkerSupport, date]:
    family = session.get(Family, view.row.family_id)
    assert family is not None
    support = FamilyWorkerSupport(
        id=uuid4(),
        family_id=family.id,
        person_id=view.id,
        started_on=body.started_on,
        recorded_by=recorded_by,
    )
    session.add(support)
    family.family_worker_supported = True
    # Privacy notice: supported families' data may be kept until the child is 25.
    for child in session.execute(
        select(Person).where(Person.family_id == family.id, Person.kind == SubjectKind.CHILD.value)
    ).scalars():
        child.destroy_on = retention_rules.child_destruction_date(
            child.date_of_birth, family_worker_supported=True
        )
    session.flush()
    refresh_household_retention(session, family)
    # A report leaves a child out from its destruction date, which this moved.
    household_changed(session, [family.id])
    kept_until = family.destroy_on
    if view.row.kind == SubjectKind.CHILD:
        kept_until = retention_rules.child_destruction_date(
            view.row.date_of_birth, family_worker_supported=True
        )
    return support, kept_until


def count_people(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Person)).scalar_one())
