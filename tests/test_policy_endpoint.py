from collections.abc import Callable

from fastapi.testclient import TestClient

from app.policy import rules

Headers = Callable[..., dict[str, str]]


def test_any_valid_token_reads_the_policy_without_a_purpose(
    client: TestClient, headers: Headers
) -> None:
    response = client.get("/v1/policy", headers=headers("nursery_practitioner"))
    assert response.status_code == 200
    body = response.json()
    operations = body.pop("operations")
    assert body == rules.policy_document()
    assert {op["operation"] for op in operations} >= {"read_person", "read_family"}
    assert "X-Decision-Id" not in response.headers


def test_the_policy_needs_a_token(client: TestClient) -> None:
    response = client.get("/v1/policy")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_health_answers_without_a_token(client: TestClient) -> None:
    assert client.get("/health/live").json() == {"status": "ok"}
