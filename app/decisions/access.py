"""Declared access: one spec per operation, one dependency built from it.

An endpoint says what it does as data: the action, the categories (from its schema's
tags), where its subject comes from, the record it writes where the rules name one;
which purposes it serves is the rule tables' (`OPERATION_PURPOSES`). `access(spec)` turns
that into a FastAPI dependency that loads the subject and the facts a decision about it
turns on (`app.decisions.facts`, the same for every endpoint), decides through the one
guard, answers 404/410/422, sets the headers, writes the audit event, answers an
idempotent replay (decided and audited like the first call), and hands the endpoint the
authorised subject. Nothing else decides.
"""

import hashlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Annotated, Any, Final
from uuid import UUID, uuid4

from fastapi import Depends, Header, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.caller import Caller
from app.auth.deps import CallerDep
from app.consent import service as consent_service
from app.consent.models import Consent
from app.decisions import facts
from app.decisions import guard as low
from app.decisions.guard import Allowed, Context, Declared, PurposeDep, Question, Subject, today
from app.documents import service as documents_service
from app.documents.models import Document
from app.notifications import service as notifications_service
from app.notifications.models import Notification
from app.nurseries import service as nurseries_service
from app.people import service as people_service
from app.people.models import Family
from app.people.service import PersonView
from app.platform import idempotency as idempotency_store
from app.platform.categories import categories_of
from app.platform.crypto import DecryptionFailed, FieldCipher, WrappedKey, get_key_ring
from app.platform.db import SessionDep, complete, statement_at_a_time
from app.platform.problems import NotFound, Unprocessable
from app.policy.model import RecordState
from app.policy.rules import OPERATION_PURPOSES
from app.policy.vocabulary import (
    Action,
    Category,
    ConsentType,
    Purpose,
    Reason,
    RecordKind,
    SubjectKind,
)
from app.relationships.models import Relationship
from app.retention.models import DestructionLog, LegalHold
from app.rights import service as rights_service
from app.rights.models import SubjectRequest


class From(StrEnum):
    """Where an operation's subject comes from."""

    NOBODY = "nobody"
    """No one subject: a list, a queue, a report, the trail."""
    PERSON = "person"
    """The path's `person_id`."""
    BODY_PERSON = "body_person"
    """A person the body names (`Spec.field`): 422 when there is none."""
    BODY_SUBJECT = "body_subject"
    """A person or a household the body names: 422 when there is neither."""
    HOUSEHOLD = "household"
    """The path's `family_id`: every member decided as a read of that person."""
    IDENTIFIER = "identifier"
    """The person an exact identifier in the query names (`nhs_number` or `upn`); none
    found is an empty answer, not a 404."""
    NEW_HOUSEHOLD = "new_household"
    """The household the request creates."""
    NEW_PERSON = "new_person"
    """The person the request creates (of the body's `kind`)."""
    CASE = "case"
    """The path's `request_id`: the subject request's subject."""
    CONSENT = "consent"
    """The path's `consent_id`: the consent's subject."""
    HOLD = "hold"
    """The path's `hold_id`: the legal hold's subject."""
    RELATIONSHIP = "relationship"
    """The path's `relationship_id`: the person whose relationship it is."""
    DOCUMENT = "document"
    """The path's `document_id`: the person it is about, decided for the document's own
    category."""
    NOTIFICATION = "notification"
    """The path's `notification_id`: an Art 19 notification's subject, whether or not the
    subject's record still exists."""
    QUERY_PERSON = "query_person"
    """The person the query's `patient` names (a FHIR search of a patient's records);
    none held is an empty answer, not a 404; one erased or destroyed is 410."""
    SEARCH = "search"
    """The people a search finds (`Spec.candidates`): each decided as a read of that
    person, the result set audited as one event naming every person returned."""


