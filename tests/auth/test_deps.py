"""CallerDep through a tiny app: the 401 problem, the OpenAPI scheme, the caller."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from app.auth.deps import CallerDep, get_verifier
from app.auth.tokens import mint_token
from app.platform import problems
from app.platform.settings import JwtAlgorithm, get_settings
from app.policy.vocabulary import Role


@pytest.fixture
def client() -> Iterator[TestClient]:
    if get_settings().jwt_algorithm is not JwtAlgorithm.HS256:
        pytest.skip("mints HS256 tokens with the configured secret")
    # The verifier must match the settings this test mints with, not a stale one.
    get_verifier.cache_clear()
    app = FastAPI()
    problems.install(app)

    @app.get("/whoami")
    def whoami(caller: CallerDep, request: Request) -> dict[str, str]:
        assert request.state.caller is caller
        return {"role": caller.role.value, "sub": caller.sub}

    with TestClient(app) as test_client:
        yield test_client
    get_verifier.cache_clear()


def test_a_request_without_authorization_is_a_401_problem(client: TestClient) -> None:
    response = client.get("/whoami")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == problems.PROBLEM_JSON
    assert response.json()["status"] == 401


def test_a_request_with_another_scheme_is_a_401_problem(client: TestClient) -> None:
    response = client.get("/whoami", headers={"Authorization": "Basic dXNlcjpwYXNz"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == problems.PROBLEM_JSON


def test_a_request_with_an_invalid_token_is_a_401_problem(client: TestClient) -> None:
    response = client.get("/whoami", headers={"Authorization": "Bearer not.a.token"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "not.a.token" not in response.text


def test_a_request_with_a_valid_token_sees_its_caller(client: TestClient) -> None:
    token = mint_token(get_settings(), role=Role.HEALTH_VISITOR, sub="hv-0042")

    response = client.get("/whoami", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json() == {"role": "health_visitor", "sub": "hv-0042"}


def test_openapi_declares_the_bearer_scheme(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()

    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert schema["paths"]["/whoami"]["get"]["security"] == [{"bearer": []}]
