"""compose.yaml: PostgreSQL, a one-off migration and two app instances behind one port.
No Docker engine runs here, so the file is read and checked, not started."""

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
INSTANCES = ("app-1", "app-2")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return dict(document["services"])


def test_the_database_is_postgresql_with_a_health_check(services: dict[str, Any]) -> None:
    db = services["db"]
    assert str(db["image"]).startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_the_migration_runs_once_after_the_database_is_healthy(services: dict[str, Any]) -> None:
    migrate = services["migrate"]
    assert migrate["command"] == ["ieys", "migrate"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert migrate["restart"] == "no"


@pytest.mark.parametrize("name", INSTANCES)
def test_each_instance_serves_after_the_migration_and_checks_readiness(
    services: dict[str, Any], name: str
) -> None:
    instance = services[name]
    assert instance["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "/health/ready" in " ".join(instance["healthcheck"]["test"])
    assert "ieys migrate" not in str(instance["command"])
    environment = instance["environment"]
    assert environment["IEYS_ENVIRONMENT"] == "production"
    assert environment["IEYS_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@db:5432/" in environment["IEYS_DATABASE_URL"]


def test_secrets_are_required_from_the_environment_never_written_in_the_file(
    services: dict[str, Any],
) -> None:
    environment = services["app-1"]["environment"]
    for name in ("IEYS_JWT_SECRET", "IEYS_ENCRYPTION_KEY", "IEYS_CONSOLE_SESSION_KEY"):
        assert environment[name].startswith("${" + name + ":?")


def test_one_port_reaches_both_instances_and_hides_metrics(services: dict[str, Any]) -> None:
    proxy = services["proxy"]
    assert len(proxy["ports"]) == 1
    assert {
        name: services["proxy"]["depends_on"][name]["condition"] for name in INSTANCES
    } == dict.fromkeys(INSTANCES, "service_healthy")
    assert "healthcheck" in proxy
    (mount,) = proxy["volumes"]
    config = (ROOT / mount.split(":")[0]).read_text(encoding="utf-8")
    for name in INSTANCES:
        assert f"server {name}:8000" in config
    assert "location = /metrics" in config


def test_the_connections_every_instance_may_open_stay_under_postgresqls_default(
    services: dict[str, Any],
) -> None:
    per_process = {
        name: int(services[name]["environment"]["IEYS_DB_POOL_SIZE"])
        + int(services[name]["environment"]["IEYS_DB_MAX_OVERFLOW"])
        for name in INSTANCES
    }
    workers = {name: int(services[name]["environment"]["WEB_CONCURRENCY"]) for name in INSTANCES}
    assert sum(per_process[name] * workers[name] for name in INSTANCES) < 100
