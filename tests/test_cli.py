"""The `ieys` command line: development tokens, and the demo-data path that commits."""

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from app.auth.tokens import TokenVerifier
from app.cli import cli
from app.platform.settings import get_settings
from app.policy.vocabulary import Role
from app.reference import catalogue

runner = CliRunner()


def test_token_for_a_health_visitor_is_accepted_by_the_verifier() -> None:
    result = runner.invoke(cli, ["token", "health_visitor"])
    assert result.exit_code == 0, result.output
    caller = TokenVerifier(get_settings()).verify(result.stdout.strip())
    assert caller.role is Role.HEALTH_VISITOR
    assert caller.nursery_id is None


def test_a_nursery_practitioners_token_carries_a_nursery_of_their_organisation() -> None:
    result = runner.invoke(cli, ["token", "nursery_practitioner"])
    assert result.exit_code == 0, result.output
    caller = TokenVerifier(get_settings()).verify(result.stdout.strip())
    assert caller.role is Role.NURSERY_PRACTITIONER
    assert caller.nursery_id is not None
    assert catalogue.nurseries()[caller.nursery_id].org == caller.org


def test_a_token_names_the_nursery_and_subject_asked_for() -> None:
    nursery_id = sorted(catalogue.nurseries())[-1]
    result = runner.invoke(
        cli,
        ["token", "nursery_practitioner", "--nursery-id", str(nursery_id), "--sub", "np-7"],
    )
    assert result.exit_code == 0, result.output
    caller = TokenVerifier(get_settings()).verify(result.stdout.strip())
    assert caller.nursery_id == nursery_id
    assert caller.sub == "np-7"


def test_an_unknown_role_is_refused_with_usage() -> None:
    result = runner.invoke(cli, ["token", "headteacher"])
    assert result.exit_code == 2


@pytest.fixture
def sqlite_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh SQLite file as IEYS_DATABASE_URL: the CLI commits, unlike the test fixtures."""
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("IEYS_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    monkeypatch.undo()
    get_settings.cache_clear()


def test_demo_data_loads_once_per_seed_and_the_audit_chain_verifies(sqlite_database: str) -> None:
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    load = ["demo-data", "--families", "3", "--seed", "5", "--today", "2026-01-15"]
    first = runner.invoke(cli, load)
    assert first.exit_code == 0, first.output
    assert "3 families" in first.output

    again = runner.invoke(cli, load)
    assert again.exit_code == 1
    assert "already loaded" in again.output

    assert runner.invoke(cli, ["seal"]).exit_code == 0
    verified = runner.invoke(cli, ["verify"])
    assert verified.exit_code == 0, verified.output
    report = orjson.loads(verified.stdout)
    assert report["ok"] is True


def test_a_refused_configuration_stops_the_command_with_one_line_and_no_secret() -> None:
    env = {**os.environ, "IEYS_ENVIRONMENT": "production", "IEYS_JWT_SECRET": "s3cret-from-vault"}
    env.pop("IEYS_ENCRYPTION_KEY", None)
    done = subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", "token", "health_visitor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "IEYS_ENCRYPTION_KEY" in done.stderr
    assert "Traceback" not in done.stderr
    assert "s3cret-from-vault" not in done.stderr + done.stdout
    assert done.stdout == ""


def test_migrate_builds_the_schema_from_an_installed_package_outside_the_checkout(
    tmp_path: Path,
) -> None:
    """As in the image: `pip install .`, then `ieys migrate` with no source tree beside it."""
    root = Path(__file__).resolve().parent.parent
    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    subprocess.run(
        [*pip, "--target", str(site), str(root)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    database = elsewhere / "ieys.db"
    code = (
        "import app, sys; from app.cli import main; sys.stderr.write(app.__file__ + '\\n'); main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "migrate"],
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(site), "IEYS_DATABASE_URL": f"sqlite:///{database}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0].startswith(str(site))
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"alembic_version", "person", "audit_event"} <= tables
