"""/v1/policy: the rules in force, served from the same tables that decide; and
/v1/decisions: the same engine answering a dry run."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Request

from app.auth.deps import CallerDep
from app.decisions import document, schemas
from app.decisions.access import DECLARED, Access, From, Shape, declare
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
def read_policy(_: CallerDep, request: Request) -> dict[str, Any]:
    document: dict[str, Any] = dict(rules.policy_document())
    document["operations"] = operations(request.app.openapi())
    return document


def operations(openapi: dict[str, Any]) -> list[dict[str, Any]]:
    """Per operation, what it does and the purposes it serves, from the rule tables."""
    found = []
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            declared = DECLARED.get(operation.get("operationId", ""))
            if declared is None:
                continue
            found.append(
                {
                    "operation": declared.operation,
                    "method": method.upper(),
                    "path": path,
                    "action": declared.action.value,
                    "categories": sorted(c.value for c in declared.categories),
                    "subject": declared.subject.value,
                    "record": declared.record.value if declared.record else None,
                    "purposes": sorted(p.value for p in document.served(declared)),
                }
            )
    return found


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


def _asked(body: schemas.DecisionAsk | None, _query: object) -> Shape:
    """A dry run asks what its body names: the action, the categories, the recipient."""
    if body is None:
        return Shape()
    recipient, consent_type = _recipient(body)
    detail: dict[str, Any] = {"dry_run": True}
    if recipient is not None:
        detail["recipient"] = recipient
    return Shape(
        action=Action(body.action.value),
        categories=frozenset(body.categories),
        recipient=recipient,
        recipient_consent_type=consent_type,
        detail=detail,
    )


DryRun = Annotated[
    Access,
    declare(
        "dry_run",
        Action.READ,
        frozenset(),
        "dry_run",
        subject=From.BODY_PERSON,
        body=schemas.DecisionAsk,
        shape=_asked,
        dry_run=True,
        invalid_reference=False,
    ),
]


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
def dry_run(body: schemas.DecisionAsk, granted: DryRun) -> schemas.DecisionRead:
    return _read(granted.allowed.decision, granted.decision_id)
