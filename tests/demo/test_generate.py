"""Demo data (issue #4): deterministic, valid identifiers, the retention rules, encrypted
fields, and readable through the API like any other record."""

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, select
from sqlalchemy.engine import Engine

from app.consent.models import Consent
from app.contacts.models import Contact
from app.demo.generate import (
    CONSENT_CATEGORIES,
    OUTCOMES,
    REVIEWS,
    DemoDataPresent,
    first_family_id,
    generate,
)
from app.nurseries.models import Enrolment
from app.people.models import Family, FamilyKey, FamilyWorkerSupport, Person, SpecialCategoryRecord
from app.platform.crypto import FieldCipher, field_aad, get_key_ring
from app.platform.identifiers import (
    EthnicCategory,
    london_today,
    normalise_postcode,
    normalise_upn,
    postcode_district,
)
from app.reference import catalogue
from app.retention import rules as retention_rules
from app.safeguarding.models import SafeguardingRecord

Headers = Callable[..., dict[str, str]]

TODAY = date(2026, 1, 15)
CAMDEN_DISTRICTS = {
    "NW1", "NW3", "NW5", "NW6", "NW8", "N6", "N7", "N19", "WC1A", "WC1H", "WC1N", "WC1X",
    "WC2A", "WC2B", "WC2H", "EC1M", "EC1N", "EC1R",
}  # fmt: skip


def load(connection: Connection, families: int = 50, *, seed: int = 7, today: date = TODAY) -> None:
    generate(connection, families=families, seed=seed, today=today, batch=16)