_PATHS: Final[Mapping[From, tuple[str, str]]] = {
    From.PERSON: ("person_id", "The person's id."),
    From.HOUSEHOLD: ("family_id", "The household's id."),
    From.CASE: ("request_id", "The case's id."),
    From.CONSENT: ("consent_id", "The consent's id."),
    From.HOLD: ("hold_id", "The legal hold's id."),
    From.RELATIONSHIP: ("relationship_id", "The relationship's id."),
    From.DOCUMENT: ("document_id", "The document's id."),
    From.NOTIFICATION: ("notification_id", "The notification's id."),
}
_NURSERY_PATH: Final = ("nursery_id", "The nursery's id (GET /v1/nurseries).")
_BODY_FROM: Final = frozenset({From.BODY_PERSON, From.BODY_SUBJECT})
_EMPTY_WHEN_NONE: Final = frozenset({From.IDENTIFIER, From.QUERY_PERSON, From.SEARCH})
"""Subjects a query names: none held is an empty answer (decided first, steps 2 and 3)."""
_NEW: Final = frozenset({From.NEW_HOUSEHOLD, From.NEW_PERSON})
_ONE_STATEMENT_READS: Final = frozenset({From.PERSON, From.IDENTIFIER})
"""Reads that write exactly one audit row, one INSERT (no subjects list beside it): run
statement at a time on PostgreSQL (`app.platform.db.statement_at_a_time`)."""


@dataclass(frozen=True, slots=True)
class Shape:
    """What a request's body adds to the question: the categories it holds, the record
    it writes, the recipient of a share, a dry run's action."""

    action: Action | None = None
    categories: frozenset[Category] | None = None
    record: RecordKind | None = None
    recipient: str | None = None
    recipient_consent_type: ConsentType | None = None
    live: bool | None = None
    """For a case: decide on the subject's live record (410 once erased)."""
    detail: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Listed:
    result: Any
    subjects: tuple[UUID, ...]


@dataclass(frozen=True, slots=True)
class Spec:
    """One operation's access, declared once."""

    operation: str
    """The OpenAPI operation id: the key of the rule tables' OPERATION_PURPOSES."""
    action: Action
    categories: frozenset[Category]
    resource: str
    subject: From = From.NOBODY
    body: type[BaseModel] | None = None
    field: str = "subject_id"
    """The body field naming the subject (BODY_PERSON, BODY_SUBJECT)."""
    also: str | None = None
    """A body field listing further people (or naming one), each decided as the subject
    is (all or none)."""
    related: str | None = None
    """A body field naming another person the request touches (a requester)."""
    record: RecordKind | None = None
    shape: Callable[[Any, Any], Shape] | None = None
    """From the body and the query: what they add to the question."""
    query: Callable[..., Any] | None = None
    """A dependency giving the operation's query parameters, validated before deciding."""
    listing: Callable[[Session, Any], "Listed"] | None = None
    """For a list: who is on it (each is recorded against the decision, so each one's
    access log shows the list); read before deciding, returned only if allowed."""
    detail: Callable[[Context, PersonView | None, Any], dict[str, Any] | None] | None = None
    live: bool = False
    """For a case: decide on the subject's live record (410 once erased)."""
    nursery: bool = False
    """The path names a nursery (`nursery_id`): 404 when unknown; an enrolment's target."""
    idempotent: bool = False
    commits_first: bool = False
    """Commit the decision here, before the endpoint runs: for a read that needs nothing
    beyond what the guard loaded (no second trip to the thread pool to commit), or one
    that reads long and writes nothing (so its audit event holds no write lock while it
    computes: SQLite has one writer)."""
    dry_run: bool = False
    """A denial is audited and handed to the endpoint, not raised."""
    invalid_reference: bool = True
    """A body naming an id never held is invalid input (422); False: 404."""
    versioned: bool = False
    """The resource carries a version: its answers carry `ETag`, and a write that changes
    it (`PUT`, `PATCH`) takes `If-Match` (`Access.if_match`): missing 428, stale 412."""
    if_match_required: bool = True
    """For a versioned write: False where a first write creates the resource and needs no
    tag (the per-person records); `If-Match` is then required once it exists."""
    alternatives: tuple[frozenset[Category], ...] = ()
    """The category sets a request may hold instead of `categories` (a document's own
    category, named in its form): the operation serves every purpose that reaches one."""
    candidates: Callable[[Session, Any], list[PersonView]] | None = None
    """For a SEARCH: the people the query finds, before any decision (the query gives
    the page's window as `offset` and `count`)."""
    fingerprint: Callable[[Any], str] | None = None
    """For a body the framework parses as a form: the request's hash for
    `Idempotency-Key`, from what `query` parsed (its file read once, never held whole)."""

    @property
    def takes_if_match(self) -> bool:
        return self.versioned and self.action is Action.WRITE and self.subject not in _NEW

    @property
    def served(self) -> frozenset[Purpose] | None:
        return OPERATION_PURPOSES.get(self.operation)


