"""The low-level guard: one decision, asked of the engine, written to the trail.

`decide` is the only caller of the engine outside the policy package, and the only
writer of decision events: it builds the Ask from the caller and the declared purpose,
takes the subject's facts as loaded by `app.decisions.facts`, records the event in the
request's transaction, sets the decision headers and raises `Denied` or `Gone`. It knows
no domain: which facts a decision needs, and where they come from, is the access layer's
(`app.decisions.access`).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Final, TypeVar
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.caller import Caller
from app.platform import categories as category_tags
from app.platform import metrics
from app.platform.problems import BadRequest, Gone, Problem
from app.policy import engine
from app.policy.model import Ask, Decision, RecordState
from app.policy.vocabulary import (
    Action,
    Category,
    ConsentType,
    Purpose,
    Reason,
    RecordKind,
    SubjectKind,
)

LONDON = ZoneInfo("Europe/London")
M = TypeVar("M", bound=BaseModel)


def today() -> date:
    """Dates of the rules are UK local dates."""
    return datetime.now(LONDON).date()


@dataclass(frozen=True, slots=True)
class Declared:
    purpose: Purpose
    justification: str | None


_PURPOSES = ", ".join(p.value for p in Purpose)


async def declared_purpose(
    x_purpose: Annotated[
        str | None,
        Header(
            alias="X-Purpose",
            description="Why the caller processes this data: one of the purposes of the "
            "policy (GET /v1/policy). Required; missing or unknown is 400.",
            json_schema_extra={"enum": [p.value for p in Purpose]},
        ),
    ] = None,
    x_justification: Annotated[
        str | None,
        Header(
            alias="X-Justification",
            max_length=2000,
            description="Free text; required (at least 20 characters) for `safeguarding`.",
        ),
    ] = None,
) -> Declared:
    if not x_purpose:
        raise BadRequest(f"X-Purpose is required: one of {_PURPOSES}")
    try:
        purpose = Purpose(x_purpose.strip())
    except ValueError:
        raise BadRequest(f"X-Purpose is not a known purpose: use one of {_PURPOSES}") from None
    justification = x_justification.strip() if x_justification else None
    return Declared(purpose=purpose, justification=justification or None)


PurposeDep = Annotated[Declared, Depends(declared_purpose)]


class Denied(Problem):
    status = 403
    code = "denied"
    title = "Denied by the lawful-basis check"

    def __init__(self, decision: Decision, decision_id: UUID) -> None:
        super().__init__(
            _DENIAL_DETAIL.get(decision.reason, decision.reason.value),
            extra={"reason": decision.reason.value, "decision_id": str(decision_id)},
        )
        self.code = decision.reason.value  # type: ignore[misc]


_DENIAL_DETAIL: dict[Reason, str] = {
    Reason.PURPOSE_NOT_PERMITTED: "The caller's role may not use this purpose for this data.",
    Reason.OUT_OF_SCOPE: "The record is outside the caller's scope.",
    Reason.RETENTION_EXPIRED: "The record is past its destruction date.",
    Reason.PROCESSING_RESTRICTED: "Processing of this record is restricted (Art 18).",
    Reason.OBJECTION_UPHELD: "The subject's objection was upheld (Art 21).",
    Reason.JUSTIFICATION_REQUIRED: "Safeguarding needs X-Justification of at least 20 characters.",
    Reason.CONSENT_REQUIRED: "This purpose needs an active consent covering the data asked for.",
    Reason.CONSENT_WITHDRAWN: "The consent this purpose needs was withdrawn.",
}


@dataclass(frozen=True, slots=True)
class Allowed:
    decision: Decision
    decision_id: UUID

    @property
    def categories(self) -> frozenset[Category]:
        return self.decision.allowed_categories

    def only(self, model: type[M], values: dict[str, Any]) -> M:
        return category_tags.only(model, values, self.decision.allowed_categories)


NOBODY: Final = RecordState(kind=SubjectKind.FAMILY)
"""The engine's record for a decision about no one subject (a list, a queue, a report)."""


