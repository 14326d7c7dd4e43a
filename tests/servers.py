"""Real server processes for tests that need concurrency across instances: a scratch
database of their own (a SQLite file, or a PostgreSQL database beside the test one)
and uvicorn processes serving it."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import ROOT, configured_database_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def scratch_database(tmp_path: Path, name: str) -> Iterator[str]:
    base = configured_database_url()
    if not base:
        yield f"sqlite:///{tmp_path}/{name}.db"
        return
    database = f"ieys_{name}_{uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield make_url(base).set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def serve(url: str, port: int, **settings: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "IEYS_DATABASE_URL": url,
        "IEYS_AUDIT_SEAL_INTERVAL_SECONDS": "0.05",
        "IEYS_DB_POOL_SIZE": "8",
        **settings,
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)]
    return subprocess.Popen(
        [*command, "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )


def wait_ready(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become ready")


@contextmanager
def instances(url: str, count: int = 2) -> Iterator[list[int]]:
    """`count` servers on `url`, ready; their ports. Stopped on the way out."""
    ports = [free_port() for _ in range(count)]
    servers = [serve(url, port) for port in ports]
    try:
        for port in ports:
            wait_ready(port)
        yield ports
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=10)
