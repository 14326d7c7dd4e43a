"""A deployment for tests that change the service's configuration: a scratch database
of its own (a SQLite file, or a PostgreSQL database beside the test one), the `IEYS_*`
settings set as an operator would, and the process-wide caches cleared after each
change, as a restart would."""

import base64
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from app.auth.tokens import mint_token
from app.cli import cli
from app.main import create_app
from app.platform.crypto import get_key_ring
from app.platform.db import get_engine, make_engine, session_factory
from app.platform.settings import get_settings
from app.policy.vocabulary import Role
from tests.conftest import alembic_config
from tests.servers import scratch_database


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def restart() -> None:
    """What a restart does to the process's caches: settings, keys and engine re-read."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    for cache in (get_settings, get_key_ring, get_engine, session_factory):
        cache.cache_clear()


@dataclass
class Deployment:
    url: str
    monkeypatch: pytest.MonkeyPatch

    def configure(self, key: str, previous: str | None = None) -> None:
        self.monkeypatch.setenv("IEYS_DATABASE_URL", self.url)
        self.monkeypatch.setenv("IEYS_ENCRYPTION_KEY", key)
        if previous is None:
            self.monkeypatch.delenv("IEYS_ENCRYPTION_PREVIOUS_KEYS", raising=False)
        else:
            self.monkeypatch.setenv("IEYS_ENCRYPTION_PREVIOUS_KEYS", previous)
        restart()

    def migrate(self, revision: str = "head") -> None:
        command.upgrade(alembic_config(self.url), revision)

    def engine(self) -> Engine:
        return make_engine(self.url)

    def client(self) -> TestClient:
        return TestClient(create_app(), raise_server_exceptions=False)

    def headers(self, role: str, purpose: str) -> dict[str, str]:
        signed = mint_token(get_settings(), role=Role(role), org=None, sub=f"{role}-1")
        return {"Authorization": f"Bearer {signed}", "X-Purpose": purpose}

    def ieys(self, *args: str) -> Result:
        result = CliRunner().invoke(cli, list(args))
        restart()
        return result


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    with scratch_database(tmp_path, "keys") as url:
        try:
            yield Deployment(url, monkeypatch)
        finally:
            restart()
            monkeypatch.undo()
            restart()
