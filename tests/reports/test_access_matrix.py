"""Each of the service's own endpoints answers its purpose's roles, and denies every other
role and every other purpose: the whole matrix, over HTTP."""

import itertools
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from app.policy.vocabulary import Purpose, Role
from tests import factories

Headers = Callable[..., dict[str, str]]
STAFF = {Role.HEALTH_VISITOR, Role.CHILDRENS_CENTRE_WORKER, Role.FAMILY_WORKER}
ANALYST = {Role.PUBLIC_HEALTH_ANALYST}


def _period() -> str:
    last = factories.today() - timedelta(days=1)
    return f"from={(last - timedelta(days=90)).isoformat()}&to={last.isoformat()}"


ENDPOINTS = {
    "invitations": (
        lambda: "/v1/invitations?review=new_birth&centre=hampden",
        Purpose.SERVICE_INVITATION,
        STAFF,
    ),
    "needs_assessment": (
        lambda: "/v1/needs-assessment?centre=hampden",
        Purpose.NEEDS_ASSESSMENT,
        STAFF,
    ),
    "take_up": (
        lambda: f"/v1/reports/take-up?{_period()}&by=area,age_band",
        Purpose.TAKE_UP_MONITORING,
        ANALYST,
    ),
    "impact": (
        lambda: f"/v1/reports/impact?{_period()}&by=area",
        Purpose.IMPACT_EVALUATION,
        ANALYST,
    ),
}


@pytest.mark.parametrize(
    ("endpoint", "role", "purpose"),
    list(itertools.product(ENDPOINTS, Role, Purpose)),
)
def test_an_endpoint_answers_only_its_purposes_roles(
    client: TestClient, headers: Headers, endpoint: str, role: Role, purpose: Purpose
) -> None:
    url, served, roles = ENDPOINTS[endpoint]
    justification = "A child may be at risk: concern from the GP" if purpose else None
    response = client.get(url(), headers=headers(role, purpose, justification=justification))
    assert "X-Decision-Id" in response.headers
    if purpose is served and role in roles:
        assert response.status_code == 200, response.text
        assert response.headers["X-Lawful-Basis"].startswith("art6-1-e")
    else:
        assert response.status_code == 403, (role, purpose, response.text)
        assert response.json()["reason"] == "purpose_not_permitted"
        assert "X-Lawful-Basis" not in response.headers


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_an_endpoint_needs_a_declared_purpose(
    client: TestClient, headers: Headers, endpoint: str
) -> None:
    url, _, roles = ENDPOINTS[endpoint]
    response = client.get(url(), headers=headers(next(iter(roles))))
    assert response.status_code == 400


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_an_endpoint_needs_a_token(client: TestClient, endpoint: str) -> None:
    url, served, _ = ENDPOINTS[endpoint]
    assert client.get(url(), headers={"X-Purpose": served.value}).status_code == 401
