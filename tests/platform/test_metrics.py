"""`GET /metrics` (API.md): requests by route and status, latency, decisions by purpose
and outcome, audit events awaiting their seal; never personal data. Served by two worker
processes, as in production: any worker's scrape counts every worker's requests."""

import os
import subprocess
import sys
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app import main
from app.platform.db import make_engine
from tests.conftest import ROOT
from tests.servers import free_port, scratch_database, wait_ready

Headers = Callable[..., dict[str, str]]
HOUSEHOLD = {"address": {"line1": "7 Counting Close", "postcode": "NW5 1TL"}}
MARKER_NHS_NUMBER = "9990000018"


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp_path = tmp_path_factory.mktemp("metrics")
    with scratch_database(tmp_path, "metrics") as url:
        port = free_port()
        env = {
            **os.environ,
            "IEYS_DATABASE_URL": url,
            "IEYS_AUDIT_SEAL_INTERVAL_SECONDS": "0",
            "IEYS_DB_POOL_SIZE": "4",
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        command = [sys.executable, "-c", "from app.cli import main; main()", "serve"]
        server = subprocess.Popen(
            [*command, "--port", str(port), "--workers", "2"], cwd=ROOT, env=env
        )
        try:
            wait_ready(port, process=server)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(timeout=20)


def _samples(base: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = httpx.get(f"{base}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _sum(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    wanted = set(labels.items())
    return sum(value for (n, found), value in samples.items() if n == name and wanted <= found)


def test_every_workers_requests_and_decisions_are_counted_and_no_personal_data_shows(
    two_workers: str, headers: Headers
) -> None:
    created = [
        httpx.post(
            f"{two_workers}/v1/families",
            json=HOUSEHOLD,
            headers=headers("health_visitor", "health_care"),
            timeout=30,
        )
        for _ in range(6)
    ]
    assert {answer.status_code for answer in created} == {201}
    family_id = created[0].json()["id"]
    denied = httpx.get(
        f"{two_workers}/v1/families/{family_id}",
        headers=headers("health_visitor", "nursery_care"),
        timeout=30,
    )
    found = httpx.get(
        f"{two_workers}/v1/people",
        params={"nhs_number": MARKER_NHS_NUMBER},
        headers=headers("health_visitor", "health_care"),
        timeout=30,
    )
    assert denied.status_code == 403
    assert found.status_code == 200
    assert found.json()["items"] == []

    # Whichever worker answers the scrape, it reports both workers' counts.
    for _ in range(4):
        samples = _samples(two_workers)
        assert _sum(samples, "ieys_http_requests_total", route="/v1/families", status="201") == 6
        assert _sum(samples, "ieys_http_request_duration_seconds_count", route="/v1/families") == 6
        assert _sum(samples, "ieys_decisions_total", purpose="health_care", outcome="allowed") == 6
        assert _sum(samples, "ieys_decisions_total", purpose="nursery_care", outcome="denied") == 1
        # The lookup found no one: decided (not_found) and audited all the same (API.md).
        assert _sum(samples, "ieys_decisions_total", purpose="health_care", reason="not_found") == 1
        # Nothing is sealed here (the sealer is off): every event awaits its seal.
        assert _sum(samples, "ieys_audit_events_awaiting_seal") == 8
        assert _sum(samples, "ieys_database_up") == 1
        for gauge in ("pending", "failed", "manual"):
            assert samples[(f"ieys_notifications_{gauge}", frozenset())] == 0

    text = httpx.get(f"{two_workers}/metrics", timeout=10).text
    assert family_id not in text
    assert MARKER_NHS_NUMBER not in text
    assert "Counting Close" not in text


def test_metrics_still_answer_when_the_database_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    unreachable = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    monkeypatch.setattr(main, "get_engine", lambda: unreachable)
    response = TestClient(main.create_app()).get("/metrics")
    unreachable.dispose()
    assert response.status_code == 200
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    assert samples["ieys_database_up"] == 0
    assert "ieys_audit_events_awaiting_seal" not in samples
