"""/v1/policy: the rules in force, served from the same tables that decide; and
/v1/decisions: the same engine answering a dry run."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response

from app.auth.deps import CallerDep
from app.decisions import schemas
from app.decisions.guard import PurposeDep, check
from app.decisions.subjects import person_subject
from app.platform.db import SessionDep
from app.platform.problems import Unprocessable
from app.policy import rules
from app.policy.model import Decision
from app.policy.vocabulary import Action, Category, ConsentType
from app.reference import catalogue

router = APIRouter()


@router.get(
    "/policy",
    summary="The rules in force: roles, purposes, categories, bases, the decision order",
    tags=["policy"],
)
def read_policy(_: CallerDep) -> dict[str, Any]:
    return rules.policy_document()


def _recipient(body: schemas.DecisionAsk) -> tuple[str | None, ConsentType | None]:
    if body.action is not schemas.DryRunAction.SHARE:
        if body.recipient is not None:
            raise Unprocessable("recipient", "names who receives a share; a read has none")
        return None, None
    if body.recipient is None:
        raise Unprocessable("recipient", "required for a share")
    found = catalogue.recipients().get(body.recipient)
    if found is None:
        raise Unprocessable("recipient", "not a known recipient (GET /v1/recipients)")
    return found.code, found.consent_type


def _categories(categories: frozenset[Category]) -> list[Category]:
    return [category for category in Category if category in categories]


def _read(decision: Decision, decision_id: UUID) -> schemas.DecisionRead:
    return schemas.DecisionRead(
        decision_id=decision_id,
        allowed=decision.allowed,
        reason=decision.reason,
        bases=[
            schemas.CitationRead(
                code=citation.basis,
                text=citation.text,
                schedule1_paragraph=citation.schedule1_paragraph,
                categories=_categories(citation.categories),
            )
            for citation in decision.bases
        ],
        allowed_categories=_categories(decision.allowed_categories),
        withheld_categories=_categories(decision.withheld_categories),
        gateways=list(decision.gateways),
        review_required=decision.review_required,
        consent_types=list(decision.consent_types),
    )


@router.post(
    "/decisions",
    summary="Dry run: the decision a read or share would get, touching no data",
    description="The same engine, the same facts and the same `X-Purpose` and "
    "`X-Justification` as the real call; the answer is `200` whether it allows or denies "
    "(a gone subject answers `reason: gone`), and the dry run is audited like any other "
    "decision (`resource: dry_run`). A safeguarding dry run is a use of the override and "
    "is listed for review. An unknown subject is `404`.",
    tags=["decisions"],
    responses={404: {"description": "No person with this id"}},
)
def dry_run(
    body: schemas.DecisionAsk,
    request: Request,
    response: Response,
    caller: CallerDep,
    declared: PurposeDep,
    session: SessionDep,
) -> schemas.DecisionRead:
    recipient, consent_type = _recipient(body)
    action = Action(body.action.value)
    _, subject = person_subject(session, caller, declared, body.subject_id, action=action)
    detail: dict[str, Any] = {"dry_run": True}
    if recipient is not None:
        detail["recipient"] = recipient
    answered = check(
        session,
        request,
        response,
        caller,
        declared,
        action=action,
        categories=body.categories,
        subject=subject,
        resource="dry_run",
        recipient=recipient,
        recipient_consent_type=consent_type,
        detail=detail,
        raise_on_denial=False,
    )
    return _read(answered.decision, answered.decision_id)
