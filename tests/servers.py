"""Real server processes for tests that need concurrency across instances: a scratch
database of their own (a SQLite file, or a PostgreSQL database beside the test one),
or a PostgreSQL cluster of their own that a test may crash, and uvicorn processes
serving it."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
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


def serve(
    url: str, port: int, *, log: Path | None = None, **settings: str
) -> subprocess.Popen[bytes]:
    """A uvicorn process on `url`; its log lines (stderr) go to `log` when given."""
    env = {
        **os.environ,
        "IEYS_DATABASE_URL": url,
        "IEYS_AUDIT_SEAL_INTERVAL_SECONDS": "0.05",
        "IEYS_DB_POOL_SIZE": "8",
        **settings,
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)]
    with ExitStack() as files:
        sink = files.enter_context(log.open("ab")) if log is not None else None
        return subprocess.Popen(
            [*command, "--log-level", "warning"], cwd=ROOT, env=env, stderr=sink
        )


def wait_ready(
    port: int, *, process: subprocess.Popen[bytes] | None = None, seconds: float = 120
) -> None:
    """Until `/health/ready` answers 200: a bound generous enough for a loaded machine
    (a start migrates, imports and opens its pool), failing at once if `process` exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode} before it was ready")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become ready")


@contextmanager
def instances(url: str, count: int = 2, *, logs: Path | None = None) -> Iterator[list[int]]:
    """`count` servers on `url`, ready; their ports. Stopped on the way out. With `logs`,
    each server's log lines go to `logs / f"{port}.log"`."""
    ports = [free_port() for _ in range(count)]
    servers = [
        serve(url, port, log=logs / f"{port}.log" if logs is not None else None) for port in ports
    ]
    try:
        for port in ports:
            wait_ready(port)
        yield ports
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)


POSTGRES_BIN = Path(os.environ.get("IEYS_TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
POSTGRES_USER = "postgres"
"""The operating-system user a private cluster runs as: initdb refuses root."""


@dataclass(frozen=True, slots=True)
class Cluster:
    """A PostgreSQL cluster of the test's own, on a free port: one it may crash."""

    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{POSTGRES_USER}@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres(str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.directory / "data"), *args),
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=60,
        )

    def start(self) -> None:
        """Start and wait until it accepts connections (`pg_ctl -w`)."""
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.directory} -c max_connections=100 "
            "-c shared_buffers=16MB"
        )
        log = str(self.directory / "server.log")
        self._pg_ctl("start", "-w", "-t", "30", "-l", log, "-o", options)

    def crash(self) -> None:
        """Stop as a crash would: no checkpoint, every backend killed, recovery at start."""
        self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "30")


def _as_postgres(*command: str) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", POSTGRES_USER, "--", *command]
    return list(command)


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    """initdb into a directory of its own (the postgres user must own it, so not
    pytest's root-only tmp_path), start it; stopped and removed on the way out."""
    directory = Path(tempfile.mkdtemp(prefix="ieys-cluster-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(directory, user=POSTGRES_USER)
        subprocess.run(
            _as_postgres(
                str(POSTGRES_BIN / "initdb"),
                "-D",
                str(directory / "data"),
                "-U",
                POSTGRES_USER,
                "-A",
                "trust",
                "--no-sync",
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=120,
        )
        cluster = Cluster(directory, free_port())
        cluster.start()
        try:
            yield cluster
        finally:
            subprocess.run(
                _as_postgres(
                    str(POSTGRES_BIN / "pg_ctl"),
                    "-D",
                    str(directory / "data"),
                    "stop",
                    "-m",
                    "immediate",
                ),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=60,
            )
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def child_over_http(
    base: str, headers: dict[str, str], *, family_name: str, days_old: int = 300
) -> dict[str, Any]:
    """A household and a child in it, created through a running server's API."""
    family = httpx.post(
        f"{base}/v1/families",
        json={"address": {"line1": f"1 {family_name} Row", "postcode": "NW1 7AA"}},
        headers=headers,
        timeout=30,
    ).json()
    born = (datetime.now(UTC).date() - timedelta(days=days_old)).isoformat()
    child: dict[str, Any] = httpx.post(
        f"{base}/v1/people",
        json={
            "family_id": family["id"],
            "kind": "child",
            "given_name": "Jon",
            "family_name": family_name,
            "date_of_birth": born,
        },
        headers=headers,
        timeout=30,
    ).json()
    return child