def spec(
    operation: str,
    action: Action,
    model: type[BaseModel] | frozenset[Category],
    resource: str,
    **options: Any,
) -> Spec:
    categories = model if isinstance(model, frozenset) else categories_of(model)
    return Spec(
        operation=operation, action=action, categories=categories, resource=resource, **options
    )


@dataclass(frozen=True, slots=True)
class Member:
    person: PersonView
    allowed: Allowed


@dataclass(slots=True)
class Access:
    """What an endpoint receives: the authorised subject and the allowance."""

    allowed: Allowed
    caller: Caller
    declared: Declared
    subject_id: UUID | None = None
    subject_kind: SubjectKind | None = None
    person: PersonView | None = None
    others: tuple[PersonView, ...] = ()
    family: Family | None = None
    members: tuple[Member, ...] = ()
    case: SubjectRequest | None = None
    consent: Consent | None = None
    hold: LegalHold | None = None
    relationship: Relationship | None = None
    document: Document | None = None
    notification: Notification | None = None
    nursery_id: UUID | None = None
    """The nursery the path names (an enrolment's)."""
    family_key: WrappedKey | None = None
    """For a household created under `safeguarding`: the data key its justification
    was sealed with, to become the household's key."""
    idempotency: idempotency_store.Idempotency | None = None
    query: Any = None
    listed: Any = None
    if_match: str | None = None
    """The request's `If-Match` (an operation that `takes_if_match`)."""
    total: int | None = None
    """For a SEARCH: how many of the people found were allowed (the page is a window)."""

    @property
    def categories(self) -> frozenset[Category]:
        return self.allowed.categories

    @property
    def decision_id(self) -> UUID:
        return self.allowed.decision_id

    def only(self, model: type[low.M], values: dict[str, Any]) -> low.M:
        return self.allowed.only(model, values)

    def the_person(self) -> PersonView:
        if self.person is None:
            raise AssertionError("this operation decides about a person")  # pragma: no cover
        return self.person

    def remember(self, session: Session, status_code: int, result: BaseModel) -> None:
        """Keep the answer for a retry with the same `Idempotency-Key`."""
        if self.idempotency is not None:
            self.idempotency.remember(session, status_code, result, subject_id=self.subject_id)


# --- loading subjects --------------------------------------------------------------


def gone_kind(session: Session, subject_id: UUID) -> SubjectKind | None:
    """The destruction log remembers that an id existed (and nothing else about it)."""
    kind = session.execute(
        select(DestructionLog.subject_kind).where(DestructionLog.subject_id == subject_id)
    ).scalar_one_or_none()
    return None if kind is None else SubjectKind(kind)


UNKNOWN: Final = RecordState(kind=SubjectKind.FAMILY, unknown=True)
"""An id the service never held: decided first (steps 2 and 3), so that a caller who
may not ask cannot learn whether it exists; then 404, or 422 for a body's reference."""


@dataclass(slots=True)
class _Loaded:
    subject: Subject
    person: PersonView | None = None
    family: Family | None = None
    case: SubjectRequest | None = None
    consent: Consent | None = None
    hold: LegalHold | None = None
    relationship: Relationship | None = None
    document: Document | None = None
    notification: Notification | None = None
    categories: frozenset[Category] | None = None
    """What the record itself says is asked (a document's category)."""


def _person(ctx: Context, person_id: UUID, action: Action) -> _Loaded:
    view = people_service.find(ctx.session, person_id)
    if view is None:
        kind = gone_kind(ctx.session, person_id)
        if kind is None:
            return _Loaded(Subject(None, UNKNOWN))
        return _Loaded(Subject(person_id, RecordState(kind=kind, gone=True)))
    return _viewed(ctx, view, action)


