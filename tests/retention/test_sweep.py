"""The retention sweep over HTTP: it destroys a child past five (and then the household),
keeps a child with family-worker support and a child under a legal hold, works in
batches that fail alone, finishes on a re-run, and leaves the audit chain verifiable."""

from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.people.models import Family, Person
from app.retention import service as retention_service
from app.retention.models import DestructionLog
from tests import factories
from tests.retention.aging import age_child

Headers = Any
OFFICER = ("data_protection_officer", "subject_rights")
LEGAL = ("data_protection_officer", "legal_claims")
FW_WHY = "Family worker key work agreed at the strategy meeting"
HV = ("health_visitor", "health_care")


def sweep(client: TestClient, headers: Headers, **params: object) -> dict[str, Any]:
    query = "&".join(f"{k}={str(v).lower()}" for k, v in params.items())
    response = client.post(f"/v1/retention/sweep?{query}", headers=headers(*OFFICER))
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def household(session: Session) -> tuple[UUID, UUID, UUID]:
    family = factories.make_family(session)
    carer = factories.make_carer(session, family=family)
    child = factories.make_child(session, family=family)
    return family.id, carer.id, child.id


@pytest.fixture
def three(
    client: TestClient, session: Session, headers: Headers
) -> dict[str, tuple[UUID, UUID, UUID]]:
    """Three households whose child is six: one plain, one with family-worker support,
    one under a legal hold."""
    plain, supported, held = household(session), household(session), household(session)
    support = client.post(
        f"/v1/people/{supported[2]}/family-worker-support",
        json={"started_on": str(factories.today())},
        headers=headers("family_worker", "safeguarding", justification=FW_WHY),
    )
    assert support.status_code == 201, support.text
    for _, _, child_id in (plain, supported, held):
        age_child(session, session.get(Person, child_id))  # type: ignore[arg-type]
    hold = client.post(
        "/v1/legal-holds",
        json={"subject_id": str(held[2]), "reason": "Disclosure ordered in family proceedings"},
        headers=headers(*LEGAL),
    )
    assert hold.status_code == 201, hold.text
    return {"plain": plain, "supported": supported, "held": held}


def test_a_sweep_destroys_a_child_past_five_and_keeps_the_supported_and_the_held(
    client: TestClient, session: Session, headers: Headers, three: dict[str, Any]
) -> None:
    report = sweep(client, headers)
    assert report["destroyed"] == {"child": 1, "carer": 1, "family": 1}
    assert report["kept"] == 1
    assert report["failed_batches"] == 0
    family_id, carer_id, child_id = three["plain"]
    for url in (f"/v1/people/{child_id}", f"/v1/people/{carer_id}", f"/v1/families/{family_id}"):
        assert client.get(url, headers=headers(*HV)).status_code == 410, url
    assert (
        client.get(f"/v1/people/{three['supported'][2]}", headers=headers(*HV)).status_code == 200
    )
    held_child = client.get(f"/v1/people/{three['held'][2]}", headers=headers(*HV))
    assert held_child.json()["reason"] == "retention_expired"
    held_carer = f"/v1/people/{three['held'][1]}"
    assert client.get(held_carer, headers=headers(*HV)).json()["reason"] == "retention_expired"
    assert client.get(held_carer, headers=headers(*OFFICER)).status_code == 200, "kept"
    logged = {
        row.subject_id: (row.subject_kind, row.rule)
        for row in session.execute(select(DestructionLog)).scalars()
    }
    assert logged == {
        child_id: ("child", "fifth_birthday"),
        carer_id: ("carer", "household_last_child"),
        family_id: ("family", "household_last_child"),
    }


