"""The decrypted report facts: the same answers as decrypting every row, and every
committed change reflected in the next report, whichever instance made it."""

import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session

from app.contacts.models import Contact
from app.main import create_app
from app.people import records as people_records
from app.people import schemas as people_schemas
from app.people import service as people_service
from app.people.models import Family, FamilyKey, Person, SpecialCategoryRecord
from app.platform.crypto import FieldCipher, KeyRing, field_aad, get_key_ring
from app.platform.db import get_session, unit_of_work, utcnow
from app.reports import service as reports_service
from app.reports.facts import ReportFacts
from app.reports.models import ReportChange
from app.reports.population import Dimension, children, not_objected_in_writing
from app.retention import service as retention_service
from tests import factories
from tests.reports.helpers import child, contact, household, review
from tests.reports.test_reports import born_aged, count, impact, period, take_up
from tests.rights.cases import decide, open_case

Headers = Callable[..., dict[str, str]]


def decrypted(
    rows: Iterable[Any], keys: KeyRing, *, table: str, column: str, row_id: str
) -> Iterator[tuple[Any, str | None]]:
    """(row, plaintext) for rows in household order carrying `family_id`, `wrapped_key`, `kek_id`,
    the ciphertext in `token` and the id the value is bound to in `row_id`."""
    family: UUID | None = None
    cipher: FieldCipher | None = None
    for row in rows:
        if row.token is None or row.wrapped_key is None:
            yield row, None
            continue
        if row.family_id != family:
            family, cipher = row.family_id, keys.cipher_for(row.wrapped_key, row.kek_id)
        assert cipher is not None
        yield row, cipher.decrypt(row.token, aad=field_aad(table, column, getattr(row, row_id)))


CODES = ("A", "B", "N", "S", "Z")
OUTCOMES = ("no_concerns", "support_needed", "referred")


def set_ethnicity(session: Session, person: Person, code: str | None) -> None:
    view = people_service.find(session, person.id)
    assert view is not None
    held = session.get(SpecialCategoryRecord, person.id)
    people_records.write(
        session,
        people_records.SPECIAL_CATEGORY,
        view,
        people_schemas.SpecialCategory(ethnicity=code),
        get_key_ring(),
        people_service.etag(held.version) if held else None,
    )
    session.commit()


def the_period() -> reports_service.Period:
    first, last = period()
    return reports_service.Period(first=first, last=last, today=factories.today())


def decrypted_per_row(session: Session) -> dict[UUID, str]:
    """The reference: each counted child's ethnicity, decrypted row by row (the path the
    reports took before the facts)."""
    found = the_period()
    rows = session.execute(
        select(
            Person.id,
            Person.family_id,
            SpecialCategoryRecord.ethnicity.label("token"),
            FamilyKey.wrapped_key,
            FamilyKey.kek_id,
        )
        .join(SpecialCategoryRecord, SpecialCategoryRecord.person_id == Person.id)
        .outerjoin(FamilyKey, FamilyKey.family_id == Person.family_id)
        .where(
            *children(found.last, found.today),
            *not_objected_in_writing(found.today),
            SpecialCategoryRecord.ethnicity.is_not(None),
        )
        .order_by(Person.family_id)
    )
    return {
        row.id: code
        for row, code in decrypted(
            rows, get_key_ring(), table="special_category", column="ethnicity", row_id="id"
        )
        if code is not None
    }


@pytest.fixture
def seeded(session: Session) -> list[Person]:
    """40 children in 15 households, most with an ethnicity, some with reviews."""
    rng = random.Random(12)
    first, _ = period()
    kids: list[Person] = []
    for _ in range(15):
        family = household(session, rng.choice(("NW1 1AA", "NW5 1AA", "NW6 1AA")))
        for _ in range(rng.randint(1, 4)):
            kid = child(session, born_aged(rng.randint(0, 4)), family=family)
            if rng.random() < 0.8:
                set_ethnicity(session, kid, rng.choice(CODES))
            if rng.random() < 0.5:
                contact(session, kid, first + timedelta(days=3))
            for _ in range(rng.randint(0, 2)):
                day = first + timedelta(days=rng.randint(0, 80))
                review(session, kid, day, "1_year", rng.choice(OUTCOMES))
            kids.append(kid)
    session.commit()
    return kids


