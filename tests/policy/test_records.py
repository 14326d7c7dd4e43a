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


# --- every basis, and when it applies, in every format ----------------------------------

RECORD_URL = "/v1/policy/records-of-processing"
BasisRow = tuple[str, str, str]
"""(purpose, when the basis applies, the basis: Art 6 and each Art 9 condition)."""


def _basis_text(basis: dict[str, Any]) -> str:
    parts = [basis["art6"]]
    for category, condition in basis["art9"].items():
        paragraph = condition["schedule1_paragraph"]
        suffix = f" (Sch 1 para {paragraph})" if paragraph is not None else ""
        parts.append(f"{category}: {condition['code']}{suffix}")
    return "; ".join(parts)


def _served(client: TestClient, headers: Headers, accept: str | None = None) -> Any:
    extra = {"Accept": accept} if accept else {}
    response = client.get(RECORD_URL, headers={**headers("family_worker"), **extra})
    assert response.status_code == 200, response.text
    return response


def _json_bases(record: dict[str, Any]) -> set[BasisRow]:
    return {
        (activity["purpose"], basis["when"], _basis_text(basis))
        for activity in record["processing_activities"]
        for basis in activity["lawful_bases"]
    }


def _csv_bases(text: str) -> set[BasisRow]:
    found = set()
    for row in csv.DictReader(io.StringIO(text)):
        for line in row["lawful_bases"].splitlines():
            when, _, bases = line.rpartition(" — ")
            found.add((row["purpose"], when, bases))
    return found


def _markdown_bases(text: str) -> set[BasisRow]:
    """The rows of each purpose's "Lawful bases" table: when | Art 6 | Art 9."""
    found = set()
    purpose, rows = "", False
    for line in text.splitlines():
        if line.startswith("### "):
            purpose, rows = line.removeprefix("### "), False
        elif line == "#### Lawful bases":
            rows = True
        elif rows and line.startswith("| ") and not line.startswith("| when it applies"):
            when, art6, art9 = (cell.strip() for cell in line.strip("|").split(" | "))
            found.add((purpose, when, art6 if art9 == "—" else f"{art6}; {art9}"))
        elif rows and not line.startswith("|"):
            rows = line == ""
    return found


def test_every_format_lists_the_same_bases_and_when_each_applies(
    client: TestClient, headers: Headers
) -> None:
    from_json = _json_bases(_served(client, headers).json())
    from_csv = _csv_bases(_served(client, headers, "text/csv").text)
    from_markdown = _markdown_bases(_served(client, headers, "text/markdown").text)
    assert from_json
    assert from_csv == from_json
    assert from_markdown == from_json


def _of(found: set[BasisRow], purpose: Purpose) -> list[tuple[str, str]]:
    return [(when, bases) for p, when, bases in found if p == purpose.value]


@pytest.mark.parametrize("accept", [None, "text/csv", "text/markdown"])
def test_early_help_names_consent_the_child_protection_plan_consent_records_and_shares(
    client: TestClient, headers: Headers, accept: str | None
) -> None:
    served = _served(client, headers, accept)
    found = {
        None: lambda r: _json_bases(r.json()),
        "text/csv": lambda r: _csv_bases(r.text),
        "text/markdown": lambda r: _markdown_bases(r.text),
    }[accept](served)
    early_help = _of(found, Purpose.EARLY_HELP)
    # On consent: 6(1)(a) and, for ethnicity and health, 9(2)(a).
    assert any(
        "early_help_support consent" in when
        and bases == "art6-1-a; ethnicity: art9-2-a; health: art9-2-a"
        for when, bases in early_help
    ), early_help
    # With an active child protection plan for any child of the household: public task
    # and Sch 1 para 18, no consent.
    plan = "art6-1-e; ethnicity: art9-2-g (Sch 1 para 18); health: art9-2-g (Sch 1 para 18)"
    assert any(
        "child protection plan is active" in when and "no consent" in when and bases == plan
        for when, bases in early_help
    ), early_help
    # Recording, withdrawing and reading consent records: a legal obligation (Art 7(1)).
    assert any(
        "record_consent" in when and "consent_withdrawal" in when and bases == "art6-1-c"
        for when, bases in early_help
    ), early_help
    # A share outside the service: on the recipient's consent type, naming the recipient.
    assert any(
        when.startswith("share with ipinfa")
        and "pcps_information_sharing_and_video_recording consent" in when
        and bases.startswith("art6-1-a; ")
        for when, bases in early_help
    ), early_help
    # Under safeguarding, a share needs no consent: public task and Sch 1 para 18.
    assert any(
        when.startswith("share with any recipient")
        and "without consent" in when
        and bases.startswith("art6-1-e; ")
        and "safeguarding: art9-2-g (Sch 1 para 18)" in bases
        for when, bases in _of(found, Purpose.SAFEGUARDING)
    )


def test_the_bases_listed_are_those_of_the_rule_tables() -> None:
    """What the record lists under early help is read from the tables the engine decides
    by, not written out again."""
    [early_help] = [
        a for a in current_record()["processing_activities"] if a["purpose"] == "early_help"
    ]
    art6 = {basis["art6"] for basis in early_help["lawful_bases"]}
    assert art6 == {
        rules.CONSENT_BASES.art6.basis.value,
        rules.CP_PLAN_BASES[Purpose.EARLY_HELP].art6.basis.value,
        rules.ACTION_BASES[Action.RECORD_CONSENT].art6.basis.value,
    }


def test_each_recipient_names_its_country_and_any_transfer_safeguard(
    client: TestClient, headers: Headers
) -> None:
    record = _served(client, headers).json()
    [ipinfa] = [
        r
        for r in activity(record, Purpose.HEALTH_CARE)["recipients_outside_the_service"]
        if r["recipient"] == "ipinfa"
    ]
    assert ipinfa["country"] == "to be confirmed by the council"
    assert ipinfa["transfer_safeguard"] == "to be confirmed by the council"
    police = [
        r
        for r in activity(record, Purpose.SAFEGUARDING)["recipients_outside_the_service"]
        if r["recipient"] == "police"
    ]
    assert police[0]["country"] == "United Kingdom"
    assert police[0]["transfer_safeguard"] is None
    transfers = record["transfers_outside_the_uk"]["recipients"]
    assert [t["recipient"] for t in transfers] == ["ipinfa"]
    markdown = _served(client, headers, "text/markdown").text
    section = markdown.split("## Transfers outside the UK")[1].split("\n## ")[0]
    assert "IPINFA" in section
    assert section.count("to be confirmed by the council") == 2
    csv_text = _served(client, headers, "text/csv").text
    assert "ipinfa (to be confirmed by the council; transfer safeguard: to be confirmed" in (
        csv_text
    )


def test_taking_early_help_off_the_child_protection_plan_table_takes_it_off_the_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def early_help_art6() -> set[str]:
        found = activity(current_record(), Purpose.EARLY_HELP)["lawful_bases"]
        return {basis["art6"] for basis in found}

    assert "art6-1-e" in early_help_art6()
    monkeypatch.delitem(table(rules.CP_PLAN_BASES), Purpose.EARLY_HELP)
    assert "art6-1-e" not in early_help_art6()
    assert activity(current_record(), Purpose.EARLY_HELP)["schedule1_paragraphs"] == []