def _viewed(ctx: Context, view: PersonView, action: Action) -> _Loaded:
    state = facts.person_state(
        ctx.session,
        view,
        role=ctx.caller.role,
        purpose=ctx.declared.purpose,
        action=action,
        on=today(),
    )
    return _Loaded(
        Subject(view.id, state, sealed_justification=_seal(ctx, view.row.family_id)),
        person=view,
    )


def _household_record(ctx: Context, family_id: UUID) -> _Loaded:
    family = people_service.get_family(ctx.session, family_id)
    if family is None:
        kind = gone_kind(ctx.session, family_id)
        if kind is None:
            return _Loaded(Subject(None, UNKNOWN))
        return _Loaded(Subject(family_id, RecordState(kind=kind, gone=True)))
    state = RecordState(kind=SubjectKind.FAMILY, destruction_date=family.destroy_on)
    return _Loaded(
        Subject(family.id, state, sealed_justification=_seal(ctx, family.id)), family=family
    )


def _seal(ctx: Context, family_id: UUID, cipher: FieldCipher | None = None) -> str | None:
    """A safeguarding justification (often police information) is kept in the trail
    encrypted under the subject's household key: when the household goes, so does it."""
    justification = ctx.declared.justification
    if justification is None:
        return None
    if cipher is None:
        cipher = people_service.cipher_for_family(ctx.session, family_id, get_key_ring())
    return cipher.encrypt(justification, aad=justification_aad(family_id))


def justification_aad(family_id: UUID) -> str:
    return f"audit_event:justification:{family_id}"


def read_justification(session: Session, sealed: str | None, subject_id: UUID | None) -> str | None:
    """The justification of a decision, for the officer's review; None once the subject's
    household key is gone (erased or destroyed)."""
    if sealed is None or subject_id is None:
        return None
    family_id = people_service.family_of(session, subject_id)
    if family_id is None:
        return None
    try:
        cipher = people_service.cipher_for_family(session, family_id, get_key_ring())
        return cipher.decrypt(sealed, aad=justification_aad(family_id))
    except (NotFound, DecryptionFailed):
        return None


def _load(
    ctx: Context,
    spec: Spec,
    ids: dict[str, Any],
    body: Any,
    query: Any,
    shape: Shape,
    action: Action,
) -> _Loaded:
    session = ctx.session
    match spec.subject:
        case From.NOBODY:
            return _Loaded(Subject(None))
        case From.PERSON:
            return _person(ctx, ids["person_id"], action)
        case From.BODY_PERSON:
            return _person(ctx, getattr(body, spec.field), action)
        case From.BODY_SUBJECT:
            subject_id = getattr(body, spec.field)
            loaded = _person(ctx, subject_id, action)
            if loaded.subject.state.unknown:
                return _household_record(ctx, subject_id)
            return loaded
        case From.HOUSEHOLD:
            return _household_record(ctx, ids["family_id"])
        case From.QUERY_PERSON:
            if query.patient is None:
                return _Loaded(Subject(None, UNKNOWN))
            return _person(ctx, query.patient, action)
        case From.IDENTIFIER:
            view = people_service.find_by_identifier(
                session, nhs_number=query.nhs_number, upn=query.upn
            )
            return _Loaded(Subject(None, UNKNOWN)) if view is None else _viewed(ctx, view, action)
        case From.CASE:
            case = rights_service.get(session, ids["request_id"])
            if case is None:
                return _Loaded(Subject(None, UNKNOWN))
            related = (case.requester_id,) if case.requester_id != case.subject_id else ()
            if spec.live if shape.live is None else shape.live:
                loaded = _person(ctx, case.subject_id, action)
                if loaded.subject.state.unknown:
                    loaded.subject = Subject(
                        case.subject_id, RecordState(kind=SubjectKind(case.subject_kind), gone=True)
                    )
            else:
                state = RecordState(kind=SubjectKind(case.subject_kind))
                loaded = _Loaded(Subject(case.subject_id, state))
            loaded.subject = replace(loaded.subject, related_ids=related)
            loaded.case = case
            return loaded
        case From.CONSENT:
            consent = consent_service.get(session, ids["consent_id"])
            if consent is None:
                return _Loaded(Subject(None, UNKNOWN))
            loaded = _person(ctx, consent.subject_id, action)
            loaded.consent = consent
            return loaded
        case From.HOLD:
            hold = session.get(LegalHold, ids["hold_id"])
            if hold is None:
                return _Loaded(Subject(None, UNKNOWN))
            state = RecordState(kind=SubjectKind(hold.subject_kind))
            return _Loaded(Subject(hold.subject_id, state), hold=hold)
        case From.RELATIONSHIP:
            relationship = session.get(Relationship, ids["relationship_id"])
            if relationship is None:
                return _Loaded(Subject(None, UNKNOWN))
            loaded = _person(ctx, relationship.person_id, action)
            loaded.relationship = relationship
            return loaded
        case From.DOCUMENT:
            document = session.get(Document, ids["document_id"])
            if document is None:
                return _Loaded(Subject(None, UNKNOWN))
            loaded = _person(ctx, document.person_id, action)
            if loaded.person is not None:
                # A document is decided by its content's category, not by every
                # category a document may hold.
                category = documents_service.category_of(
                    session, document, loaded.person.row.family_id, get_key_ring()
                )
                loaded.categories = frozenset({category})
            loaded.document = document
            return loaded
        case From.NOTIFICATION:
            notification = notifications_service.get(session, ids["notification_id"])
            if notification is None:
                return _Loaded(Subject(None, UNKNOWN))
            state = RecordState(kind=SubjectKind(notification.subject_kind))
            return _Loaded(Subject(notification.subject_id, state), notification=notification)
        case From.NEW_HOUSEHOLD | From.NEW_PERSON | From.SEARCH:
            raise AssertionError("decided by _new or _search")  # pragma: no cover


