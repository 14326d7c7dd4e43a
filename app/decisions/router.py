"""/v1/policy: the rules in force, served from the same tables that decide."""

from typing import Any

from fastapi import APIRouter

from app.auth.deps import CallerDep
from app.policy import rules

router = APIRouter(tags=["policy"])


@router.get(
    "/policy",
    summary="The rules in force: roles, purposes, categories, bases, the decision order",
)
def read_policy(_: CallerDep) -> dict[str, Any]:
    return rules.policy_document()
