"""`ieys retention-sweep`: the nightly command, against a database it commits to."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from app.cli import cli
from app.people.models import Family
from app.platform.identifiers import london_today
from app.platform.settings import get_settings
from app.retention import rules
from app.retention.models import DestructionLog

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path}/sweep.db"
    monkeypatch.setenv("IEYS_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    monkeypatch.undo()
    get_settings.cache_clear()


def _count(url: str, model: type) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = int(connection.execute(select(func.count()).select_from(model)).scalar_one())
    engine.dispose()
    return found


def test_the_nightly_sweep_destroys_what_is_due_and_a_second_night_finds_nothing(
    database: str,
) -> None:
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    # Families as they were six years ago: every child is now past five.
    then = rules.add_years(london_today(), -6) - timedelta(days=1)
    loaded = runner.invoke(cli, ["demo-data", "--families", "20", "--today", str(then)])
    assert loaded.exit_code == 0, loaded.output
    families = _count(database, Family)

    preview = runner.invoke(cli, ["retention-sweep", "--dry-run"])
    assert preview.exit_code == 0, preview.output
    assert "would be destroyed" in preview.output
    assert _count(database, Family) == families

    swept = runner.invoke(cli, ["retention-sweep", "--batch", "7"])
    assert swept.exit_code == 0, swept.output
    assert "0 batches failed" in " ".join(swept.output.split())
    left = _count(database, Family)
    assert left < families, "every household without family-worker support goes"
    logged = _count(database, DestructionLog)
    assert logged > families - left

    again = runner.invoke(cli, ["retention-sweep"])
    assert again.exit_code == 0
    assert _count(database, DestructionLog) == logged
    verified = runner.invoke(cli, ["verify"])
    assert verified.exit_code == 0, verified.output


def test_the_sweep_refuses_a_day_in_the_future(database: str) -> None:
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    tomorrow = london_today() + timedelta(days=1)
    result = runner.invoke(cli, ["retention-sweep", "--on", str(tomorrow)])
    assert result.exit_code == 2