# --- deciding ----------------------------------------------------------------------


def _shape(spec: Spec, body: Any, query: Any = None) -> Shape:
    return spec.shape(body, query) if spec.shape is not None else Shape()


def _question(
    spec: Spec,
    ctx: Context,
    body: Any,
    view: PersonView | None,
    shape: Shape,
    target_nursery_id: UUID | None = None,
) -> Question:
    detail = dict(shape.detail or {})
    if spec.detail is not None:
        detail.update(spec.detail(ctx, view, body) or {})
    return Question(
        action=shape.action or spec.action,
        categories=shape.categories if shape.categories is not None else spec.categories,
        resource=spec.resource,
        record=shape.record or spec.record,
        served=spec.served,
        recipient=shape.recipient,
        recipient_consent_type=shape.recipient_consent_type,
        detail=detail or None,
        target_nursery_id=target_nursery_id,
    )


def _not_found(spec: Spec) -> Exception:
    if spec.subject in _BODY_FROM and spec.invalid_reference:
        return Unprocessable(spec.field, _NOT_FOUND_IN_BODY[spec.subject])
    return NotFound(_NOT_FOUND.get(spec.subject, "No person with this id."))


_NOT_FOUND: Final[Mapping[From, str]] = {
    From.PERSON: "No person with this id.",
    From.HOUSEHOLD: "No household with this id.",
    From.CASE: "No subject request with this id.",
    From.CONSENT: "No consent with this id.",
    From.HOLD: "No legal hold with this id.",
    From.RELATIONSHIP: "No relationship with this id.",
    From.DOCUMENT: "No document with this id.",
    From.NOTIFICATION: "No notification with this id.",
}
_NOT_FOUND_IN_BODY: Final[Mapping[From, str]] = {
    From.BODY_PERSON: "no person with this id",
    From.BODY_SUBJECT: "no person or household with this id",
}


def _decide(ctx: Context, spec: Spec, question: Question, subject: Subject) -> Allowed:
    allowed = low.decide(ctx, question, subject, raise_on_denial=False)
    if allowed.decision.reason is Reason.NOT_FOUND:
        if spec.subject in _EMPTY_WHEN_NONE:
            return allowed
        raise _not_found(spec)
    if not allowed.decision.allowed and not spec.dry_run:
        low.raise_denial(allowed)
    return allowed


