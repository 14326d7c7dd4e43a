"""A database that crashes under write load (API.md, "What integrators may rely on"):
`503` problem+json with `Retry-After` while it is down, never a `500`; `/health/ready`
says so; the instances recover on their own when it is back; no acknowledged write is
lost and the audit chain still verifies.

The test crashes a PostgreSQL cluster of its own (`pg_ctl stop -m immediate`: every
backend killed, no checkpoint, crash recovery at the next start) under two instances,
so it runs in the PostgreSQL stage only: SQLite has no server to crash.
"""

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import select

from app.people.models import Family
from app.platform.db import make_engine
from tests.conftest import alembic_config, configured_database_url
from tests.servers import Cluster, instances, private_cluster

pytestmark = pytest.mark.skipif(
    not configured_database_url(),
    reason="crashes a PostgreSQL cluster of its own: runs when IEYS_TEST_DATABASE_URL is set",
)

WRITERS = 10
DOWN_SECONDS = 2.0
REQUEST_TIMEOUT = 15.0
RECOVERY_DEADLINE = 30.0
HOUSEHOLD = {"address": {"line1": "1 Outage Road", "postcode": "NW5 1TL"}}


@dataclass(frozen=True, slots=True)
class Answer:
    port: int
    at: float
    status: int | None
    """None: no HTTP answer at all (the connection failed or timed out)."""
    content_type: str = ""
    retry_after: str | None = None
    request_id: str | None = None
    cache_control: str | None = None
    created: str | None = None


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with private_cluster() as cluster:
        command.upgrade(alembic_config(cluster.url), "head")
        yield cluster


def _write(port: int, headers: dict[str, str]) -> Answer:
    try:
        response = httpx.post(
            f"http://127.0.0.1:{port}/v1/families",
            json=HOUSEHOLD,
            headers=headers,
            timeout=REQUEST_TIMEOUT,
        )
    except httpx.HTTPError:
        return Answer(port, time.monotonic(), None)
    created = response.json()["id"] if response.status_code == 201 else None
    return Answer(
        port,
        time.monotonic(),
        response.status_code,
        response.headers.get("Content-Type", ""),
        response.headers.get("Retry-After"),
        response.headers.get("X-Request-Id"),
        response.headers.get("Cache-Control"),
        created,
    )


def _ready(port: int) -> int | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=5).status_code
    except httpx.HTTPError:
        return None


def _wait_until(predicate: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _logged(logs: Path) -> tuple[Counter[int], list[str]]:
    """The servers' access lines by status, and every line that is not JSON (a
    traceback: it would quote the database's message)."""
    statuses: Counter[int] = Counter()
    foreign: list[str] = []
    for log in logs.glob("*.log"):
        for line in log.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                foreign.append(line)
                continue
            if record.get("logger") == "ieys.access" and record.get("route") == "/v1/families":
                statuses[record["status"]] += 1
    return statuses, foreign


def test_a_database_crash_under_write_load_is_503_with_retry_after_and_loses_no_acknowledged_write(
    cluster: Cluster, token: Callable[..., str], tmp_path: Path
) -> None:
    writer = {"Authorization": f"Bearer {token('health_visitor')}", "X-Purpose": "health_care"}
    answers: list[Answer] = []
    lock = threading.Lock()
    stop = threading.Event()

    with instances(cluster.url, logs=tmp_path) as ports:

        def load(i: int) -> None:
            port = ports[i % len(ports)]
            while not stop.is_set():
                answer = _write(port, writer)
                with lock:
                    answers.append(answer)

        threads = [threading.Thread(target=load, args=(i,), daemon=True) for i in range(WRITERS)]
        for thread in threads:
            thread.start()
        try:
            assert _wait_until(lambda: sum(a.status == 201 for a in answers) >= 20, 30)

            cluster.crash()
            down_at = time.monotonic()
            ready_while_down = {port: _ready(port) for port in ports}
            time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - down_at)))
            cluster.start()

            assert _wait_until(
                lambda: all(_ready(port) == 200 for port in ports), RECOVERY_DEADLINE
            ), "the instances did not recover on their own"
            recovered_at = time.monotonic()
            assert _wait_until(
                lambda: (
                    {a.port for a in answers if a.status == 201 and a.at > recovered_at}
                    == set(ports)
                ),
                RECOVERY_DEADLINE,
            ), "an instance accepted no write after the database came back"
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=REQUEST_TIMEOUT + 5)

        officer = {
            "Authorization": f"Bearer {token('data_protection_officer')}",
            "X-Purpose": "subject_rights",
        }
        verified = httpx.get(
            f"http://127.0.0.1:{ports[0]}/v1/audit/verify", headers=officer, timeout=60
        )

    statuses = Counter(a.status for a in answers)
    during = Counter(a.status for a in answers if down_at <= a.at <= recovered_at)

    assert ready_while_down == dict.fromkeys(ports, 503)
    assert statuses[None] == 0, "every request got an HTTP answer"
    assert set(statuses) <= {201, 503}, (statuses, during)
    assert during[503] > 0, "the load reached the instances while the database was down"
    for answer in answers:
        assert answer.request_id is not None, "X-Request-Id is on every answer"
        assert answer.cache_control == "no-store"
        if answer.status == 503:
            assert answer.content_type == "application/problem+json"
            assert answer.retry_after is not None
            assert int(answer.retry_after) >= 1
    logged, foreign = _logged(tmp_path)
    assert logged == statuses, "the servers log the status the callers got"
    assert foreign == [], "nothing but JSON lines in the logs: no traceback"

    acknowledged = {a.created for a in answers if a.created is not None}
    engine = make_engine(cluster.url)
    try:
        with engine.connect() as connection:
            stored = {str(i) for i in connection.execute(select(Family.id)).scalars()}
    finally:
        engine.dispose()
    assert acknowledged - stored == set(), "an acknowledged write was lost"

    assert verified.status_code == 200
    assert verified.json()["ok"] is True
    assert verified.json()["first_bad"] is None