@dataclass(frozen=True, slots=True)
class Subject:
    """Whom a decision is about, with the facts loaded for it; `id` None: no one subject."""

    id: UUID | None
    state: RecordState = NOBODY
    related_ids: tuple[UUID, ...] = ()
    sealed_justification: str | None = None
    """The justification as the trail keeps it: encrypted under the subject's household
    key, so that erasure or destruction leaves it unreadable."""


@dataclass(frozen=True, slots=True)
class Context:
    """The request a decision is made for."""

    session: Session
    request: Request
    response: Response
    caller: Caller
    declared: Declared


@dataclass(frozen=True, slots=True)
class Question:
    """What is asked, besides who asks and about whom."""

    action: Action
    categories: frozenset[Category]
    resource: str
    record: RecordKind | None = None
    served: frozenset[Purpose] | None = None
    recipient: str | None = None
    recipient_consent_type: ConsentType | None = None
    target_nursery_id: UUID | None = None
    detail: dict[str, Any] | None = field(default=None)


def _ask(ctx: Context, question: Question) -> Ask:
    caller, declared = ctx.caller, ctx.declared
    return Ask(
        role=caller.role,
        org=caller.org,
        purpose=declared.purpose,
        action=question.action,
        categories=question.categories,
        on=today(),
        justification=declared.justification,
        nursery_id=caller.nursery_id,
        recipient=question.recipient,
        recipient_consent_type=question.recipient_consent_type,
        record=question.record,
        served=question.served,
        target_nursery_id=question.target_nursery_id,
    )


def decide(
    ctx: Context,
    question: Question,
    subject: Subject,
    *,
    raise_on_denial: bool = True,
    headers: bool = True,
) -> Allowed:
    """Decide, audit, set headers; return the allowance or raise.

    `raise_on_denial=False` is the dry run's and the household read's: a denial (`gone`
    included) is audited and returned like an allowance, so read `.decision.allowed`.
    `headers=False` leaves the response's headers to the caller (a household read
    answers for several decisions).
    """
    caller, declared = ctx.caller, ctx.declared
    ask = _ask(ctx, question)
    decision = engine.decide(ask, subject.state)
    metrics.observe_decision(
        declared.purpose.value, allowed=decision.allowed, reason=decision.reason.value
    )
    decision_id = audit_service.record(
        ctx.session,
        audit_service.EventDraft(
            actor_sub=caller.sub,
            actor_role=caller.role.value,
            actor_org=caller.org,
            actor_nursery_id=caller.nursery_id,
            purpose=declared.purpose.value,
            action=question.action.value,
            resource=question.resource,
            subject_id=subject.id,
            subject_kind=subject.state.kind.value if subject.id is not None else None,
            related_ids=subject.related_ids if decision.allowed else (),
            categories_asked=(c.value for c in question.categories),
            categories_granted=(c.value for c in decision.allowed_categories),
            allowed=decision.allowed,
            reason=decision.reason.value,
            bases=(b.value for b in decision.basis_codes),
            justification=subject.sealed_justification,
            review_required=decision.review_required,
            request_id=request_id(ctx.request),
            detail=question.detail,
        ),
    )
    if headers:
        ctx.request.state.decision_id = decision_id
        ctx.response.headers["X-Decision-Id"] = str(decision_id)
    allowed = Allowed(decision=decision, decision_id=decision_id)
    if not decision.allowed:
        if not raise_on_denial:
            return allowed
        raise_denial(allowed)
    if headers:
        set_allowed_headers(ctx.response, decision)
    return allowed


def request_id(request: Request) -> str:
    """The id the edge gave the request (the caller's, when it is one the trail can keep)."""
    found = getattr(request.state, "request_id", None)
    return found if isinstance(found, str) else uuid4().hex


