"""Record state for the engine, fetched lazily: only the facts the ask can turn on.

The hot path (a care read of a person) costs no query beyond the person's own row;
enrolments are read only for a nursery practitioner, plans and consents only when
the purpose may rest on consent.
"""

from datetime import date
from uuid import UUID

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.consent.models import Consent
from app.nurseries.models import Enrolment
from app.policy.model import ConsentFact, RecordState
from app.policy.vocabulary import Action, Category, ConsentType, Purpose, Role, SubjectKind
from app.safeguarding.models import SafeguardingRecord


def attending(session: Session, child_id: UUID, on: date) -> frozenset[UUID]:
    rows = session.execute(
        select(Enrolment.nursery_id).where(
            Enrolment.child_id == child_id,
            Enrolment.start_date <= on,
            or_(Enrolment.end_date.is_(None), Enrolment.end_date >= on),
        )
    ).scalars()
    return frozenset(rows)


def cp_plan_active(session: Session, person_id: UUID, on: date) -> bool:
    # API.md: a child_protection_plan with no end date is active.
    found = session.execute(
        select(SafeguardingRecord.id)
        .where(
            SafeguardingRecord.person_id == person_id,
            SafeguardingRecord.kind == "child_protection_plan",
            SafeguardingRecord.start_date <= on,
            or_(SafeguardingRecord.end_date.is_(None), SafeguardingRecord.end_date >= on),
        )
        .limit(1)
    ).first()
    return found is not None


def consents(session: Session, person_id: UUID) -> tuple[ConsentFact, ...]:
    rows = session.execute(
        select(Consent.type, Consent.categories, Consent.recipient, Consent.withdrawn_at).where(
            Consent.subject_id == person_id
        )
    ).all()
    return tuple(
        ConsentFact(
            type=ConsentType(row.type),
            categories=frozenset(Category(c) for c in row.categories.split(",") if c),
            recipient=row.recipient,
            withdrawn=row.withdrawn_at is not None,
        )
        for row in rows
    )


def person_state(
    session: Session,
    *,
    person_id: UUID,
    kind: SubjectKind,
    destruction_date: date | None,
    restricted: bool,
    objection_upheld: bool,
    role: Role,
    purpose: Purpose,
    action: Action,
    on: date,
) -> RecordState:
    nursery_ids: frozenset[UUID] = frozenset()
    if role is Role.NURSERY_PRACTITIONER and kind is SubjectKind.CHILD:
        nursery_ids = attending(session, person_id, on)
    plan = False
    found_consents: tuple[ConsentFact, ...] = ()
    if purpose is Purpose.EARLY_HELP:
        plan = cp_plan_active(session, person_id, on)
    if (purpose is Purpose.EARLY_HELP and not plan) or action is Action.SHARE:
        found_consents = consents(session, person_id)
    return RecordState(
        kind=kind,
        nursery_ids=nursery_ids,
        destruction_date=destruction_date,
        restricted=restricted,
        objection_upheld=objection_upheld,
        cp_plan_active=plan,
        consents=found_consents,
    )
