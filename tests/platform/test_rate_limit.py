"""IEYS_RATE_LIMIT_PER_MINUTE: a caller over its rate is 429 with Retry-After, counted
in the database so that every instance shares the count; unset, no limit."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.engine import Engine

from app.auth import deps
from app.platform import ratelimit
from app.platform.settings import get_settings


@pytest.fixture
def counted(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A caller of its own, counted in the test database; its counts removed after."""
    sub = f"rate-{uuid4().hex[:12]}"
    monkeypatch.setattr(deps, "rate_engine", lambda: engine)
    yield sub
    with engine.begin() as connection:
        connection.execute(
            delete(ratelimit.RateWindow).where(ratelimit.RateWindow.caller_sub == sub)
        )


def _policy(client: TestClient, token: Callable[..., str], sub: str) -> int:
    bearer = {"Authorization": f"Bearer {token('health_visitor', sub=sub)}"}
    response = client.get("/v1/policy", headers=bearer)
    if response.status_code == 429:
        assert response.headers["Content-Type"] == "application/problem+json"
        assert 1 <= int(response.headers["Retry-After"]) <= 60
    return response.status_code


def test_a_caller_over_its_rate_is_429_with_retry_after(
    client: TestClient,
    token: Callable[..., str],
    counted: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "rate_limit_per_minute", 3)
    monkeypatch.setattr(ratelimit, "utcnow", lambda: datetime(2026, 12, 2, 9, 30, 15, tzinfo=UTC))
    statuses = [_policy(client, token, counted) for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_another_caller_is_counted_apart(
    client: TestClient, token: Callable[..., str], counted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "rate_limit_per_minute", 1)
    _policy(client, token, counted)
    assert _policy(client, token, f"{counted}-other") == 200


def test_the_count_is_kept_per_minute(engine: Engine, counted: str) -> None:
    minute = datetime(2026, 12, 2, 9, 30, 10, tzinfo=UTC)
    ratelimit.admit(engine, counted, 1, now=minute)
    with pytest.raises(ratelimit.TooManyRequests) as refused:
        ratelimit.admit(engine, counted, 1, now=minute.replace(second=50))
    assert refused.value.headers["Retry-After"] == "10"
    ratelimit.admit(engine, counted, 1, now=minute.replace(minute=31, second=0))


def test_without_a_limit_nothing_is_counted(
    client: TestClient, token: Callable[..., str], counted: str, engine: Engine
) -> None:
    assert get_settings().rate_limit_per_minute is None
    assert all(_policy(client, token, counted) == 200 for _ in range(5))
    with engine.connect() as connection:
        kept = connection.execute(
            ratelimit.RateWindow.__table__.select().where(  # type: ignore[attr-defined]
                ratelimit.RateWindow.caller_sub == counted
            )
        ).all()
    assert kept == []
