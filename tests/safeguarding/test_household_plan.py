"""`household_plan_active`: DOMAIN.md step 8, read from the sealed kind and dates."""

from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.platform.crypto import get_key_ring
from app.safeguarding import service as safeguarding_service
from tests import factories


def active(session: Session, family_id: UUID) -> bool:
    return safeguarding_service.household_plan_active(
        session, family_id, factories.today(), get_key_ring()
    )


def test_a_household_with_no_safeguarding_record_has_no_active_plan(session: Session) -> None:
    child = factories.make_child(session)
    assert not active(session, child.family_id)


def test_a_plan_for_one_child_is_active_for_the_whole_household(session: Session) -> None:
    family = factories.make_family(session)
    child = factories.make_child(session, family=family)
    factories.make_child(session, family=family)
    factories.make_plan(session, child)
    assert active(session, family.id)


def test_a_plan_that_ended_yesterday_is_not_active(session: Session) -> None:
    child = factories.make_child(session)
    yesterday = factories.today() - timedelta(days=1)
    factories.make_plan(session, child, start=yesterday - timedelta(days=60), end=yesterday)
    assert not active(session, child.family_id)


def test_a_plan_starting_tomorrow_is_not_yet_active(session: Session) -> None:
    child = factories.make_child(session)
    factories.make_plan(session, child, start=factories.today() + timedelta(days=1))
    assert not active(session, child.family_id)


def test_a_risk_issue_is_not_a_plan(session: Session) -> None:
    child = factories.make_child(session)
    factories.make_safeguarding_record(session, child, kind="risk_issue")
    assert not active(session, child.family_id)


def test_a_record_about_a_carer_does_not_make_a_plan_for_the_household(
    session: Session,
) -> None:
    carer = factories.make_carer(session)
    factories.make_safeguarding_record(session, carer, kind="child_protection_plan")
    assert not active(session, carer.family_id)


def test_another_households_plan_does_not_count(session: Session) -> None:
    child = factories.make_child(session)
    factories.make_plan(session, factories.make_child(session))
    assert not active(session, child.family_id)


def test_a_siblings_plan_lets_early_help_read_a_child_without_consent(
    client: TestClient, session: Session, headers: Callable[..., dict[str, str]]
) -> None:
    family = factories.make_family(session)
    factories.make_plan(session, factories.make_child(session, family=family))
    sibling = factories.make_child(session, family=family)
    response = client.get(
        f"/v1/people/{sibling.id}", headers=headers("family_worker", "early_help")
    )
    assert response.status_code == 200, response.text
    assert response.headers["X-Lawful-Basis"].startswith("art6-1-e")
