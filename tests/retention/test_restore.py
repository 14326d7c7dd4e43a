"""Restoring a backup taken before a destruction, then replaying the exported
destruction log: nothing destroyed comes back, and the audit chain still verifies
(README, "Restoring a backup")."""

import json
import sqlite3
import subprocess
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.people.models import Family, FamilyKey, Person
from app.platform.identifiers import london_today
from app.retention import rules
from app.retention.models import DestructionLog
from app.rights.models import SubjectRequest
from tests import factories
from tests.conftest import configured_database_url
from tests.keys.deployment import Deployment, new_key, restart
from tests.rights.cases import decide, open_case

KEY = new_key()
HV = ("health_visitor", "health_care")


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_copy(source: str | Path, target: str | Path) -> None:
    """SQLite's online backup (what `sqlite3 db ".backup file"` does): a consistent
    copy, the write-ahead log included, whoever else has the database open."""
    with sqlite3.connect(source) as reading, sqlite3.connect(target) as writing:
        reading.backup(writing)
    reading.close()
    writing.close()


def back_up(deployment: Deployment, to: Path) -> None:
    """What an operator's backup does: SQLite's backup, or pg_dump."""
    restart()
    url = make_url(deployment.url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        _sqlite_copy(url.database, to)
        return
    subprocess.run(
        ["pg_dump", "--no-owner", "--format=custom", "--file", str(to), _libpq(deployment.url)],
        check=True,
    )


def restore(deployment: Deployment, backup: Path) -> None:
    """The database replaced by the backup: copied back by SQLite's backup, or a fresh
    database of the same name filled by pg_restore."""
    restart()
    url = make_url(deployment.url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        _sqlite_copy(backup, url.database)
        return
    base = configured_database_url()
    assert base is not None
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE "{url.database}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    subprocess.run(
        ["pg_restore", "--no-owner", "--dbname", _libpq(deployment.url), str(backup)], check=True
    )


def _ids(deployment: Deployment, column: sa.ColumnElement[UUID]) -> set[UUID]:
    engine = deployment.engine()
    with engine.connect() as connection:
        found = set(connection.execute(sa.select(column)).scalars())
    engine.dispose()
    return found


def _logged(path: Path) -> set[UUID]:
    return {UUID(json.loads(line)["subject_id"]) for line in path.read_text().splitlines()}


def _loaded(deployment: Deployment) -> None:
    """Families as they were six years ago (every child now past five), and decisions
    about them in the audit trail."""
    deployment.configure(KEY)
    deployment.migrate()
    then = rules.add_years(london_today(), -6) - timedelta(days=1)
    loaded = deployment.ieys("demo-data", "--families", "12", "--today", str(then))
    assert loaded.exit_code == 0, loaded.output
    client = deployment.client()
    for person_id in sorted(_ids(deployment, Person.id))[:3]:
        client.get(f"/v1/people/{person_id}", headers=deployment.headers(*HV))


def test_a_restore_replayed_from_the_exported_log_brings_back_nothing_destroyed(
    deployment: Deployment, tmp_path: Path
) -> None:
    _loaded(deployment)
    backup, exported = tmp_path / "backup", tmp_path / "destructions.jsonl"
    back_up(deployment, backup)

    swept = deployment.ieys("retention-sweep")
    assert swept.exit_code == 0, swept.output
    saved = deployment.ieys("export-destructions", "--to", str(exported))
    assert saved.exit_code == 0, saved.output
    destroyed = _logged(exported)
    families_left = _ids(deployment, Family.id)
    people_left = _ids(deployment, Person.id)
    assert destroyed
    assert not destroyed & (families_left | people_left)

    restore(deployment, backup)
    assert destroyed & _ids(deployment, FamilyKey.family_id), "the backup holds their keys"
    assert not _ids(deployment, DestructionLog.subject_id)

    replayed = deployment.ieys("replay-destructions", "--from", str(exported))
    assert replayed.exit_code == 0, replayed.output
    assert _ids(deployment, Family.id) == families_left
    assert _ids(deployment, Person.id) == people_left
    assert not destroyed & _ids(deployment, FamilyKey.family_id)
    assert _ids(deployment, DestructionLog.subject_id) == destroyed

    verified = deployment.ieys("verify")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["ok"] is True
    assert json.loads(verified.stdout)["events"] >= 3
    assert deployment.client().get("/health/ready").status_code == 200

    again = deployment.ieys("replay-destructions", "--from", str(exported))
    assert again.exit_code == 0, again.output
    assert f"{len(destroyed)} already gone" in " ".join(again.output.split())


def test_an_export_from_a_restored_database_keeps_the_entries_the_file_had(
    deployment: Deployment, tmp_path: Path
) -> None:
    _loaded(deployment)
    backup, exported = tmp_path / "backup", tmp_path / "destructions.jsonl"
    back_up(deployment, backup)
    assert deployment.ieys("retention-sweep").exit_code == 0
    assert deployment.ieys("export-destructions", "--to", str(exported)).exit_code == 0
    before = exported.read_text()
    restore(deployment, backup)
    again = deployment.ieys("export-destructions", "--to", str(exported))
    assert again.exit_code == 0, again.output
    assert exported.read_text() == before
    assert "(0 new)" in again.output


def test_a_file_that_is_not_a_destruction_log_is_refused_and_nothing_is_replayed(
    deployment: Deployment, tmp_path: Path
) -> None:
    _loaded(deployment)
    families = _ids(deployment, Family.id)
    forged = tmp_path / "forged.jsonl"
    forged.write_text('{"subject_id": "not an id"}\n')
    refused = deployment.ieys("replay-destructions", "--from", str(forged))
    assert refused.exit_code == 2
    assert "forged.jsonl, line 1: not a destruction log entry" in " ".join(refused.output.split())
    assert _ids(deployment, Family.id) == families


def test_an_erasure_replayed_onto_a_restore_erases_again_and_keeps_the_case_without_its_words(
    deployment: Deployment, tmp_path: Path
) -> None:
    deployment.configure(KEY)
    deployment.migrate()
    engine = deployment.engine()
    with Session(bind=engine, expire_on_commit=False) as session:
        family = factories.make_family(session)
        carer = factories.make_carer(session, family=family)
        erased = factories.make_child(
            session, family=family, born=factories.today() - timedelta(days=100)
        )
        sibling = factories.make_child(
            session, family=family, born=factories.today() - timedelta(days=900)
        )
    client = deployment.client()

    def headers(role: str, purpose: str | None = None, **_: str) -> dict[str, str]:
        return deployment.headers(role, purpose or "")

    case = open_case(
        client, headers, erased.id, type="erasure", requester_id=carer.id, details="Please erase"
    )
    backup, exported = tmp_path / "backup", tmp_path / "destructions.jsonl"
    back_up(deployment, backup)
    client = deployment.client()
    decided = decide(client, headers, case["id"], reason="Consent withdrawn; no other ground")
    assert decided.status_code == 200, decided.text
    assert deployment.ieys("export-destructions", "--to", str(exported)).exit_code == 0
    assert _logged(exported) == {erased.id}

    restore(deployment, backup)
    assert erased.id in _ids(deployment, Person.id)
    replayed = deployment.ieys("replay-destructions", "--from", str(exported))
    assert replayed.exit_code == 0, replayed.output

    assert _ids(deployment, Person.id) == {carer.id, sibling.id}
    engine = deployment.engine()
    with Session(bind=engine) as session:
        kept = session.get(SubjectRequest, UUID(case["id"]))
        assert kept is not None
        assert kept.details is None
        household = session.get(Family, family.id)
        assert household is not None
        assert household.destroy_on == session.get(Person, sibling.id).destroy_on  # type: ignore[union-attr]
    engine.dispose()
    verified = deployment.ieys("verify")
    assert verified.exit_code == 0, verified.output
