"""The record of processing (Art 30) and the appropriate policy document, from the tables
that decide: what is published is what is enforced."""

import csv
import gc
import io
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.policy import engine, rules
from app.policy.model import Ask, RecordState
from app.policy.vocabulary import Action, Category, Purpose, Role, SubjectKind
from app.reports.records_router import current_record

Headers = Callable[..., dict[str, str]]


def activity(record: dict[str, Any], purpose: Purpose) -> dict[str, Any]:
    [found] = [a for a in record["processing_activities"] if a["purpose"] == purpose.value]
    return found  # type: ignore[no-any-return]


def table(proxy: Mapping[Any, Any]) -> dict[Any, Any]:
    """The dict behind a read-only rule table: changing it changes the table in place,
    for the engine and the record alike."""
    [found] = [r for r in gc.get_referents(proxy) if isinstance(r, dict)]
    return found


@pytest.mark.parametrize("purpose", list(Purpose))
def test_each_purpose_is_recorded_with_the_categories_roles_and_bases_that_decide(
    purpose: Purpose,
) -> None:
    record = activity(current_record(), purpose)
    assert record["categories"] == [
        c.value for c in Category if c in rules.PURPOSE_CATEGORIES[purpose]
    ]
    assert record["roles"] == [r.value for r in Role if purpose in rules.ROLE_PURPOSES[r]]
    assert record["lawful_basis"]["art6"] == rules.PURPOSE_BASES[purpose].art6.basis.value
    assert record["aggregate_only"] == (purpose in rules.AGGREGATE_ONLY_PURPOSES)
    assert record["retention"], "every activity states its retention"


@pytest.mark.parametrize(
    ("purpose", "paragraphs"),
    [
        (Purpose.TAKE_UP_MONITORING, [8]),
        (Purpose.IMPACT_EVALUATION, [2]),
        (Purpose.HEALTH_CARE, [2]),
        (Purpose.NURSERY_CARE, [18]),
        (Purpose.SAFEGUARDING, [18]),
        (Purpose.EARLY_HELP, [18]),  # under a child protection plan
        (Purpose.SERVICE_INVITATION, []),
    ],
)
def test_the_schedule_1_conditions_each_purpose_relies_on(
    purpose: Purpose, paragraphs: list[int]
) -> None:
    assert activity(current_record(), purpose)["schedule1_paragraphs"] == paragraphs


def test_the_policy_document_covers_paragraphs_8_and_18_and_not_the_health_condition() -> None:
    document = current_record()["appropriate_policy_document"]
    covered = {c["schedule1_paragraph"]: c for c in document["conditions"]}
    assert {8, 18} <= set(covered)
    assert 2 not in covered  # Sch 1 Part 1 para 2 needs no policy document
    assert covered[8]["purposes"] == ["take_up_monitoring"]
    assert covered[8]["categories"] == ["ethnicity"]
    assert "safeguarding" in covered[18]["purposes"]
    assert len(document["principles"]) == 7
    assert "5th birthday" in str(document["retention_and_erasure"])
    assert "25th birthday" in str(document["retention_and_erasure"])


def test_recipients_outside_the_service_follow_the_share_rules() -> None:
    record = current_record()
    safeguarding = activity(record, Purpose.SAFEGUARDING)["recipients_outside_the_service"]
    assert {r["recipient"] for r in safeguarding} >= {"police", "gp_practice", "ipinfa"}
    health = activity(record, Purpose.HEALTH_CARE)["recipients_outside_the_service"]
    assert [r["recipient"] for r in health] == ["ipinfa"]  # only on its consent
    assert activity(record, Purpose.TAKE_UP_MONITORING)["recipients_outside_the_service"] == []


def _invitation_ask(categories: frozenset[Category], role: Role) -> Ask:
    return Ask(
        role=role,
        org="E09000007",
        purpose=Purpose.SERVICE_INVITATION,
        action=Action.READ,
        categories=categories,
        on=date(2026, 1, 15),
    )


