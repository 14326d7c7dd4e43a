"""`ieys retention-sweep` killed (SIGKILL) in the middle of a batch, after an earlier batch
committed: no household half-destroyed, nothing else lost, one log entry per destroyed
subject; a re-run finishes the job and the audit chain verifies.

The sweep runs as its own process on a scratch PostgreSQL database. The test stops it
mid-transaction without any hook in the service: it holds a lock on `destruction_log`,
which a batch writes after its deletes, so a batch waiting for it has deleted and not
committed. The test lets the first batch through, catches the second the same way, and
kills the process there.
"""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import orjson
import pytest
from alembic import command
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.demo import generate as demo
from app.platform.db import make_engine
from app.platform.identifiers import london_today
from app.retention import plan as retention_plan
from app.retention import rules
from app.retention import service as retention_service
from app.retention.models import DestructionLog
from tests.conftest import ROOT, alembic_config, configured_database_url
from tests.retention.destruction_state import (
    assert_whole,
    blocked_writer,
    destruction_log_locked,
    snapshot,
    wait_backend_gone,
)
from tests.servers import scratch_database

pytestmark = pytest.mark.skipif(
    not configured_database_url(),
    reason="stops the sweep on a PostgreSQL lock to kill it mid-transaction: "
    "runs when IEYS_TEST_DATABASE_URL is set",
)

FAMILIES = 120
BATCH = 10
COMMAND_TIMEOUT = 120


@pytest.fixture
def aged(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """A database of families as they were six years ago: every child is now past five."""
    with scratch_database(tmp_path, "sweep_killed") as url:
        command.upgrade(alembic_config(url), "head")
        engine = make_engine(url)
        then = rules.add_years(london_today(), -6) - timedelta(days=1)
        try:
            demo.generate(engine, families=FAMILIES, seed=7, today=then)
            yield url, engine
        finally:
            engine.dispose()


def _ieys(*args: str) -> list[str]:
    return [sys.executable, "-c", "from app.cli import main; main()", *args]


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "IEYS_DATABASE_URL": url}


def _planned(engine: Engine) -> dict[UUID, set[UUID]]:
    """What the sweep destroys today, household by household."""
    on = london_today()
    with Session(engine) as session:
        found = retention_service.households(
            session, retention_service.due_household_ids(session, on)
        )
        held = retention_service.held_ids(
            session, [h.id for h in found] + [m.id for h in found for m in h.members]
        )
        return {
            h.id: {d.subject_id for d in retention_plan.plan(h, on=on, held=held).destroyed}
            for h in found
        }


def _logged(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(DestructionLog)).scalar_one()
        )


def test_a_sweep_killed_mid_batch_leaves_no_household_half_destroyed_and_a_rerun_finishes(
    aged: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = aged
    before = snapshot(engine)
    planned = _planned(engine)
    due = {family_id for family_id, subjects in planned.items() if subjects}
    assert len(due) > 3 * BATCH, "enough households for the kill to land mid-run"
    assert len(before.households) > len(due), "some households are not due: they must stay"

    with (tmp_path / "sweep.log").open("wb") as output:
        sweep = subprocess.Popen(
            _ieys("retention-sweep", "--batch", str(BATCH)),
            cwd=ROOT,
            env=_env(url),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        with destruction_log_locked(engine) as holder:
            blocked_writer(holder)
            assert _logged(engine) == 0
        # Released: the first batch logs and commits; the lock is granted again once it
        # has, and the next batch waits for it with its deletes done.
        with destruction_log_locked(engine) as holder:
            assert _logged(engine) > 0, "the first batch committed"
            pid = blocked_writer(holder)
            sweep.send_signal(signal.SIGKILL)
            sweep.wait(timeout=10)
        wait_backend_gone(engine, pid)
    finally:
        if sweep.poll() is None:
            sweep.kill()
            sweep.wait(timeout=10)
    assert sweep.returncode == -signal.SIGKILL

    killed = snapshot(engine)
    done = assert_whole(before, killed, planned)
    assert 0 < len(done) < len(due), "killed in the middle of the run"

    rerun = subprocess.run(
        _ieys("retention-sweep", "--batch", str(BATCH)),
        cwd=ROOT,
        env=_env(url),
        capture_output=True,
        timeout=COMMAND_TIMEOUT,
    )
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
    after = snapshot(engine)
    assert assert_whole(before, after, planned) == due
    destroyed_households = set(before.households) - set(after.households)
    assert {s for s, kind in after.logged.items() if kind == "family"} == destroyed_households

    verified = subprocess.run(
        _ieys("verify"),
        cwd=ROOT,
        env=_env(url),
        capture_output=True,
        timeout=COMMAND_TIMEOUT,
    )
    assert verified.returncode == 0, verified.stdout.decode()
    assert orjson.loads(verified.stdout)["ok"] is True