def test_take_up_by_ethnicity_counts_what_decrypting_every_row_counts(
    session: Session, seeded: list[Person]
) -> None:
    reference = decrypted_per_row(session)
    population = session.execute(
        select(Person.id).where(*children(the_period().last, the_period().today))
    ).scalars()
    expected = Counter(reference.get(person_id, "not_recorded") for person_id in population)
    found = reports_service.take_up(
        session, the_period(), [Dimension.ETHNICITY], get_key_ring(), ReportFacts()
    )
    assert dict(found.children.values) == {(code,): n for code, n in expected.items()}
    assert sum(found.children.values.values()) == len(seeded)


def test_impact_counts_the_latest_outcome_each_child_had_decrypted_row_by_row(
    session: Session, seeded: list[Person]
) -> None:
    keys = get_key_ring()
    rows = session.execute(
        select(
            Contact.id.label("contact_id"),
            Contact.person_id,
            Contact.outcome.label("token"),
            Person.family_id,
            FamilyKey.wrapped_key,
            FamilyKey.kek_id,
        )
        .join(Person, Person.id == Contact.person_id)
        .join(FamilyKey, FamilyKey.family_id == Person.family_id)
        .where(Contact.kind == "development_review")
        .order_by(
            Person.family_id, Contact.person_id, Contact.occurred_at.desc(), Contact.id.desc()
        )
    ).all()
    latest: dict[UUID, str] = {}
    for row, outcome in decrypted(
        rows, keys, table="contact", column="outcome", row_id="contact_id"
    ):
        assert outcome is not None
        latest.setdefault(row.person_id, outcome)
    assert latest, "the seed reviews some children"
    found = reports_service.impact(session, the_period(), None, keys, ReportFacts())
    [(_, counts)] = found.tables
    by_outcome: Counter[str] = Counter()
    for (_, outcome), n in counts.values.items():
        by_outcome[outcome] += n
    assert dict(by_outcome) == dict(Counter(latest.values()))


@pytest.fixture
def hampden(session: Session) -> list[Person]:
    """13 babies in Hampden's area, each of ethnic category N, each seen once: 13 shows
    as 15, 12 as 10, so one child changed shows in what is published."""
    first, _ = period()
    babies = [child(session, born_aged(0), postcode="NW1 1AA") for _ in range(13)]
    for baby in babies:
        set_ethnicity(session, baby, "N")
        contact(session, baby, first)
    return babies


def another_instance(session: Session) -> TestClient:
    app = create_app()

    def _session() -> Any:
        yield from unit_of_work(session)

    app.dependency_overrides[get_session] = _session
    return TestClient(app, raise_server_exceptions=False)


def n_children(client: TestClient, headers: Headers) -> int | None:
    return count(take_up(client, headers, "ethnicity").json()["children"], ethnicity="N")


def true_counts(client: TestClient, session: Session) -> dict[str, int]:
    """Children by ethnicity, before disclosure control, from that instance's facts."""
    facts: ReportFacts = client.app.state.report_facts  # type: ignore[attr-defined]
    found = reports_service.take_up(
        session, the_period(), [Dimension.ETHNICITY], get_key_ring(), facts
    )
    return {key[0]: n for key, n in found.children.values.items()}


def test_a_changed_ethnicity_shows_in_the_next_report_on_an_instance_that_had_built_its_facts(
    client: TestClient, session: Session, headers: Headers, hampden: list[Person]
) -> None:
    other = another_instance(session)
    assert n_children(client, headers) == 15
    assert n_children(other, headers) == 15
    set_ethnicity(session, hampden[0], "A")
    assert true_counts(client, session) == {"N": 12, "A": 1}
    assert true_counts(other, session) == {"N": 12, "A": 1}