def test_changing_a_purposes_categories_changes_both_the_decision_and_the_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = frozenset({Category.IDENTITY, Category.CIRCUMSTANCES})
    child = RecordState(kind=SubjectKind.CHILD)
    ask = _invitation_ask(asked, Role.HEALTH_VISITOR)
    before_decision = engine.decide(ask, child)
    before_record = activity(current_record(), Purpose.SERVICE_INVITATION)
    assert Category.CIRCUMSTANCES in before_decision.withheld_categories
    assert "circumstances" not in before_record["categories"]

    widened = rules.PURPOSE_CATEGORIES[Purpose.SERVICE_INVITATION] | {Category.CIRCUMSTANCES}
    monkeypatch.setitem(table(rules.PURPOSE_CATEGORIES), Purpose.SERVICE_INVITATION, widened)

    after_decision = engine.decide(ask, child)
    after_record = activity(current_record(), Purpose.SERVICE_INVITATION)
    assert Category.CIRCUMSTANCES in after_decision.allowed_categories
    assert "circumstances" in after_record["categories"]


def test_changing_who_may_declare_a_purpose_changes_both_the_decision_and_the_record(
    monkeypatch: pytest.MonkeyPatch, client: TestClient, headers: Headers
) -> None:
    analyst = Role.PUBLIC_HEALTH_ANALYST
    ask = _invitation_ask(frozenset({Category.IDENTITY}), analyst)
    child = RecordState(kind=SubjectKind.CHILD)
    assert not engine.decide(ask, child).allowed
    assert (
        "public_health_analyst"
        not in activity(current_record(), Purpose.SERVICE_INVITATION)["roles"]
    )

    purposes = rules.ROLE_PURPOSES[analyst] | {Purpose.SERVICE_INVITATION}
    monkeypatch.setitem(table(rules.ROLE_PURPOSES), analyst, purposes)

    assert engine.decide(ask, child).allowed
    served = client.get(
        "/v1/policy/records-of-processing", headers=headers("public_health_analyst")
    ).json()
    assert "public_health_analyst" in activity(served, Purpose.SERVICE_INVITATION)["roles"]
    invitations = client.get(
        "/v1/invitations",
        params={"review": "new_birth", "centre": "hampden"},
        headers=headers("public_health_analyst", "service_invitation"),
    )
    assert invitations.status_code == 200


def test_the_record_is_served_as_json_to_any_valid_token_without_a_purpose(
    client: TestClient, headers: Headers
) -> None:
    response = client.get(
        "/v1/policy/records-of-processing", headers=headers("nursery_practitioner")
    )
    assert response.status_code == 200
    body = response.json()
    assert body["controller"]["data_protection_officer"]["email"] == "dpo@camden.gov.uk"
    assert [a["purpose"] for a in body["processing_activities"]] == [p.value for p in Purpose]
    assert client.get("/v1/policy/records-of-processing").status_code == 401


def test_the_record_is_served_as_markdown(client: TestClient, headers: Headers) -> None:
    response = client.get(
        "/v1/policy/records-of-processing",
        headers={**headers("health_visitor"), "Accept": "text/markdown"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    text = response.text
    assert text.startswith("# Record of processing activities")
    assert "# Appropriate policy document" in text
    assert "### Schedule 1 paragraph 8" in text
    assert "### Schedule 1 paragraph 18" in text
    for purpose in Purpose:
        assert f"### {purpose.value}" in text


def test_the_record_is_served_as_csv_one_row_per_purpose(
    client: TestClient, headers: Headers
) -> None:
    response = client.get(
        "/v1/policy/records-of-processing",
        headers={**headers("data_protection_officer"), "Accept": "text/csv"},
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["purpose"] for row in rows] == [p.value for p in Purpose]
    take_up = rows[[p.value for p in Purpose].index("take_up_monitoring")]
    assert take_up["aggregate_only"] == "yes"
    assert "ethnicity: art9-2-g (Sch 1 para 8)" in take_up["art9_conditions"]
