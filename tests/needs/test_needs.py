"""GET /v1/needs-assessment: households not yet in touch, for outreach, never scored."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import uuid4

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.consent.models import Consent
from app.needs import schemas
from app.people import records as people_records
from app.people import schemas as people_schemas
from app.people import service as people_service
from app.platform.categories import CATEGORY_KEY
from app.platform.crypto import get_key_ring
from tests import factories
from tests.reports.helpers import child, contact, household, set_flags

Headers = Callable[..., dict[str, str]]
FW = ("family_worker", "needs_assessment")


def outreach(client: TestClient, headers: Headers, centre: str = "hampden", **q: Any) -> Any:
    response = client.get(
        "/v1/needs-assessment", params={"centre": centre, **q}, headers=headers(*FW)
    )
    assert response.status_code == 200, response.text
    return response


def listed(body: Any) -> list[str]:
    return [item["family_id"] for item in body["items"]]


def test_only_households_not_in_touch_with_any_service_are_listed(
    client: TestClient, session: Session, headers: Headers
) -> None:
    born = factories.today() - timedelta(days=200)
    quiet = household(session)
    child(session, born, family=quiet)
    visited = household(session)
    contact(session, child(session, born, family=visited), factories.today())
    enrolled = household(session)
    factories.enrol(session, child(session, born, family=enrolled), factories.nursery_ids()[0])
    supported = household(session)
    kid = child(session, born, family=supported)
    view = people_service.find(session, kid.id)
    assert view is not None
    people_service.record_family_worker_support(
        session,
        view,
        people_schemas.FamilyWorkerSupportCreate(started_on=factories.today()),
        recorded_by="fw",
    )
    session.commit()
    consented = household(session)
    factories.give_early_help_consent(session, child(session, born, family=consented))
    session.commit()
    elsewhere = household(session, "NW5 1AA")
    child(session, born, family=elsewhere)
    assert listed(outreach(client, headers).json()) == [str(quiet.id)]


def test_a_household_comes_with_identity_contact_and_circumstances_only(
    client: TestClient, session: Session, headers: Headers
) -> None:
    family = household(session)
    kid = child(session, factories.today() - timedelta(days=100), family=family)
    carer = factories.make_carer(session, family=family)
    view = people_service.find(session, carer.id)
    assert view is not None
    people_records.write(
        session,
        people_records.CIRCUMSTANCES,
        view,
        people_schemas.Circumstances(accommodation="temporary"),
        get_key_ring(),
        None,
    )
    session.commit()
    response = outreach(client, headers)
    assert response.headers["X-Lawful-Basis"] == "art6-1-e"
    [item] = response.json()["items"]
    assert [c["id"] for c in item["children"]] == [str(kid.id)]
    assert [c["id"] for c in item["carers"]] == [str(carer.id)]
    assert item["circumstances"][0]["accommodation"] == "temporary"
    assert "ethnicity" not in response.text


def test_nothing_in_the_list_ranks_or_scores_a_family() -> None:
    """Every field is identity, contact or circumstances: no score, rank or flag exists."""
    fields: dict[str, str] = {}
    for model in (
        schemas.NeedsAssessmentList,
        schemas.OutreachFamily,
        schemas.Member,
        schemas.MemberCircumstances,
    ):
        for name, info in model.model_fields.items():
            extra = info.json_schema_extra
            assert isinstance(extra, dict)
            fields[f"{model.__name__}.{name}"] = str(extra[CATEGORY_KEY])
    assert set(fields.values()) <= {"identity", "contact", "circumstances"}
    assert not [f for f in fields if any(w in f for w in ("score", "rank", "risk", "priority"))]


def test_households_are_listed_by_id_across_pages(
    client: TestClient, session: Session, headers: Headers
) -> None:
    families = [household(session) for _ in range(5)]
    for family in families:
        child(session, factories.today() - timedelta(days=30), family=family)
    seen: list[str] = []
    cursor = None
    while True:
        body = outreach(client, headers, limit=2, **({"cursor": cursor} if cursor else {})).json()
        seen += listed(body)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(str(f.id) for f in families)


def test_children_restricted_or_objecting_are_left_out_and_counted(
    client: TestClient, session: Session, headers: Headers
) -> None:
    born = factories.today() - timedelta(days=60)
    only_child = household(session)
    set_flags(session, child(session, born, family=only_child), restricted=True)
    two = household(session)
    kept = child(session, born, family=two)
    set_flags(session, child(session, born, family=two), objection_upheld=True)
    body = outreach(client, headers).json()
    assert listed(body) == [str(two.id)]
    assert [c["id"] for c in body["items"][0]["children"]] == [str(kept.id)]
    assert body["left_out"] == {"restricted": 1, "objection_upheld": 1, "retention_expired": 0}


def test_a_consent_about_any_member_puts_the_household_in_touch(
    client: TestClient, session: Session, headers: Headers
) -> None:
    family = household(session)
    child(session, factories.today() - timedelta(days=30), family=family)
    carer = factories.make_carer(session, family=family)
    session.add(
        Consent(
            id=uuid4(),
            subject_id=carer.id,
            given_by_id=carer.id,
            type="early_help_support",
            categories="identity,contact",
            method="signed_form",
        )
    )
    session.commit()
    assert listed(outreach(client, headers).json()) == []


def test_service_invitation_may_not_draw_the_outreach_list(
    client: TestClient, headers: Headers
) -> None:
    response = client.get(
        "/v1/needs-assessment",
        params={"centre": "hampden"},
        headers=headers("family_worker", "service_invitation"),
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "purpose_not_permitted"