def _decide_spec(
    ctx: Context, spec: Spec, ids: dict[str, Any], body: Any, query: Any = None
) -> Access:
    session = ctx.session
    if spec.nursery and nurseries_service.get(session, ids["nursery_id"]) is None:
        raise NotFound("No maintained nursery with this id.")
    if spec.subject is From.HOUSEHOLD:
        return _household(ctx, spec, ids["family_id"])
    if spec.subject is From.SEARCH:
        return _search(ctx, spec, query)
    if spec.subject in _NEW:
        return _new(ctx, spec, body, None)
    shape = _shape(spec, body, query)
    loaded = _load(ctx, spec, ids, body, query, shape, shape.action or spec.action)
    if loaded.categories is not None:
        shape = replace(shape, categories=loaded.categories)
    subject = loaded.subject
    if spec.related is not None and body is not None:
        other = getattr(body, spec.related)
        if other != subject.id:
            subject = replace(subject, related_ids=(other,))
    listed = spec.listing(session, query) if spec.listing is not None else None
    if listed is not None:
        subject = replace(subject, related_ids=listed.subjects)
    question = _question(spec, ctx, body, loaded.person, shape, ids.get("nursery_id"))
    allowed = _decide(ctx, spec, question, subject)
    others = _also(ctx, spec, body, question, subject.id)
    return Access(
        allowed=allowed,
        caller=ctx.caller,
        declared=ctx.declared,
        subject_id=subject.id,
        subject_kind=subject.state.kind if subject.id is not None else None,
        person=loaded.person,
        others=others,
        family=loaded.family,
        case=loaded.case,
        consent=loaded.consent,
        hold=loaded.hold,
        relationship=loaded.relationship,
        document=loaded.document,
        notification=loaded.notification,
        nursery_id=ids.get("nursery_id"),
        query=query,
        listed=None if listed is None else listed.result,
    )


def _also(
    ctx: Context, spec: Spec, body: Any, question: Question, subject_id: UUID | None
) -> tuple[PersonView, ...]:
    """Further people a request covers (a household form for several children): each is
    a subject of its own, decided and audited; the headers keep the subject's decision."""
    if spec.also is None or body is None:
        return ()
    named = getattr(body, spec.also)
    if not isinstance(named, list | tuple):
        named = () if named is None else (named,)
    found: list[PersonView] = []
    for person_id in dict.fromkeys(named):
        if person_id == subject_id:
            continue
        loaded = _person(ctx, person_id, question.action)
        allowed = low.decide(ctx, question, loaded.subject, raise_on_denial=False, headers=False)
        if allowed.decision.reason is Reason.NOT_FOUND:
            raise Unprocessable(spec.also, "no person with this id")
        if not allowed.decision.allowed:
            low.raise_denial(allowed)
        assert loaded.person is not None
        found.append(loaded.person)
    return tuple(found)


def _new(ctx: Context, spec: Spec, body: Any, existing: UUID | None) -> Access:
    """A create: decided about the record it makes. A replay (`existing`) is decided
    about the record the first call made, as it stands now."""
    kind = SubjectKind.FAMILY if spec.subject is From.NEW_HOUSEHOLD else SubjectKind(body.kind)
    if existing is not None:
        if kind is SubjectKind.FAMILY:
            loaded = _household_record(ctx, existing)
        else:
            loaded = _person(ctx, existing, spec.action)
        question = _question(spec, ctx, body, loaded.person, _shape(spec, body))
        allowed = _decide(ctx, spec, question, loaded.subject)
        return Access(
            allowed=allowed, caller=ctx.caller, declared=ctx.declared, subject_id=existing
        )
    new_id = uuid4()
    family_key: WrappedKey | None = None
    sealed: str | None = None
    if ctx.declared.justification is not None:
        keys = get_key_ring()
        if kind is SubjectKind.FAMILY:
            family_key = keys.new_wrapped_key()
            sealed = _seal(ctx, new_id, keys.cipher_for(*family_key))
        else:
            sealed = _seal_or_none(ctx, body.family_id)
    subject = Subject(new_id, RecordState(kind=kind), sealed_justification=sealed)
    allowed = _decide(ctx, spec, _question(spec, ctx, body, None, _shape(spec, body)), subject)
    return Access(
        allowed=allowed,
        caller=ctx.caller,
        declared=ctx.declared,
        subject_id=new_id,
        subject_kind=kind,
        family_key=family_key,
    )


def _seal_or_none(ctx: Context, family_id: UUID) -> str | None:
    try:
        return _seal(ctx, family_id)
    except NotFound:
        return None


