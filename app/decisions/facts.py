"""The facts a decision about a person turns on, loaded lazily: only what the ask needs.

The hot path (a care read of a person) costs no query beyond the person's own row;
enrolments are read only for a nursery practitioner, the household's child protection
plans and the person's consents only when the purpose may rest on consent. Every
decision about a person, whichever endpoint asks, takes its facts from `person_state`.
"""

from datetime import date
from uuid import UUID

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.consent.models import Consent
from app.nurseries.models import Enrolment
from app.people.service import PersonView
from app.platform.crypto import get_key_ring
from app.policy.model import ConsentFact, RecordState
from app.policy.rules import CONSENT_PURPOSES, CP_PLAN_LIFTS_CONSENT
from app.policy.vocabulary import Action, Category, ConsentType, Purpose, Role, SubjectKind
from app.safeguarding import service as safeguarding_service


def attending(session: Session, child_id: UUID, on: date) -> frozenset[UUID]:
    rows = session.execute(
        select(Enrolment.nursery_id).where(
            Enrolment.child_id == child_id,
            Enrolment.start_date <= on,
            or_(Enrolment.end_date.is_(None), Enrolment.end_date >= on),
        )
    ).scalars()
    return frozenset(rows)


def household_plan(session: Session, family_id: UUID, on: date) -> bool:
    """DOMAIN.md step 8: a plan for any child of the household covers every member."""
    return safeguarding_service.household_plan_active(session, family_id, on, get_key_ring())


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


def plan_matters(purpose: Purpose) -> bool:
    return purpose in CONSENT_PURPOSES and purpose in CP_PLAN_LIFTS_CONSENT


def person_state(
    session: Session,
    view: PersonView,
    *,
    role: Role,
    purpose: Purpose,
    action: Action,
    on: date,
    plan: bool | None = None,
) -> RecordState:
    """The person's record as it stands on `on`. `plan`: the household's plan fact, when
    the caller already knows it (a household read asks once for every member)."""
    nursery_ids: frozenset[UUID] = frozenset()
    if role is Role.NURSERY_PRACTITIONER and view.kind is SubjectKind.CHILD:
        nursery_ids = attending(session, view.id, on)
    if plan is None:
        plan = plan_matters(purpose) and household_plan(session, view.row.family_id, on)
    found_consents: tuple[ConsentFact, ...] = ()
    if (purpose in CONSENT_PURPOSES and not plan) or action is Action.SHARE:
        found_consents = consents(session, view.id)
    return RecordState(
        kind=view.kind,
        nursery_ids=nursery_ids,
        destruction_date=view.destruction_date,
        restricted=bool(view.row.restricted),
        objection_upheld=bool(view.row.objection_upheld),
        cp_plan_active=plan,
        consents=found_consents,
    )
