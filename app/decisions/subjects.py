"""Guard dependencies for the subjects a request names: a person, a household.

Each factory builds one FastAPI dependency per endpoint: it loads the subject (in
the same query the endpoint needs), decides, audits, and hands the endpoint the
subject together with the allowance.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import unit_of_work
from app.auth.caller import Caller
from app.auth.deps import CallerDep
from app.decisions import facts
from app.decisions.guard import Allowed, Declared, PurposeDep, Subject, check, today
from app.people import service as people_service
from app.people.models import Family
from app.people.service import PersonView
from app.platform.categories import categories_of
from app.platform.db import SessionDep
from app.platform.problems import NotFound
from app.policy.model import RecordState
from app.policy.vocabulary import Action, Category, ConsentType, SubjectKind
from app.retention.models import DestructionLog

PersonId = Annotated[UUID, Path(description="The person's id.")]
FamilyId = Annotated[UUID, Path(description="The household's id.")]


@dataclass(frozen=True, slots=True)
class PersonAccess:
    person: PersonView
    allowed: Allowed


@dataclass(frozen=True, slots=True)
class FamilyAccess:
    family: Family
    allowed: Allowed


def gone_kind(session: Session, subject_id: UUID) -> SubjectKind | None:
    """The destruction log remembers that an id existed (and nothing else about it)."""
    kind = session.execute(
        select(DestructionLog.subject_kind).where(DestructionLog.subject_id == subject_id)
    ).scalar_one_or_none()
    return None if kind is None else SubjectKind(kind)


def person_subject(
    session: Session,
    caller: Caller,
    declared: Declared,
    person_id: UUID,
    *,
    action: Action,
) -> tuple[PersonView | None, Subject]:
    """The person and the facts a decision about them can turn on.

    A gone person (erased or destroyed) comes back as None with a `gone` state; an id
    the service never held is 404.
    """
    view = people_service.find(session, person_id)
    if view is None:
        kind = gone_kind(session, person_id)
        if kind is None:
            raise NotFound("No person with this id.")
        return None, Subject(person_id, RecordState(kind=kind, gone=True))
    state = facts.person_state(
        session,
        person_id=view.id,
        kind=view.kind,
        destruction_date=view.destruction_date,
        restricted=bool(view.row.restricted),
        objection_upheld=bool(view.row.objection_upheld),
        role=caller.role,
        purpose=declared.purpose,
        action=action,
        on=today(),
    )
    return view, Subject(view.id, state)


def decide_for_person(
    session: Session,
    request: Request,
    response: Response,
    caller: Caller,
    declared: Declared,
    person_id: UUID,
    *,
    action: Action,
    categories: frozenset[Category],
    resource: str,
    recipient: str | None = None,
    recipient_consent_type: ConsentType | None = None,
    detail: dict[str, Any] | None = None,
) -> PersonAccess:
    view, subject = person_subject(session, caller, declared, person_id, action=action)
    allowed = check(
        session,
        request,
        response,
        caller,
        declared,
        action=action,
        categories=categories,
        resource=resource,
        subject=subject,
        recipient=recipient,
        recipient_consent_type=recipient_consent_type,
        detail=detail,
    )
    if view is None:
        raise AssertionError("a gone record is never allowed")  # pragma: no cover
    return PersonAccess(person=view, allowed=allowed)


def _decide_and_complete(
    session: Session,
    request: Request,
    response: Response,
    caller: Caller,
    declared: Declared,
    person_id: UUID,
    *,
    action: Action,
    categories: frozenset[Category],
    resource: str,
) -> PersonAccess:
    access = decide_for_person(
        session,
        request,
        response,
        caller,
        declared,
        person_id,
        action=action,
        categories=categories,
        resource=resource,
    )
    unit_of_work.complete(session)
    return access


def person_guard(
    action: Action, model: type[BaseModel], resource: str, *, completes_read: bool = False
) -> Callable[..., Awaitable[PersonAccess]]:
    """A dependency deciding `action` on the categories of `model` for the path's person.

    `completes_read`: the endpoint reads nothing beyond the row the guard loaded, so
    the read and its audit event are committed together here, in the guard's one trip
    to the thread pool, and the request needs no second trip to commit.
    """
    categories = categories_of(model)
    decide = _decide_and_complete if completes_read else decide_for_person

    async def guard(
        person_id: PersonId,
        request: Request,
        response: Response,
        caller: CallerDep,
        declared: PurposeDep,
        session: SessionDep,
    ) -> PersonAccess:
        # One hop to the thread pool for all of the guard's database work.
        return await run_in_threadpool(
            decide,
            session,
            request,
            response,
            caller,
            declared,
            person_id,
            action=action,
            categories=categories,
            resource=resource,
        )

    return guard


def family_guard(
    action: Action, model: type[BaseModel], resource: str
) -> Callable[..., FamilyAccess]:
    categories = categories_of(model)

    def guard(
        family_id: FamilyId,
        request: Request,
        response: Response,
        caller: CallerDep,
        declared: PurposeDep,
        session: SessionDep,
    ) -> FamilyAccess:
        family = people_service.get_family(session, family_id)
        if family is None:
            if gone_kind(session, family_id) is None:
                raise NotFound("No household with this id.")
            check(
                session,
                request,
                response,
                caller,
                declared,
                action=action,
                categories=categories,
                resource=resource,
                subject=Subject(family_id, RecordState(kind=SubjectKind.FAMILY, gone=True)),
            )
            raise AssertionError("a gone record is never allowed")  # pragma: no cover
        state = RecordState(kind=SubjectKind.FAMILY, destruction_date=family.destroy_on)
        allowed = check(
            session,
            request,
            response,
            caller,
            declared,
            action=action,
            categories=categories,
            resource=resource,
            subject=Subject(family.id, state),
        )
        return FamilyAccess(family=family, allowed=allowed)

    return guard