def _household(ctx: Context, spec: Spec, family_id: UUID) -> Access:
    """DOMAIN.md: a household read is a read of each member, each decided exactly as a
    read of that person; denied only when every member is."""
    loaded = _household_record(ctx, family_id)
    family = loaded.family
    members = [] if family is None else people_service.members(ctx.session, family.id)
    if family is None or not members:
        # Gone, never held, or no member yet: decided on the household's own record.
        allowed = _decide(ctx, spec, _question(spec, ctx, None, None, Shape()), loaded.subject)
        return Access(
            allowed=allowed,
            caller=ctx.caller,
            declared=ctx.declared,
            subject_id=loaded.subject.id,
            subject_kind=SubjectKind.FAMILY,
            family=family,
        )
    on = today()
    purpose = ctx.declared.purpose
    plan = facts.plan_matters(purpose) and facts.household_plan(ctx.session, family.id, on)
    cipher = None
    if ctx.declared.justification is not None:
        cipher = people_service.cipher_for_family(ctx.session, family.id, get_key_ring())
    question = replace(
        _question(spec, ctx, None, None, Shape()), detail={"family_id": str(family.id)}
    )
    decided: list[Member] = []
    for view in members:
        state = facts.person_state(
            ctx.session,
            view,
            role=ctx.caller.role,
            purpose=purpose,
            action=spec.action,
            on=on,
            plan=plan,
        )
        subject = Subject(
            view.id, state, sealed_justification=_seal(ctx, family.id, cipher) if cipher else None
        )
        decided.append(
            Member(view, low.decide(ctx, question, subject, raise_on_denial=False, headers=False))
        )
    returned = [m for m in decided if m.allowed.decision.allowed]
    first = returned[0] if returned else decided[0]
    ctx.request.state.decision_id = first.allowed.decision_id
    ctx.response.headers["X-Decision-Id"] = str(first.allowed.decision_id)
    if not returned:
        low.raise_denial(first.allowed)
    reached = frozenset().union(*(m.allowed.categories for m in returned))
    bases = {b.value: None for m in returned for b in m.allowed.decision.basis_codes}
    ctx.response.headers["X-Lawful-Basis"] = ",".join(bases)
    withheld = spec.categories - reached
    if withheld:
        ctx.response.headers["X-Withheld-Categories"] = ",".join(sorted(c.value for c in withheld))
    return Access(
        allowed=first.allowed,
        caller=ctx.caller,
        declared=ctx.declared,
        subject_id=family.id,
        subject_kind=SubjectKind.FAMILY,
        family=family,
        members=tuple(decided),
    )


def _search(ctx: Context, spec: Spec, query: Any) -> Access:
    """Everyone the search finds, each decided exactly as a read of that person (their
    consents, the household's plans, enrolment, restriction, objection, retention), as
    one audited result set; the allowed ones returned in the query's window. Denied
    (403) only when every person found is; none found is decided on no record (steps 2
    and 3) and answered empty."""
    assert spec.candidates is not None
    found = spec.candidates(ctx.session, query)
    question = _question(spec, ctx, None, None, Shape())
    if not found:
        allowed = _decide(ctx, spec, question, Subject(None, UNKNOWN))
        return Access(
            allowed=allowed, caller=ctx.caller, declared=ctx.declared, query=query, total=0
        )
    subjects = [_viewed(ctx, view, spec.action).subject for view in found]
    window = slice(query.offset, query.offset + query.count)
    result = low.decide_set(ctx, question, subjects, window)
    members = tuple(
        Member(found[index], Allowed(result.decisions[index], result.decision_id))
        for index in result.page
    )
    first = members[0].allowed if members else Allowed(result.decisions[0], result.decision_id)
    return Access(
        allowed=first,
        caller=ctx.caller,
        declared=ctx.declared,
        subject_id=found[0].id if len(found) == 1 else None,
        members=members,
        query=query,
        total=result.total,
    )


# --- the dependency ----------------------------------------------------------------