def test_an_ethnicity_put_over_http_shows_in_the_next_report_of_another_instance(
    client: TestClient, session: Session, headers: Headers, hampden: list[Person]
) -> None:
    other = another_instance(session)
    assert n_children(client, headers) == 15
    held = session.get(SpecialCategoryRecord, hampden[0].id)
    assert held is not None
    response = other.put(
        f"/v1/people/{hampden[0].id}/special-category",
        json={"ethnicity": "A"},
        headers=headers(
            "health_visitor", "health_care", if_match=people_service.etag(held.version)
        ),
    )
    assert response.status_code == 200, response.text
    assert true_counts(client, session) == {"N": 12, "A": 1}


def _decided(
    client: TestClient, session: Session, headers: Headers, subject: Person, kind: str
) -> None:
    carer = factories.make_carer(session, family=session.get(Family, subject.family_id))
    case = open_case(client, headers, subject.id, type=kind, requester_id=carer.id)
    response = decide(client, headers, case["id"])
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("kind", ["objection", "restriction", "erasure"])
def test_a_decided_request_shows_in_the_next_report_by_ethnicity(
    client: TestClient, session: Session, headers: Headers, hampden: list[Person], kind: str
) -> None:
    assert n_children(client, headers) == 15
    _decided(another_instance(session), session, headers, hampden[0], kind)
    assert n_children(client, headers) == 10


def test_a_destroyed_household_leaves_the_next_report_and_the_facts(
    client: TestClient, session: Session, headers: Headers, hampden: list[Person]
) -> None:
    facts: ReportFacts = client.app.state.report_facts  # type: ignore[attr-defined]
    gone = hampden[0]
    assert n_children(client, headers) == 15
    assert facts.ethnicity(gone.id) == "N"
    connection = session.connection()
    retention_service.delete_people(connection, [gone.id])
    retention_service.delete_families(connection, [gone.family_id])
    session.commit()
    assert n_children(client, headers) == 10
    assert facts.ethnicity(gone.id) is None


def test_a_new_review_shows_in_the_next_impact_report(
    client: TestClient, session: Session, headers: Headers, hampden: list[Person]
) -> None:
    _, last = period()
    for baby in hampden[:8]:
        review(session, baby, last - timedelta(days=5), "6_8_week", "referred")
    [table] = impact(client, headers).json()["tables"]
    assert count(table, used_service="used", outcome="referred") == 10
    review(session, hampden[0], last - timedelta(days=1), "6_8_week", "no_concerns")
    [table] = impact(client, headers).json()["tables"]
    assert count(table, used_service="used", outcome="referred") is None


def test_a_change_whose_feed_row_commits_behind_a_later_one_is_still_applied(
    session: Session, hampden: list[Person]
) -> None:
    facts = ReportFacts()
    unrelated = household(session)
    facts.refresh(session, get_key_ring())
    top = session.scalar(select(ReportChange.seq).order_by(ReportChange.seq.desc()).limit(1))
    assert top is not None
    session.execute(
        insert(ReportChange).values(seq=top + 1000, family_id=unrelated.id, changed_at=utcnow())
    )
    facts.refresh(session, get_key_ring())
    # The transaction that took seq top + 1 commits only now.
    set_ethnicity(session, hampden[0], "B")
    moved = session.execute(
        select(ReportChange).where(
            ReportChange.family_id == hampden[0].family_id, ReportChange.seq > top
        )
    ).scalar_one()
    # A sequence (PostgreSQL) hands it top + 1 already; SQLite's rowid follows the max.
    moved.seq = top + 1
    session.commit()
    facts.refresh(session, get_key_ring())
    assert facts.ethnicity(hampden[0].id) == "B"


def test_the_change_feed_holds_opaque_ids_and_timestamps_only(
    session: Session, hampden: list[Person]
) -> None:
    columns = {c["name"] for c in inspect(session.connection()).get_columns("report_change")}
    assert columns == {"seq", "family_id", "changed_at"}
    rows = session.execute(select(ReportChange.family_id)).scalars().all()
    assert {baby.family_id for baby in hampden} <= set(rows)
    for row in session.execute(select(ReportChange.__table__)).all():
        assert not any(value == "N" or value == "no_concerns" for value in row)