def raise_denial(allowed: Allowed) -> None:
    if allowed.decision.reason is Reason.GONE:
        raise Gone()
    raise Denied(allowed.decision, allowed.decision_id)


def set_allowed_headers(response: Response, decision: Decision) -> None:
    response.headers["X-Lawful-Basis"] = ",".join(b.value for b in decision.basis_codes)
    withheld = decision.withheld_categories
    if withheld:
        response.headers["X-Withheld-Categories"] = ",".join(sorted(c.value for c in withheld))


@dataclass(frozen=True, slots=True)
class SetDecision:
    """A search's decisions: one per person found, written as one audit event."""

    decision_id: UUID
    decisions: tuple[Decision, ...]
    """In the order of the subjects asked about."""
    page: tuple[int, ...]
    """The indices of the subjects returned: the allowed ones, in order, in the window."""
    total: int
    """How many were allowed in all (the page is a window onto them)."""


def decide_set(
    ctx: Context, question: Question, subjects: Sequence[Subject], window: slice
) -> SetDecision:
    """Decide each subject exactly as a read of that subject (its own facts), and write
    one audit event for the result set: it names every subject returned (and, when the
    search found one person, that person as its subject), the categories granted and
    the bases relied on across them, and counts those left out by reason, naming none.
    Sets the headers; raises the first denial when every subject found is denied.
    """
    ask = _ask(ctx, question)
    decisions = tuple(engine.decide(ask, subject.state) for subject in subjects)
    allowed = [index for index, decision in enumerate(decisions) if decision.allowed]
    page = tuple(allowed[window])
    shown = [decisions[index] for index in page] or [decisions[index] for index in allowed]
    left_out: dict[str, int] = {}
    for decision in decisions:
        if not decision.allowed:
            left_out[decision.reason.value] = left_out.get(decision.reason.value, 0) + 1
    first = shown[0] if shown else decisions[0]
    granted = frozenset().union(*(d.allowed_categories for d in shown))
    bases = tuple(dict.fromkeys(b for d in shown for b in d.basis_codes))
    sole = subjects[0] if len(subjects) == 1 else None
    caller, declared = ctx.caller, ctx.declared
    for decision in decisions:
        metrics.observe_decision(
            declared.purpose.value, allowed=decision.allowed, reason=decision.reason.value
        )
    decision_id = audit_service.record(
        ctx.session,
        audit_service.EventDraft(
            actor_sub=caller.sub,
            actor_role=caller.role.value,
            actor_org=caller.org,
            actor_nursery_id=caller.nursery_id,
            purpose=declared.purpose.value,
            action=question.action.value,
            resource=question.resource,
            subject_id=sole.id if sole is not None else None,
            subject_kind=sole.state.kind.value if sole is not None else None,
            related_ids=tuple(
                subject_id for index in page if (subject_id := subjects[index].id) is not None
            ),
            categories_asked=(c.value for c in question.categories),
            categories_granted=(c.value for c in granted),
            allowed=bool(allowed),
            reason=first.reason.value,
            bases=(b.value for b in bases),
            justification=sole.sealed_justification if sole is not None else None,
            review_required=any(d.review_required for d in shown),
            request_id=request_id(ctx.request),
            detail={
                **(question.detail or {}),
                "found": len(subjects),
                "allowed": len(allowed),
                "returned": len(page),
                **({"left_out": left_out} if left_out else {}),
            },
        ),
    )
    ctx.request.state.decision_id = decision_id
    ctx.response.headers["X-Decision-Id"] = str(decision_id)
    if not allowed:
        raise_denial(Allowed(decision=first, decision_id=decision_id))
    ctx.response.headers["X-Lawful-Basis"] = ",".join(b.value for b in bases)
    withheld = question.categories - granted
    if withheld:
        ctx.response.headers["X-Withheld-Categories"] = ",".join(sorted(c.value for c in withheld))
    return SetDecision(decision_id=decision_id, decisions=decisions, page=page, total=len(allowed))
