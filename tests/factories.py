"""Factories with keyword overrides; NHS numbers from the 999 test range."""

import itertools
from datetime import date, datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy.orm import Session

from app.nurseries.models import Enrolment
from app.people import schemas
from app.people import service as people_service
from app.people.models import Family, Person
from app.platform.crypto import get_key_ring
from app.platform.identifiers import nhs_check_digit
from app.reference import catalogue
from app.safeguarding.models import SafeguardingRecord

_serial = itertools.count(1)


def nhs_number() -> str:
    """A fresh valid number in the 999 range (never a real person's)."""
    while True:
        nine = f"999{next(_serial) + 100_000:06d}"
        check = nhs_check_digit(nine)
        if check is not None:
            return f"{nine}{check}"


def today() -> date:
    from app.decisions.guard import today as service_today

    return service_today()


def make_family(session: Session, *, postcode: str = "NW1 7AA") -> Family:
    body = schemas.FamilyCreate(
        address=schemas.Address(line1="1 Test Street", postcode=postcode),
        phone="020 7000 0000",
    )
    family = people_service.create_family(session, body, get_key_ring(), family_id=uuid4())
    # A commit here releases the test's savepoint (the outer transaction still rolls
    # back): a request that fails and rolls back must not take the fixtures with it.
    session.commit()
    return family


def make_person(
    session: Session,
    *,
    family: Family | None = None,
    kind: str = "child",
    born: date | None = None,
    given_name: str = "Test",
    family_name: str = "Person",
    parental_responsibility: bool = False,
    with_nhs_number: bool = True,
) -> Person:
    family = family or make_family(session)
    if born is None:
        born = today() - timedelta(days=400 if kind == "child" else 30 * 365)
    body = schemas.PersonCreate(
        family_id=family.id,
        kind=schemas.PersonKind(kind),
        given_name=given_name,
        family_name=family_name,
        date_of_birth=born,
        nhs_number=nhs_number() if with_nhs_number else None,
        has_parental_responsibility=parental_responsibility,
    )
    person = people_service.create_person(session, body, today(), person_id=uuid4())
    session.commit()
    return person


def make_child(session: Session, **kwargs: object) -> Person:
    return make_person(session, kind="child", **kwargs)  # type: ignore[arg-type]


def make_carer(session: Session, **kwargs: object) -> Person:
    kwargs.setdefault("parental_responsibility", True)
    return make_person(session, kind="carer", **kwargs)  # type: ignore[arg-type]


def nursery_ids() -> list[UUID]:
    return list(catalogue.nurseries())


def enrol(
    session: Session,
    child: Person,
    nursery_id: UUID,
    *,
    start: date | None = None,
    end: date | None = None,
) -> Enrolment:
    enrolment = Enrolment(
        id=uuid4(),
        nursery_id=nursery_id,
        child_id=child.id,
        start_date=start or today() - timedelta(days=30),
        end_date=end,
    )
    session.add(enrolment)
    session.commit()
    return enrolment


def make_plan(
    session: Session, child: Person, *, start: date | None = None, end: date | None = None
) -> SafeguardingRecord:
    record = make_safeguarding_record(
        session,
        child,
        kind="child_protection_plan",
        summary="Plan agreed at conference",
        start=start,
        end=end,
    )
    session.commit()
    return record


def make_safeguarding_record(
    session: Session,
    person: Person,
    *,
    kind: str = "risk_issue",
    summary: str = "Concern raised by the health visitor",
    start: date | None = None,
    end: date | None = None,
) -> SafeguardingRecord:
    """Sealed exactly as the service stores it: every column about the child encrypted."""
    from app.safeguarding import service as safeguarding_service
    from app.safeguarding.schemas import SafeguardingKind

    record_id = uuid4()
    cipher = people_service.cipher_for_family(session, person.family_id, get_key_ring())
    record = SafeguardingRecord(
        id=record_id,
        person_id=person.id,
        **safeguarding_service.sealed(
            cipher,
            record_id,
            kind=SafeguardingKind(kind),
            summary=summary,
            start_date=start or today() - timedelta(days=10),
            end_date=end,
            source=None,
        ),
    )
    session.add(record)
    session.flush()
    return record


def give_early_help_consent(
    session: Session,
    child: Person,
    *,
    categories: tuple[str, ...] = ("identity", "contact", "services"),
) -> UUID:
    """An active `early_help_support` consent about the child, given by a carer with
    parental responsibility in the child's household."""
    from app.consent.models import Consent

    family = session.get(Family, child.family_id)
    carer = make_carer(session, family=family)
    consent = Consent(
        id=uuid4(),
        subject_id=child.id,
        given_by_id=carer.id,
        type="early_help_support",
        categories=",".join(categories),
        method="signed_form",
    )
    session.add(consent)
    session.flush()
    return consent.id


def make_consent(
    session: Session,
    subject: Person,
    *,
    given_by: Person | None = None,
    consent_type: str = "early_help_support",
    categories: tuple[str, ...] = ("identity", "contact"),
    recipient: str | None = None,
    withdrawn: bool = False,
) -> UUID:
    """A consent about `subject` (its id): for a child, given by a new carer with
    parental responsibility in the child's household; for an adult, by the adult."""
    from app.consent.models import Consent
    from app.platform.db import utcnow

    if given_by is None:
        if subject.kind == "child":
            given_by = make_carer(session, family=session.get(Family, subject.family_id))
        else:
            given_by = subject
    consent = Consent(
        id=uuid4(),
        subject_id=subject.id,
        given_by_id=given_by.id,
        type=consent_type,
        categories=",".join(categories),
        recipient=recipient,
        method="signed_form",
        evidence_ref="FORM-TEST",
        given_at=utcnow(),
        withdrawn_at=utcnow() if withdrawn else None,
        withdrawal_reason="Changed their mind" if withdrawn else None,
    )
    session.add(consent)
    session.commit()
    return consent.id


def now() -> datetime:
    from app.platform.db import utcnow

    return utcnow()
