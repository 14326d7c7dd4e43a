"""Subject-request cases: receipt, the clock, extension, pause, decision, lifting.

Services flush, never commit. Deciding a case does what the outcome says: fulfilling
an access or portability request builds its package; an erasure erases (really: rows
deleted, the household's data key destroyed when no member remains); a restriction
restricts and an objection is upheld, states the engine honours (DOMAIN.md steps 5
and 6) until lifted.
"""

from collections.abc import Sequence
from datetime import date
from typing import Any, Final
from uuid import UUID, uuid4

import orjson
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from app.consent.models import Consent
from app.contacts.models import Contact
from app.documents import service as documents_service
from app.education.models import EducationRecord
from app.notifications import service as notifications_service
from app.notifications.models import NotificationEvent
from app.people import service as people_service
from app.people.models import CircumstancesRecord, Family, Person, SpecialCategoryRecord
from app.people.service import PersonView
from app.platform import idempotency
from app.platform.crypto import KeyRing, field_aad, get_key_ring
from app.platform.db import as_utc, utcnow
from app.platform.pagination import Page, keyset_page
from app.platform.problems import Conflict, Unprocessable
from app.policy.vocabulary import Category, SubjectKind
from app.relationships.models import Relationship
from app.reports.models import household_changed
from app.retention import rules as retention_rules
from app.retention import service as retention_service
from app.retention.plan import Destruction
from app.rights import deadlines, erasure, fhir, package
from app.rights.models import SubjectRequest, SubjectRequestEvent, SubjectRequestPackage
from app.rights.schemas import (
    DecideBody,
    EventKind,
    RequestOutcome,
    RequestStatus,
    RequestType,
    SubjectPackage,
    SubjectRequestCreate,
)
from app.safeguarding.models import SafeguardingRecord

PACKAGE_TABLE: Final = SubjectRequestPackage.__tablename__
PACKAGED: Final = frozenset({RequestType.ACCESS, RequestType.PORTABILITY})
FLAGGED: Final = frozenset({RequestType.RESTRICTION, RequestType.OBJECTION})


def _json(value: dict[str, Any] | None) -> str | None:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode() if value else None


def _categories(value: str | None) -> list[Category]:
    return [Category(c) for c in (value or "").split(",") if c]


def _event(
    session: Session,
    case: SubjectRequest,
    kind: EventKind,
    actor: str,
    *,
    reason: str | None = None,
    months: int | None = None,
    decision_id: UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        SubjectRequestEvent(
            id=uuid4(),
            request_id=case.id,
            kind=kind.value,
            occurred_at=utcnow(),
            actor_sub=actor,
            reason=reason,
            months=months,
            decision_id=decision_id,
            detail=_json(detail),
        )
    )
    case.updated_at = utcnow()


# --- receipt ----------------------------------------------------------------------------


def check_requester(subject: PersonView, requester: PersonView | None) -> None:
    """The subject asks for themself; for a child, a carer of the household with
    parental responsibility may ask."""
    if requester is None:
        raise Unprocessable("requester_id", "no person with this id")
    if requester.id == subject.id:
        return
    if subject.kind is not SubjectKind.CHILD:
        raise Unprocessable("requester_id", "an adult makes their own request")
    if (
        requester.row.family_id != subject.row.family_id
        or requester.kind is not SubjectKind.CARER
        or not requester.row.has_parental_responsibility
    ):
        raise Unprocessable(
            "requester_id", "must be a carer of the child's household with parental responsibility"
        )


