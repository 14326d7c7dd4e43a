"""Dry-run decisions (POST /v1/decisions): the same engine, audited, touching no data."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.people.models import Person
from app.retention.models import DestructionLog
from app.sharing.models import Disclosure
from tests import factories

Headers = Callable[..., dict[str, str]]
FW = ("family_worker", "early_help")
CAMHS = ("camhs_clinician", "health_care")
PCPS = "pcps_information_sharing_and_video_recording"
JUSTIFICATION = "Disclosure by the child at nursery, discussed with the lead"
PERSON_CATEGORIES = ["identity", "contact"]


def dry_run(
    client: TestClient,
    headers: dict[str, str],
    subject_id: UUID,
    action: str = "read",
    categories: list[str] | None = None,
    recipient: str | None = None,
) -> Any:
    body: dict[str, Any] = {
        "subject_id": str(subject_id),
        "action": action,
        "categories": categories or PERSON_CATEGORIES,
    }
    if recipient is not None:
        body["recipient"] = recipient
    return client.post("/v1/decisions", json=body, headers=headers)


def event(session: Session, decision_id: str) -> AuditEvent:
    return session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(decision_id))
    ).scalar_one()


def test_a_dry_run_denial_answers_200_with_the_reason(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = dry_run(client, headers(*FW), child.id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["allowed"], body["reason"]) == (False, "consent_required")
    assert body["bases"] == []
    assert body["withheld_categories"] == PERSON_CATEGORIES
    assert "X-Lawful-Basis" not in response.headers


def test_a_dry_run_is_audited_like_any_other_decision(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = dry_run(client, headers(*FW), child.id)
    assert response.json()["decision_id"] == response.headers["X-Decision-Id"]
    audited = event(session, response.headers["X-Decision-Id"])
    assert (audited.action, audited.resource, audited.subject_id) == ("read", "dry_run", child.id)
    assert (audited.allowed, audited.reason, audited.purpose) == (
        False,
        "consent_required",
        "early_help",
    )
    assert audited.detail == '{"dry_run":true}'


def test_a_dry_run_names_bases_with_article_text_schedule_1_paragraph_and_gateways(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    h = headers("health_visitor", "safeguarding", justification=JUSTIFICATION)
    response = dry_run(client, h, child.id, categories=["identity", "health"])
    body = response.json()
    assert body["allowed"] is True
    art6, art9 = body["bases"]
    assert (art6["code"], art6["schedule1_paragraph"], art6["categories"]) == (
        "art6-1-e",
        None,
        [],
    )
    assert "6(1)(e)" in art6["text"]
    assert (art9["code"], art9["schedule1_paragraph"], art9["categories"]) == (
        "art9-2-g",
        18,
        ["health"],
    )
    assert "Schedule 1 paragraph 18" in art9["text"]
    assert body["gateways"] == ["Children Act 1989 and 2004", "National Health Service Act 2006"]
    assert body["review_required"] is True
    assert response.headers["X-Lawful-Basis"] == "art6-1-e,art9-2-g"


def test_a_dry_run_on_consent_names_the_consent_it_rests_on(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_consent(session, child, categories=("identity",))
    body = dry_run(client, headers(*FW), child.id).json()
    assert body["allowed"] is True
    assert body["consent_types"] == ["early_help_support"]
    assert body["allowed_categories"] == ["identity"]
    assert body["withheld_categories"] == ["contact"]


def _no_consent(session: Session, child: Person) -> None:
    return None


def _consent(session: Session, child: Person) -> None:
    factories.make_consent(session, child, categories=("identity",))


def _withdrawn(session: Session, child: Person) -> None:
    factories.make_consent(session, child, withdrawn=True)


def _plan(session: Session, child: Person) -> None:
    factories.make_plan(session, child)


@pytest.mark.parametrize("arrange", [_no_consent, _consent, _withdrawn, _plan])
def test_a_dry_run_read_decides_exactly_as_the_real_read(
    client: TestClient,
    session: Session,
    headers: Headers,
    arrange: Callable[[Session, Person], None],
) -> None:
    child = factories.make_child(session)
    arrange(session, child)
    real = client.get(f"/v1/people/{child.id}", headers=headers(*FW))
    dry = dry_run(client, headers(*FW), child.id)
    answer = dry.json()
    assert answer["allowed"] is (real.status_code == 200)
    if real.status_code == 200:
        assert answer["reason"] == "allowed"
        assert ",".join(b["code"] for b in answer["bases"]) == real.headers["X-Lawful-Basis"]
        withheld = real.headers.get("X-Withheld-Categories")
        assert ",".join(answer["withheld_categories"]) == (withheld or "")
    else:
        assert answer["reason"] == real.json()["reason"]
    assert event(session, dry.headers["X-Decision-Id"]).reason == answer["reason"]


@pytest.mark.parametrize(
    ("consent", "recipient", "purpose", "justification"),
    [
        (None, "ipinfa", "health_care", None),
        ("active", "ipinfa", "health_care", None),
        ("withdrawn", "ipinfa", "health_care", None),
        ("active", "school_nurse", "health_care", None),
        (None, "police", "safeguarding", None),
        (None, "police", "safeguarding", JUSTIFICATION),
    ],
)
def test_a_dry_run_share_decides_exactly_as_the_real_share(
    client: TestClient,
    session: Session,
    headers: Headers,
    consent: str | None,
    recipient: str,
    purpose: str,
    justification: str | None,
) -> None:
    child = factories.make_child(session)
    if consent is not None:
        factories.make_consent(
            session,
            child,
            consent_type=PCPS,
            recipient="ipinfa",
            categories=("identity", "health"),
            withdrawn=consent == "withdrawn",
        )
    h = headers("health_visitor", purpose, justification=justification)
    categories = ["identity", "health"]
    dry = dry_run(client, h, child.id, "share", categories, recipient).json()
    real = client.post(
        "/v1/shares",
        json={"subject_id": str(child.id), "recipient": recipient, "categories": categories},
        headers=h,
    )
    assert dry["allowed"] is (real.status_code == 201)
    if real.status_code == 201:
        assert [b["code"] for b in dry["bases"]] == real.json()["basis"]
        assert dry["allowed_categories"] == real.json()["categories"]
        assert dry["review_required"] is real.json()["review_required"]
    else:
        assert dry["reason"] == real.json()["reason"]


def test_a_dry_run_share_discloses_nothing(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    factories.make_consent(
        session, child, consent_type=PCPS, recipient="ipinfa", categories=("identity",)
    )
    response = dry_run(client, headers(*CAMHS), child.id, "share", ["identity"], "ipinfa")
    assert response.json()["allowed"] is True
    assert "package" not in response.json()
    assert session.execute(select(func.count()).select_from(Disclosure)).scalar_one() == 0
    audited = event(session, response.headers["X-Decision-Id"])
    assert (audited.action, audited.resource) == ("share", "dry_run")
    assert audited.detail == '{"dry_run":true,"recipient":"ipinfa"}'


def test_a_dry_run_about_a_gone_person_answers_gone(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    session.execute(Person.__table__.delete().where(Person.id == child.id))
    session.add(
        DestructionLog(
            subject_id=child.id,
            subject_kind="child",
            rule="erasure",
            destroyed_on=factories.today(),
        )
    )
    session.commit()
    response = dry_run(client, headers(*CAMHS), child.id)
    assert response.status_code == 200
    assert (response.json()["allowed"], response.json()["reason"]) == (False, "gone")


def test_a_dry_run_about_an_unknown_person_is_404(client: TestClient, headers: Headers) -> None:
    response = dry_run(client, headers(*CAMHS), UUID("00000000-0000-4000-8000-000000000000"))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("action", "recipient"),
    [("share", None), ("read", "ipinfa"), ("share", "a_newspaper")],
)
def test_a_dry_run_names_a_recipient_for_a_share_and_only_for_a_share(
    client: TestClient, session: Session, headers: Headers, action: str, recipient: str | None
) -> None:
    child = factories.make_child(session)
    response = dry_run(client, headers(*CAMHS), child.id, action, ["identity"], recipient)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "recipient"


def test_a_dry_run_needs_a_purpose(client: TestClient, session: Session, headers: Headers) -> None:
    child = factories.make_child(session)
    assert dry_run(client, headers("health_visitor"), child.id).status_code == 400


def test_a_dry_run_cannot_ask_for_a_write(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    response = dry_run(client, headers(*CAMHS), child.id, "write")
    assert response.status_code == 422