def test_the_audit_chain_verifies_after_a_sweep(
    client: TestClient, session: Session, headers: Headers, three: dict[str, Any]
) -> None:
    client.get(f"/v1/people/{three['plain'][1]}", headers=headers(*HV))
    client.get("/v1/audit/verify", headers=headers(*OFFICER))
    sweep(client, headers)
    verified = client.get("/v1/audit/verify", headers=headers(*OFFICER)).json()
    assert verified["ok"] is True, verified
    assert verified["unsealed"] == 0
    trail = client.get(f"/v1/audit?subject_id={three['plain'][1]}", headers=headers(*OFFICER))
    assert trail.json()["items"], "the destroyed subject's events stay, by opaque id"


def test_a_dry_run_counts_and_changes_nothing(
    client: TestClient, session: Session, headers: Headers, three: dict[str, Any]
) -> None:
    report = sweep(client, headers, dry_run=True)
    assert report["dry_run"] is True
    assert report["destroyed"] == {"child": 1, "carer": 1, "family": 1}
    assert session.get(Family, three["plain"][0]) is not None
    assert session.execute(select(DestructionLog)).first() is None


def test_a_second_run_finds_nothing_more_to_destroy(
    client: TestClient, session: Session, headers: Headers, three: dict[str, Any]
) -> None:
    sweep(client, headers)
    again = sweep(client, headers)
    assert again["destroyed"] == {}
    assert again["kept"] == 1


def test_releasing_the_hold_lets_the_next_sweep_destroy_the_child_and_its_household(
    client: TestClient, session: Session, headers: Headers, three: dict[str, Any]
) -> None:
    sweep(client, headers)
    holds = client.post(
        "/v1/legal-holds",
        json={"subject_id": str(three["held"][0]), "reason": "The whole household, too"},
        headers=headers(*LEGAL),
    )
    on_child = session.execute(
        select(retention_service.LegalHold.id).where(
            retention_service.LegalHold.subject_id == three["held"][2]
        )
    ).scalar_one()
    released = client.delete(f"/v1/legal-holds/{on_child}", headers=headers(*LEGAL))
    assert released.status_code == 200
    assert sweep(client, headers)["destroyed"] == {}, "the household hold still keeps it"
    client.delete(f"/v1/legal-holds/{holds.json()['id']}", headers=headers(*LEGAL))
    assert sweep(client, headers)["destroyed"] == {"child": 1, "carer": 1, "family": 1}


def test_a_failing_batch_loses_nothing_and_a_rerun_finishes_the_job(
    client: TestClient,
    session: Session,
    headers: Headers,
    three: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extra = household(session)
    age_child(session, session.get(Person, extra[2]))  # type: ignore[arg-type]
    doomed = {three["plain"][0], extra[0]}
    broken = min(doomed)
    real = retention_service.destroy

    def destroy(connection: Any, destroyed: Any, on: Any) -> None:
        if any(d.subject_id == broken for d in destroyed):
            raise RuntimeError("disk full")
        real(connection, destroyed, on)

    monkeypatch.setattr(retention_service, "destroy", destroy)
    first = sweep(client, headers, batch=1)
    assert first["failed_batches"] == 1
    assert first["failed_households"] == 1
    assert first["destroyed"] == {"child": 1, "carer": 1, "family": 1}
    assert session.get(Family, broken) is not None, "the failed batch was rolled back whole"
    broken_child = next(h[2] for h in (three["plain"], extra) if h[0] == broken)
    assert session.get(Person, broken_child) is not None
    monkeypatch.setattr(retention_service, "destroy", real)
    second = sweep(client, headers, batch=1)
    assert second["destroyed"] == {"child": 1, "carer": 1, "family": 1}
    assert second["failed_batches"] == 0
    session.expire_all()
    assert all(session.get(Family, f) is None for f in doomed)


def test_only_the_officer_sweeps(client: TestClient, headers: Headers) -> None:
    response = client.post("/v1/retention/sweep", headers=headers(*HV))
    assert response.status_code == 403
    legal = client.post("/v1/retention/sweep", headers=headers(*LEGAL))
    assert legal.status_code == 403
