"""Key rotation from outside: readiness checks the configured keys open the database,
and `ieys rewrap` moves every household key to the new one (README, "Field-level
encryption")."""

from uuid import UUID

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.keys import service as keys_service
from app.keys.models import KeyCanary
from app.people.models import FamilyKey
from app.platform.crypto import KeyRing, kek_id, load_kek
from tests import factories
from tests.keys.deployment import Deployment, new_key

HV = ("health_visitor", "health_care")
SPECIAL = {"ethnicity": "N", "health": {"allergies": "Peanut allergy"}}
KEY_A, KEY_B = new_key(), new_key()


def _children(deployment: Deployment, count: int) -> list[UUID]:
    """Children, each in a household of its own, with special category data recorded."""
    engine = deployment.engine()
    with Session(bind=engine, expire_on_commit=False) as session:
        ids = [factories.make_child(session).id for _ in range(count)]
    engine.dispose()
    client = deployment.client()
    for child_id in ids:
        put = client.put(
            f"/v1/people/{child_id}/special-category", json=SPECIAL, headers=deployment.headers(*HV)
        )
        assert put.status_code == 200, put.text
    return ids


def _reads(deployment: Deployment, child_ids: list[UUID]) -> list[int]:
    client = deployment.client()
    statuses = []
    for child_id in child_ids:
        got = client.get(f"/v1/people/{child_id}/special-category", headers=deployment.headers(*HV))
        if got.status_code == 200:
            assert got.json()["health"]["allergies"] == "Peanut allergy"
        statuses.append(got.status_code)
    return statuses


def _kek_ids(deployment: Deployment) -> set[str]:
    engine = deployment.engine()
    with engine.connect() as connection:
        found = set(connection.execute(select(FamilyKey.kek_id)).scalars())
        found.update(connection.execute(select(KeyCanary.kek_id)).scalars())
    engine.dispose()
    return found


def test_a_new_key_without_the_old_one_is_not_ready_and_with_it_then_rewrapped_is(
    deployment: Deployment,
) -> None:
    deployment.configure(KEY_A)
    deployment.migrate()
    children = _children(deployment, 3)
    assert deployment.client().get("/health/ready").status_code == 200

    deployment.configure(KEY_B)
    refused = deployment.client().get("/health/ready")
    assert refused.status_code == 503
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("/keys_do_not_open")
    assert "IEYS_ENCRYPTION_PREVIOUS_KEYS" in refused.json()["detail"]
    assert KEY_A not in refused.text
    assert KEY_B not in refused.text
    assert set(_reads(deployment, children)) == {500}

    deployment.configure(KEY_B, previous=KEY_A)
    assert deployment.client().get("/health/ready").status_code == 200
    assert _reads(deployment, children) == [200, 200, 200]

    rewrapped = deployment.ieys("rewrap", "--batch", "2")
    assert rewrapped.exit_code == 0, rewrapped.output
    assert "3 moved to the current key in 2 batches" in " ".join(rewrapped.output.split())
    assert KEY_A not in rewrapped.output
    assert KEY_B not in rewrapped.output
    assert _kek_ids(deployment) == {kek_id(load_kek(KEY_B))}

    deployment.configure(KEY_B)
    assert deployment.client().get("/health/ready").status_code == 200
    assert _reads(deployment, children) == [200, 200, 200]


def test_ready_is_503_when_households_are_under_a_key_no_one_configured(
    deployment: Deployment,
) -> None:
    deployment.configure(KEY_A)
    deployment.migrate()
    _children(deployment, 1)
    engine = deployment.engine()
    with engine.begin() as connection:
        connection.execute(update(FamilyKey).values(kek_id="0123456789abcdef"))
    engine.dispose()
    refused = deployment.client().get("/health/ready")
    assert refused.status_code == 503
    assert refused.json()["detail"] == keys_service.HOUSEHOLDS_KEK_UNKNOWN


def test_ready_is_503_when_the_canary_does_not_open_under_the_key_it_names(
    deployment: Deployment,
) -> None:
    deployment.configure(KEY_A)
    deployment.migrate()
    engine = deployment.engine()
    with engine.begin() as connection:
        # Wrapped under another key but labelled as the configured one's.
        forged = KeyRing(load_kek(KEY_B)).new_wrapped_key()
        connection.execute(update(KeyCanary).values(wrapped_key=forged.wrapped))
    engine.dispose()
    refused = deployment.client().get("/health/ready")
    assert refused.status_code == 503
    assert refused.json()["detail"] == keys_service.CANARY_DOES_NOT_OPEN
    assert "Retry-After" not in refused.headers


def test_a_rewrap_stopped_part_way_leaves_every_key_readable_and_a_rerun_finishes(
    deployment: Deployment,
) -> None:
    deployment.configure(KEY_A)
    deployment.migrate()
    children = _children(deployment, 5)
    deployment.configure(KEY_B, previous=KEY_A)
    ring = KeyRing(load_kek(KEY_B), [load_kek(KEY_A)])
    engine = deployment.engine()

    def killed(_: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        keys_service.rewrap(engine, ring, batch=2, progress=killed)
    with engine.connect() as connection:
        assert keys_service.households_by_kek(connection) == {
            ring.current_id: 2,
            kek_id(load_kek(KEY_A)): 3,
        }
    assert _reads(deployment, children) == [200] * 5

    report = keys_service.rewrap(engine, ring, batch=2)
    assert (report.moved, report.unknown, report.canary) == (3, 0, "moved")
    assert report.by_kek == {ring.current_id: 5}
    again = keys_service.rewrap(engine, ring, batch=2)
    assert (again.moved, again.batches, again.canary) == (0, 0, "current")
    engine.dispose()

    deployment.configure(KEY_B)
    assert _reads(deployment, children) == [200] * 5
    assert deployment.client().get("/health/ready").status_code == 200


def test_a_rewrap_leaves_keys_under_an_unconfigured_kek_and_says_so(
    deployment: Deployment,
) -> None:
    deployment.configure(KEY_A)
    deployment.migrate()
    _children(deployment, 2)
    deployment.configure(KEY_B)
    result = deployment.ieys("rewrap")
    assert result.exit_code == 1
    assert "2 under a key that is not configured" in " ".join(result.output.split())
    assert _kek_ids(deployment) == {kek_id(load_kek(KEY_A))}