def snapshot(engine: Engine, *, batch: int) -> list[Any]:
    """Generate seed 7 in a transaction of its own, read it back, roll it back."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            generate(connection, families=50, seed=7, today=TODAY, batch=batch)
            return [
                connection.execute(
                    select(
                        Person.id,
                        Person.family_id,
                        Person.kind,
                        Person.given_name,
                        Person.family_name,
                        Person.date_of_birth,
                        Person.nhs_number,
                        Person.upn,
                        Person.destroy_on,
                    ).order_by(Person.nhs_number)
                ).all(),
                connection.execute(
                    select(Family.id, Family.postcode, Family.address_line1).order_by(Family.id)
                ).all(),
                connection.execute(
                    select(Contact.id, Contact.person_id, Contact.review).order_by(Contact.id)
                ).all(),
            ]
        finally:
            transaction.rollback()


def ciphers(connection: Connection) -> dict[UUID, FieldCipher]:
    keys = get_key_ring()
    return {
        row.family_id: keys.cipher_for(row.wrapped_key, row.kek_id)
        for row in connection.execute(
            select(FamilyKey.family_id, FamilyKey.wrapped_key, FamilyKey.kek_id)
        )
    }


def assert_sealed(stored: str, plain: str) -> None:
    """A sealed token, not the value: a one-letter ethnicity code may occur in any
    base64 text by chance, so only longer values are looked for inside the token."""
    assert stored.startswith("v1.")
    assert stored != plain
    if len(plain) > 3:
        assert plain not in stored


def test_the_same_seed_generates_the_same_families_whatever_the_batch_size(
    engine: Engine,
) -> None:
    first, second = snapshot(engine, batch=16), snapshot(engine, batch=50)
    assert first == second
    _, families, _ = first
    assert len(families) == 50
    assert first_family_id(7) in {family.id for family in families}


def test_another_seed_generates_other_families() -> None:
    assert first_family_id(7) != first_family_id(8)


def test_every_nhs_number_is_valid_unique_and_in_the_999_range(connection: Connection) -> None:
    from app.platform.identifiers import is_valid_nhs_number

    load(connection)
    numbers = list(connection.execute(select(Person.nhs_number)).scalars())
    assert numbers
    assert all(n is not None and n.startswith("999") and is_valid_nhs_number(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)


def test_every_upn_is_valid_and_carries_camdens_la_code(connection: Connection) -> None:
    load(connection, 200)
    upns = [u for u in connection.execute(select(Person.upn)).scalars() if u is not None]
    assert upns
    assert all(normalise_upn(u) == u and u[1:4] == "202" for u in upns)
    assert len(set(upns)) == len(upns)


def test_every_postcode_is_a_camden_postcode_in_canonical_form(connection: Connection) -> None:
    load(connection)
    postcodes = list(connection.execute(select(Family.postcode)).scalars())
    assert all(normalise_postcode(p) == p for p in postcodes)
    assert {postcode_district(p) for p in postcodes} <= CAMDEN_DISTRICTS


@pytest.mark.parametrize(
    "today",
    [TODAY, date(2024, 2, 29), date(2025, 2, 28), date(2025, 3, 1)],
    ids=["mid-january", "leap-day", "day-before-march-in-a-common-year", "first-of-march"],
)
def test_every_child_is_under_five_and_born_by_the_day(connection: Connection, today: date) -> None:
    load(connection, 200, today=today)
    rows = connection.execute(
        select(Person.kind, Person.date_of_birth).where(Person.kind == "child")
    ).all()
    assert rows
    assert all(
        r.date_of_birth <= today and retention_rules.is_under_five(r.date_of_birth, today)
        for r in rows
    )
    older = connection.execute(
        select(Person.date_of_birth).where(Person.kind == "household_member")
    ).scalars()
    # Brothers and sisters of five or more are household members, never children.
    assert all(not retention_rules.is_under_five(born, today) for born in older)


def test_destruction_dates_follow_the_retention_rules(connection: Connection) -> None:
    load(connection, 200)
    families = {f.id: f for f in connection.execute(select(Family)).all()}
    people = connection.execute(select(Person)).all()
    child_dates: dict[UUID, list[date]] = {family_id: [] for family_id in families}
    for person in people:
        family = families[person.family_id]
        if person.kind == "child":
            assert person.destroy_on == retention_rules.child_destruction_date(
                person.date_of_birth, family_worker_supported=family.family_worker_supported
            )
            child_dates[person.family_id].append(person.destroy_on)
        else:
            assert person.destroy_on is None
    for family_id, family in families.items():
        assert child_dates[family_id]
        assert family.destroy_on == retention_rules.household_destruction_date(
            family.created_at.date(), child_dates[family_id]
        )


def test_family_worker_support_keeps_the_childrens_data_to_25(connection: Connection) -> None:
    load(connection, 200)
    supported = {
        row.family_id: row.person_id
        for row in connection.execute(
            select(FamilyWorkerSupport.family_id, FamilyWorkerSupport.person_id)
        )
    }
    flagged = set(
        connection.execute(select(Family.id).where(Family.family_worker_supported)).scalars()
    )
    assert supported
    assert set(supported) == flagged
    for child in connection.execute(
        select(Person).where(Person.family_id.in_(flagged), Person.kind == "child")
    ):
        assert child.destroy_on == retention_rules.add_years(child.date_of_birth, 25)


def test_special_category_values_are_sealed_under_the_family_key(connection: Connection) -> None:
    load(connection, 200)
    by_family = ciphers(connection)
    rows = connection.execute(
        select(SpecialCategoryRecord, Person.family_id).join(
            Person, Person.id == SpecialCategoryRecord.person_id
        )
    ).all()
    assert rows
    for row in rows:
        cipher = by_family[row.family_id]
        for column in ("ethnicity", "medical_history", "wellbeing", "needs", "allergies"):
            stored = getattr(row, column)
            if stored is None:
                continue
            plain = cipher.decrypt(stored, aad=field_aad("special_category", column, row.person_id))
            assert_sealed(stored, plain)
            if column == "ethnicity":
                assert EthnicCategory(plain)


def test_child_protection_plans_are_active_and_every_column_about_the_child_sealed(
    connection: Connection,
) -> None:
    load(connection, 200)
    by_family = ciphers(connection)
    rows = connection.execute(
        select(SafeguardingRecord, Person.family_id, Person.kind.label("person_kind")).join(
            Person, Person.id == SafeguardingRecord.person_id
        )
    ).all()
    assert rows
    for row in rows:
        assert row.person_kind == "child"
        cipher = by_family[row.family_id]
        plain = {
            column: cipher.decrypt(
                getattr(row, column), aad=field_aad("safeguarding_record", column, row.id)
            )
            for column in ("kind", "start_date", "summary")
        }
        assert plain["kind"] == "child_protection_plan"
        assert row.end_date is None
        assert date.fromisoformat(plain["start_date"]) <= TODAY
        assert plain["summary"].startswith("Child protection plan")
        for column, value in plain.items():
            assert_sealed(getattr(row, column), value)


def test_development_reviews_carry_a_sealed_outcome(connection: Connection) -> None:
    load(connection, 200)
    by_family = ciphers(connection)
    rows = connection.execute(
        select(Contact, Person.family_id).join(Person, Person.id == Contact.person_id)
    ).all()
    reviews = [row for row in rows if row.kind == "development_review"]
    assert reviews
    assert {row.review for row in reviews} <= set(REVIEWS)
    for row in rows:
        cipher = by_family[row.family_id]
        if row.kind == "development_review":
            outcome = cipher.decrypt(row.outcome, aad=field_aad("contact", "outcome", row.id))
            assert outcome in OUTCOMES
            assert_sealed(row.outcome, outcome)
        else:
            assert row.review is None
            assert row.outcome is None
        if row.notes is not None:
            notes = cipher.decrypt(row.notes, aad=field_aad("contact", "notes", row.id))
            assert_sealed(row.notes, notes)


def test_consents_are_given_by_a_carer_with_parental_responsibility_in_the_family(
    connection: Connection,
) -> None:
    load(connection, 200)
    people = {p.id: p for p in connection.execute(select(Person)).all()}
    consents = connection.execute(select(Consent)).all()
    assert consents
    for consent in consents:
        subject, giver = people[consent.subject_id], people[consent.given_by_id]
        assert subject.kind == "child"
        assert giver.kind == "carer"
        assert giver.has_parental_responsibility
        assert giver.family_id == subject.family_id
        assert (consent.type, consent.method) == ("early_help_support", "signed_form")
        assert consent.categories == CONSENT_CATEGORIES
        assert consent.withdrawn_at is None


def test_enrolments_are_current_at_a_maintained_nursery(connection: Connection) -> None:
    load(connection, 200)
    rows = connection.execute(select(Enrolment)).all()
    assert rows
    assert {row.nursery_id for row in rows} <= set(catalogue.nurseries())
    assert all(row.start_date < TODAY and row.end_date is None for row in rows)


def test_a_loaded_seed_is_refused_and_nothing_more_is_written(connection: Connection) -> None:
    load(connection, 5)
    before = len(connection.execute(select(Person.id)).all())
    with pytest.raises(DemoDataPresent, match="seed 7"):
        load(connection, 5)
    # Another seed would reuse the same NHS numbers: refused too.
    with pytest.raises(DemoDataPresent, match="another seed"):
        load(connection, 5, seed=8)
    assert len(connection.execute(select(Person.id)).all()) == before


def test_a_generated_child_is_readable_over_http(
    connection: Connection, client: TestClient, headers: Headers
) -> None:
    load(connection, 5, today=london_today())
    child = connection.execute(
        select(Person.id, Person.nhs_number).where(Person.kind == "child").limit(1)
    ).one()
    response = client.get(
        f"/v1/people/{child.id}", headers=headers("health_visitor", "health_care")
    )
    assert response.status_code == 200, response.text
    assert response.json()["nhs_number"] == child.nhs_number


def test_the_app_decrypts_a_generated_childs_health_data_and_reviews(
    connection: Connection, client: TestClient, headers: Headers
) -> None:
    load(connection, 50, today=london_today())
    child_id = connection.execute(
        select(Person.id)
        .join(SpecialCategoryRecord, SpecialCategoryRecord.person_id == Person.id)
        .join(Contact, Contact.person_id == Person.id)
        .where(Person.kind == "child", Contact.kind == "development_review")
        .limit(1)
    ).scalar_one()
    h = headers("health_visitor", "health_care")

    special = client.get(f"/v1/people/{child_id}/special-category", headers=h)
    assert special.status_code == 200, special.text
    assert EthnicCategory(special.json()["ethnicity"])

    contacts = client.get(f"/v1/people/{child_id}/contacts", headers=h)
    assert contacts.status_code == 200, contacts.text
    outcomes = [c["outcome"] for c in contacts.json()["items"] if c["kind"] == "development_review"]
    assert outcomes
    assert set(outcomes) <= set(OUTCOMES)


def test_education_records_and_grandparents_names_are_sealed_under_the_family_key(
    connection: Connection,
) -> None:
    from app.education.models import EducationRecord
    from app.education.schemas import Attainment
    from app.relationships.models import Relationship

    load(connection, 200)
    by_family = ciphers(connection)
    rows = connection.execute(
        select(EducationRecord, Person.family_id, Person.upn).join(
            Person, Person.id == EducationRecord.person_id
        )
    ).all()
    assert rows
    for row in rows:
        assert row.upn is not None, "education is held for a child with a pupil number"
        plain = by_family[row.family_id].decrypt(
            row.attainment, aad=field_aad("education", "attainment", row.person_id)
        )
        assert_sealed(row.attainment, plain)
        assert Attainment(plain)
    named = connection.execute(
        select(Relationship.id, Relationship.to_name, Person.family_id).join(
            Person, Person.id == Relationship.person_id
        )
    ).all()
    assert named
    for row in named:
        plain = by_family[row.family_id].decrypt(
            row.to_name, aad=field_aad("relationship", "to_name", row.id)
        )
        assert_sealed(row.to_name, plain)