def create(
    session: Session,
    body: SubjectRequestCreate,
    subject: PersonView,
    requester: PersonView | None,
    actor: str,
    *,
    request_id: UUID,
    decision_id: UUID,
) -> SubjectRequest:
    check_requester(subject, requester)
    now = utcnow()
    received_at = as_utc(body.received_at) if body.received_at else now
    if received_at > now:
        raise Unprocessable("received_at", "may not be in the future")
    received_on = deadlines.local_date(received_at)
    case = SubjectRequest(
        id=request_id,
        type=body.type.value,
        subject_id=subject.id,
        subject_kind=subject.kind.value,
        requester_id=body.requester_id,
        details=body.details,
        received_at=received_at,
        received_on=received_on,
        due_at=deadlines.due_date(received_on),
        extended_months=0,
        paused_at=None,
        paused_days_total=0,
        status=RequestStatus.OPEN.value,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    if body.type is RequestType.OBJECTION:
        # Sch 1 para 8: from receipt the child leaves every report reaching ethnicity.
        household_changed(session, [subject.row.family_id])
    _event(session, case, EventKind.RECEIVED, actor, decision_id=decision_id)
    session.flush()
    return case


def get(session: Session, request_id: UUID) -> SubjectRequest | None:
    return session.get(SubjectRequest, request_id)


# --- the clock --------------------------------------------------------------------------


def _require(case: SubjectRequest, *statuses: RequestStatus) -> None:
    if case.status not in {s.value for s in statuses}:
        raise Conflict(f"The case is {case.status}: not possible now.")


def extend(
    session: Session, case: SubjectRequest, months: int, reason: str, actor: str, on: date
) -> None:
    """Art 12(3): up to two further months, the requester told within the first month."""
    _require(case, RequestStatus.OPEN, RequestStatus.PAUSED)
    total = case.extended_months + months
    if total > deadlines.MAX_EXTENSION_MONTHS:
        raise Unprocessable(
            "months",
            f"at most {deadlines.MAX_EXTENSION_MONTHS} further months in all "
            f"({case.extended_months} already given)",
        )
    last_day = deadlines.extension_deadline(case.received_on, paused_days=case.paused_days_total)
    if on > last_day:
        raise Conflict(
            f"An extension must be given within the first month (by {last_day.isoformat()})."
        )
    case.extended_months = total
    if case.status == RequestStatus.OPEN:
        case.due_at = _due(case)
    _event(session, case, EventKind.EXTENDED, actor, reason=reason, months=months)
    session.flush()


def _due(case: SubjectRequest) -> date:
    return deadlines.due_date(
        case.received_on,
        extended_months=case.extended_months,
        paused_days=case.paused_days_total,
    )


def pause(session: Session, case: SubjectRequest, reason: str, actor: str) -> None:
    """The clock stops while the service waits for proof of identity or clarification."""
    _require(case, RequestStatus.OPEN)
    case.status = RequestStatus.PAUSED.value
    case.paused_at = utcnow()
    _event(session, case, EventKind.PAUSED, actor, reason=reason)
    session.flush()


def _stop_pause(case: SubjectRequest, on: date) -> int:
    assert case.paused_at is not None
    days = deadlines.days_paused(deadlines.local_date(as_utc(case.paused_at)), on)
    case.paused_days_total += days
    case.paused_at = None
    return days


def resume(session: Session, case: SubjectRequest, reason: str, actor: str, on: date) -> None:
    """What was waited for arrived: the clock restarts, due_at moved by the days paused."""
    _require(case, RequestStatus.PAUSED)
    days = _stop_pause(case, on)
    case.status = RequestStatus.OPEN.value
    case.due_at = _due(case)
    _event(session, case, EventKind.RESUMED, actor, reason=reason, detail={"days_paused": days})
    session.flush()


def is_overdue(case: SubjectRequest, on: date) -> bool:
    return case.status == RequestStatus.OPEN and deadlines.is_overdue(case.due_at, on)


# --- rectification ------------------------------------------------------------------------


def rectification_case(session: Session, request_id: UUID, person_id: UUID) -> SubjectRequest:
    """The open rectification case a PATCH names in X-Subject-Request-Id."""
    case = get(session, request_id)
    field = "X-Subject-Request-Id"
    if case is None:
        raise Unprocessable(field, "no subject request with this id")
    if case.type != RequestType.RECTIFICATION or case.subject_id != person_id:
        raise Unprocessable(field, "not a rectification request about this person")
    if case.status == RequestStatus.CLOSED:
        raise Unprocessable(field, "the request is already decided")
    return case


def record_rectification(
    session: Session,
    case: SubjectRequest,
    fields: list[str],
    decision_id: UUID,
    actor: str,
) -> None:
    """The case's history names the fields changed; the old values' hashes are in the
    audit event of `decision_id`, nowhere else."""
    _event(
        session,
        case,
        EventKind.RECTIFIED,
        actor,
        decision_id=decision_id,
        detail={"fields": sorted(fields)},
    )
    session.flush()


# --- deciding ---------------------------------------------------------------------------


def decide(
    session: Session,
    case: SubjectRequest,
    body: DecideBody,
    subject: PersonView | None,
    keys: KeyRing,
    actor: str,
    on: date,
    *,
    decision_id: UUID,
) -> None:
    _require(case, RequestStatus.OPEN, RequestStatus.PAUSED)
    outcome = body.outcome
    exempt = frozenset(body.exempt_categories)
    kind = RequestType(case.type)
    if exempt and outcome is not RequestOutcome.PARTIALLY_FULFILLED:
        raise Unprocessable("exempt_categories", "only a partially_fulfilled outcome names them")
    if outcome is RequestOutcome.PARTIALLY_FULFILLED and kind in FLAGGED:
        raise Unprocessable("outcome", f"a {kind.value} request is fulfilled or refused")
    partial = outcome is RequestOutcome.PARTIALLY_FULFILLED
    if partial and kind is not RequestType.RECTIFICATION and not exempt:
        raise Unprocessable("exempt_categories", "name what the outcome does not cover")
    detail: dict[str, Any] | None = None
    if outcome is not RequestOutcome.REFUSED:
        assert subject is not None, "the router loads a subject for anything but a refusal"
        if kind in (RequestType.ERASURE, RequestType.RESTRICTION, RequestType.OBJECTION):
            household_changed(session, [subject.row.family_id])
        if kind in (RequestType.ERASURE, RequestType.RESTRICTION):
            # Art 19: told in this transaction, before the erasure takes the record.
            detail = {
                "recipients_notified": _notify(session, keys, kind, subject, exempt, decision_id)
            }
        if kind in PACKAGED:
            _store_package(session, case, subject, keys, on, exempt, body.reason)
        elif kind is RequestType.ERASURE:
            detail = (detail or {}) | erase(
                session,
                case,
                subject,
                partial=outcome is RequestOutcome.PARTIALLY_FULFILLED,
                kept=exempt,
                on=on,
            )
        elif kind is RequestType.RESTRICTION:
            _set(session, subject.id, restricted=True)
        elif kind is RequestType.OBJECTION:
            _set(session, subject.id, objection_upheld=True)
    if case.status == RequestStatus.PAUSED:
        _stop_pause(case, on)
    case.status = RequestStatus.CLOSED.value
    case.outcome = outcome.value
    case.reason = body.reason
    case.exempt_categories = ",".join(c.value for c in Category if c in exempt) or None
    case.decided_at = utcnow()
    _event(
        session,
        case,
        EventKind.DECIDED,
        actor,
        reason=body.reason,
        decision_id=decision_id,
        detail={"outcome": outcome.value, **(detail or {})},
    )
    session.flush()


def _notify(
    session: Session,
    keys: KeyRing,
    kind: RequestType,
    subject: PersonView,
    kept: frozenset[Category],
    decision_id: UUID,
) -> list[str]:
    """Every recipient of the erased (all but `kept`) or restricted data; returns their
    codes for the case's history."""
    event = (
        NotificationEvent.ERASURE if kind is RequestType.ERASURE else NotificationEvent.RESTRICTION
    )
    touched = frozenset(Category) - kept
    made = notifications_service.record(
        session, keys, notifications_service.Change(event, subject, decision_id, touched)
    )
    return sorted({n.recipient for n in made})


def _set(session: Session, person_id: UUID, **values: Any) -> None:
    session.execute(
        update(Person)
        .where(Person.id == person_id)
        .values(**values, version=Person.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def lift(
    session: Session, case: SubjectRequest, reason: str, actor: str, decision_id: UUID
) -> None:
    """Art 18(3), Art 21: the restriction or upheld objection ends, and the case says so."""
    kind = RequestType(case.type)
    if kind not in FLAGGED:
        raise Conflict("Only a restriction or an objection is lifted.")
    if case.outcome != RequestOutcome.FULFILLED or case.lifted_at is not None:
        raise Conflict("Nothing to lift: the request was not fulfilled, or was lifted already.")
    family_id = session.scalar(select(Person.family_id).where(Person.id == case.subject_id))
    if family_id is not None:
        household_changed(session, [family_id])
    if kind is RequestType.RESTRICTION:
        _set(session, case.subject_id, restricted=False)
    else:
        _set(session, case.subject_id, objection_upheld=False)
    case.lifted_at = utcnow()
    _event(session, case, EventKind.LIFTED, actor, reason=reason, decision_id=decision_id)
    session.flush()


# --- packages ---------------------------------------------------------------------------


def _store_package(
    session: Session,
    case: SubjectRequest,
    subject: PersonView,
    keys: KeyRing,
    on: date,
    withheld: frozenset[Category],
    reason: str,
) -> None:
    if case.type == RequestType.PORTABILITY and not (
        package.consented_categories(session, subject.id) - withheld
    ):
        raise Unprocessable(
            "outcome", "nothing about the subject is processed on consent: refuse, with the reason"
        )
    requester = people_service.find(session, case.requester_id)
    built = package.build(
        session, case, subject, requester, keys, on, withheld=withheld, reason=reason
    )
    cipher = people_service.cipher_for_family(session, subject.row.family_id, keys)
    session.add(
        SubjectRequestPackage(
            request_id=case.id,
            family_id=subject.row.family_id,
            body=cipher.encrypt(
                built.model_dump_json(), aad=field_aad(PACKAGE_TABLE, "body", case.id)
            ),
            created_at=utcnow(),
        )
    )
    session.flush()


def has_package(session: Session, request_id: UUID) -> bool:
    return session.get(SubjectRequestPackage, request_id) is not None


def stored_package(session: Session, case: SubjectRequest, keys: KeyRing) -> SubjectPackage | None:
    stored = session.get(SubjectRequestPackage, case.id)
    if stored is None:
        return None
    cipher = people_service.cipher_for_family(session, stored.family_id, keys)
    plain = cipher.decrypt(stored.body, aad=field_aad(PACKAGE_TABLE, "body", case.id))
    return SubjectPackage.model_validate_json(plain)


def fhir_bundle(package_: SubjectPackage, case: SubjectRequest) -> dict[str, Any]:
    return fhir.validated(fhir.bundle(package_, case.requester_id))


# --- erasure ----------------------------------------------------------------------------

_PARTIAL_ROWS: Final = {
    Category.CIRCUMSTANCES: "circumstances",
    Category.SAFEGUARDING: "safeguarding_record",
    Category.SERVICES: "contact",
    Category.EDUCATION: "education_record",
    Category.HOUSEHOLD: "relationship",
}
_DOCUMENT_CATEGORIES: Final = frozenset({Category.SERVICES, Category.HEALTH, Category.SAFEGUARDING})
"""The categories a document's content may belong to: a partial erasure keeps a
document only where its category is kept."""


def erase(
    session: Session,
    case: SubjectRequest,
    subject: PersonView,
    *,
    partial: bool,
    kept: frozenset[Category],
    on: date,
) -> dict[str, Any]:
    """Art 17: erase the subject (or all but what is kept); returns the opaque facts the
    case records: who was erased, which consents ended with them."""
    held = retention_service.under_legal_hold(
        session, subject.id, subject.row.family_id, child=subject.kind is SubjectKind.CHILD
    )
    if held and not partial:
        raise Conflict(
            "The subject is under a legal hold (Art 17(3)(e)): keep what the claim needs "
            "(partially_fulfilled) or refuse."
        )
    try:
        plan = erasure.plan(partial=partial, kept=kept)
    except ValueError as exc:
        raise Unprocessable("exempt_categories", str(exc)) from None
    connection = session.connection()
    session.flush()
    family_id = subject.row.family_id
    # Any package of the household may hold the subject's data: it goes.
    connection.execute(
        delete(SubjectRequestPackage).where(SubjectRequestPackage.family_id == family_id)
    )
    if not plan.whole_person:
        return _erase_part(session, subject, plan)
    ended = retention_service.consents_given_for_others(connection, [subject.id])
    destroyed = [Destruction(subject.id, subject.kind, retention_rules.RULE_ERASURE)]
    retention_service.delete_people(connection, [subject.id])
    remaining = session.execute(
        select(Person.id, Person.kind, Person.destroy_on).where(Person.family_id == family_id)
    ).all()
    if not remaining:
        destroyed.append(Destruction(family_id, SubjectKind.FAMILY, retention_rules.RULE_ERASURE))
        retention_service.delete_families(connection, [family_id])
    else:
        refresh_household(session, family_id, remaining)
    retention_service.log_destroyed(connection, destroyed, on)
    idempotency.forget_subjects(connection, [d.subject_id for d in destroyed])
    retention_service.forget_released_holds(connection, [d.subject_id for d in destroyed])
    forget_words(session, [subject.id])
    return {
        "erased": [str(d.subject_id) for d in destroyed],
        "consents_ended": [str(c) for c in ended],
    }


def _erase_part(session: Session, subject: PersonView, plan: erasure.ErasurePlan) -> dict[str, Any]:
    erased: list[str] = []
    # Consent-based processing ends whatever is kept.
    session.execute(delete(Consent).where(Consent.subject_id == subject.id))
    erased.append("consents")
    if plan.erases(Category.CONTACT):
        _set(session, subject.id, phone=None, email=None)
        erased.append(Category.CONTACT.value)
    if plan.erases(Category.ETHNICITY) and plan.erases(Category.HEALTH):
        session.execute(
            delete(SpecialCategoryRecord).where(SpecialCategoryRecord.person_id == subject.id)
        )
    elif plan.erases(Category.ETHNICITY) or plan.erases(Category.HEALTH):
        record = session.get(SpecialCategoryRecord, subject.id)
        if record is not None:
            columns = (
                ("ethnicity",)
                if plan.erases(Category.ETHNICITY)
                else ("medical_history", "wellbeing", "needs", "allergies")
            )
            for column in columns:
                setattr(record, column, None)
            record.version += 1
    erased.extend(c.value for c in (Category.ETHNICITY, Category.HEALTH) if plan.erases(c))
    if plan.erases(Category.CIRCUMSTANCES):
        session.execute(
            delete(CircumstancesRecord).where(CircumstancesRecord.person_id == subject.id)
        )
    if plan.erases(Category.SAFEGUARDING):
        session.execute(
            delete(SafeguardingRecord).where(SafeguardingRecord.person_id == subject.id)
        )
    if plan.erases(Category.SERVICES):
        session.execute(delete(Contact).where(Contact.person_id == subject.id))
    if plan.erases(Category.EDUCATION):
        session.execute(delete(EducationRecord).where(EducationRecord.person_id == subject.id))
    if plan.erases(Category.HOUSEHOLD):
        # Both directions: recorded from the subject, and recorded to them.
        session.execute(
            delete(Relationship).where(
                or_(Relationship.person_id == subject.id, Relationship.to_person_id == subject.id)
            )
        )
    documents_service.erase(
        session,
        subject,
        get_key_ring(),
        categories=frozenset(c for c in _DOCUMENT_CATEGORIES if plan.erases(c)),
    )
    erased.extend(c.value for c in _PARTIAL_ROWS if plan.erases(c))
    session.flush()
    return {"erased_categories": sorted(set(erased)), "kept": sorted(c.value for c in plan.kept)}


def refresh_household(session: Session, family_id: UUID, remaining: Sequence[Any]) -> None:
    """Adults go with the household's last child: with a child erased, the remaining
    children set the date; with none left, the date stays as it was (the erased
    child's), never the a-year-after-creation rule of a household that had none."""
    dates = [r.destroy_on for r in remaining if r.kind == SubjectKind.CHILD and r.destroy_on]
    if dates:
        session.execute(
            update(Family)
            .where(Family.id == family_id)
            .values(destroy_on=max(dates))
            .execution_options(synchronize_session=False)
        )


def forget_words(session: Session, subject_ids: list[UUID]) -> None:
    """The cases stay, by opaque id, as the record that the rights were answered; the
    requester's own words about the erased subject go."""
    session.execute(
        update(SubjectRequest)
        .where(SubjectRequest.subject_id.in_(subject_ids))
        .values(details=None)
        .execution_options(synchronize_session=False)
    )


# --- lists ------------------------------------------------------------------------------


def events(session: Session, request_ids: list[UUID]) -> dict[UUID, list[SubjectRequestEvent]]:
    out: dict[UUID, list[SubjectRequestEvent]] = {r: [] for r in request_ids}
    for event in session.execute(
        select(SubjectRequestEvent)
        .where(SubjectRequestEvent.request_id.in_(request_ids))
        .order_by(SubjectRequestEvent.occurred_at, SubjectRequestEvent.id)
    ).scalars():
        out[event.request_id].append(event)
    return out


def packaged(session: Session, request_ids: list[UUID]) -> set[UUID]:
    return set(
        session.execute(
            select(SubjectRequestPackage.request_id).where(
                SubjectRequestPackage.request_id.in_(request_ids)
            )
        ).scalars()
    )


def values(
    case: SubjectRequest, history: list[SubjectRequestEvent], on: date, *, package_available: bool
) -> dict[str, Any]:
    return {
        "id": case.id,
        "type": RequestType(case.type),
        "subject_id": case.subject_id,
        "subject_kind": SubjectKind(case.subject_kind),
        "requester_id": case.requester_id,
        "details": case.details,
        "received_at": as_utc(case.received_at),
        "received_on": case.received_on,
        "due_at": case.due_at,
        "extended_months": case.extended_months,
        "paused_at": as_utc(case.paused_at) if case.paused_at else None,
        "paused_days_total": case.paused_days_total,
        "status": RequestStatus(case.status),
        "overdue": is_overdue(case, on),
        "outcome": RequestOutcome(case.outcome) if case.outcome else None,
        "reason": case.reason,
        "exempt_categories": _categories(case.exempt_categories),
        "decided_at": as_utc(case.decided_at) if case.decided_at else None,
        "lifted_at": as_utc(case.lifted_at) if case.lifted_at else None,
        "package_available": package_available,
        "history": [
            {
                "kind": EventKind(e.kind),
                "occurred_at": as_utc(e.occurred_at),
                "actor_sub": e.actor_sub,
                "reason": e.reason,
                "months": e.months,
                "decision_id": e.decision_id,
                "detail": orjson.loads(e.detail) if e.detail else None,
            }
            for e in history
        ],
    }


def page(
    session: Session,
    *,
    on: date,
    overdue: bool | None,
    status: RequestStatus | None,
    type_: RequestType | None,
    subject_id: UUID | None,
    limit: int,
    cursor: str | None,
) -> Page[SubjectRequest]:
    """Cases by due date, soonest first."""
    r = SubjectRequest
    query = select(r)
    if overdue is True:
        query = query.where(r.status == RequestStatus.OPEN.value, r.due_at < on)
    elif overdue is False:
        query = query.where(or_(r.status != RequestStatus.OPEN.value, r.due_at >= on))
    if status is not None:
        query = query.where(r.status == status.value)
    if type_ is not None:
        query = query.where(r.type == type_.value)
    if subject_id is not None:
        query = query.where(r.subject_id == subject_id)
    return keyset_page(session, query, (r.due_at, r.id), limit=limit, cursor=cursor)