def _work(
    ctx: Context,
    spec: Spec,
    ids: dict[str, Any],
    body: Any,
    query: Any,
    idempotency: idempotency_store.Idempotency | None,
    if_match: str | None = None,
) -> Access:
    if spec.commits_first and spec.subject in _ONE_STATEMENT_READS:
        statement_at_a_time(ctx.session)
    stored = idempotency.stored(ctx.session) if idempotency is not None else None
    if spec.subject in _NEW and stored is not None:
        access = _new(ctx, spec, body, stored.subject_id)
    else:
        access = _decide_spec(ctx, spec, ids, body, query)
    if stored is not None:
        # A replay is decided and audited like the first call, and answered only when
        # the decision allows it.
        raise idempotency_store.Replay(stored.response(ctx.response.headers))
    access.idempotency = idempotency
    access.if_match = if_match
    if spec.commits_first:
        audit_service.write_deferred(ctx.session)
        complete(ctx.session)
    return access


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag from your last read of this resource; a stale one is 412.",
    ),
]


DECLARED: Final[dict[str, Spec]] = {}
"""Every operation's declared access, by operation id (filled as the routers load)."""


def access(spec: Spec) -> Callable[..., Any]:
    """The dependency for `spec`; its signature declares what FastAPI must validate
    (path ids, the body, `Idempotency-Key`) before anything is decided."""

    async def dependency(**values: Any) -> Access:
        request: Request = values["request"]
        ctx = Context(
            session=values["session"],
            request=request,
            response=values["response"],
            caller=values["caller"],
            declared=values["declared"],
        )
        ids = {name: values[name] for name, _ in _path_params(spec)}
        body = values.get("body")
        idempotency = None
        if spec.idempotent:
            if spec.fingerprint is not None:
                request_hash = spec.fingerprint(values.get("query"))
            else:
                request_hash = hashlib.sha256(await request.body()).hexdigest()
            idempotency = idempotency_store.Idempotency(
                key=values["idempotency_key"],
                caller_sub=ctx.caller.sub,
                method=request.method,
                path=request.url.path,
                request_hash=request_hash,
            )
        # One hop to the thread pool for all of the guard's database work.
        query = values.get("query")
        return await run_in_threadpool(
            _work, ctx, spec, ids, body, query, idempotency, values.get("if_match")
        )

    DECLARED[spec.operation] = spec
    dependency.__signature__ = _signature(spec)  # type: ignore[attr-defined]
    dependency.__name__ = f"access_{spec.operation}"
    return dependency


def declare(
    operation: str,
    action: Action,
    model: type[BaseModel] | frozenset[Category],
    resource: str,
    **options: Any,
) -> Any:
    """An operation's declared access, for its signature:
    `Annotated[Access, declare("read_person", Action.READ, PersonRead, "person", ...)]`."""
    return Depends(access(spec(operation, action, model, resource, **options)))


def _path_params(spec: Spec) -> list[tuple[str, str]]:
    """The path's ids the operation names: (name, description)."""
    paths = [_PATHS[spec.subject]] if spec.subject in _PATHS else []
    if spec.nursery:
        paths.append(_NURSERY_PATH)
    return paths


def _signature(spec: Spec) -> inspect.Signature:
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = []
    for name, description in _path_params(spec):
        params.append(
            inspect.Parameter(
                name, keyword, annotation=Annotated[UUID, Path(description=description)]
            )
        )
    if spec.body is not None:
        params.append(inspect.Parameter("body", keyword, annotation=spec.body))
    # The token and the purpose are resolved before the query's own checks: a call
    # without a token is 401 whatever its query holds.
    params += [
        inspect.Parameter("request", keyword, annotation=Request),
        inspect.Parameter("response", keyword, annotation=Response),
        inspect.Parameter("caller", keyword, annotation=CallerDep),
        inspect.Parameter("declared", keyword, annotation=PurposeDep),
    ]
    if spec.query is not None:
        params.append(
            inspect.Parameter("query", keyword, annotation=Annotated[Any, Depends(spec.query)])
        )
    params.append(inspect.Parameter("session", keyword, annotation=SessionDep))
    if spec.takes_if_match:
        params.append(inspect.Parameter("if_match", keyword, annotation=IfMatch, default=None))
    if spec.idempotent:
        params.append(
            inspect.Parameter(
                "idempotency_key",
                keyword,
                annotation=idempotency_store.KeyHeader,
                default=None,
            )
        )
    return inspect.Signature(params, return_annotation=Access)
