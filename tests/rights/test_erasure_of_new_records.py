"""Erasure reaches education records, relationships and documents: all of them when
fulfilled, all but the categories kept when partially fulfilled."""

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.documents.models import Document, DocumentChunk
from app.education.models import EducationRecord
from app.people.models import Family, Person
from app.relationships.models import Relationship
from tests import factories
from tests.documents import files
from tests.rights.cases import Headers, decide, open_case

WHY = "Concerns raised at the strategy meeting this morning"


def _count(session: Session, model: type, **where: object) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return int(session.execute(query).scalar_one())


def _records(client: TestClient, session: Session, headers: Headers, child: Person) -> Person:
    """A carer and, about the child, an education record, a relationship each way and a
    document of each category."""
    carer = factories.make_carer(session, family=session.get(Family, child.family_id))
    factories.enrol(session, child, factories.nursery_ids()[0])
    h = headers("health_visitor", "safeguarding", justification=WHY)
    put = client.put(f"/v1/people/{child.id}/education", json={"attainment": "expected"}, headers=h)
    assert put.status_code == 200, put.text
    for person, other in ((child, carer), (carer, child)):
        created = client.post(
            f"/v1/people/{person.id}/relationships",
            json={"kind": "other", "to_person_id": str(other.id), "in_household": True},
            headers=h,
        )
        assert created.status_code == 201, created.text
    for category in ("services", "health", "safeguarding"):
        uploaded = client.post(
            f"/v1/people/{child.id}/documents",
            data={"kind": "letter", "category": category},
            files={"file": ("letter.pdf", files.pdf_of(300_000), "application/pdf")},
            headers=h,
        )
        assert uploaded.status_code == 201, uploaded.text
    return carer


def test_a_fulfilled_erasure_removes_the_education_record_relationships_and_documents(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    carer = _records(client, session, headers, child)
    case = open_case(client, headers, child.id, type="erasure", requester_id=carer.id)
    assert decide(client, headers, case["id"]).status_code == 200
    assert _count(session, EducationRecord, person_id=child.id) == 0
    assert _count(session, Relationship) == 0
    assert _count(session, Document, person_id=child.id) == 0
    assert _count(session, DocumentChunk, person_id=child.id) == 0


def test_a_partial_erasure_keeps_only_the_documents_of_the_categories_kept(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = factories.make_child(session)
    carer = _records(client, session, headers, child)
    case = open_case(client, headers, child.id, type="erasure", requester_id=carer.id)
    decided = decide(
        client,
        headers,
        case["id"],
        outcome="partially_fulfilled",
        reason="Safeguarding record kept: Children Act 1989 duty (Art 17(3)(b))",
        exempt=["identity", "safeguarding"],
    )
    assert decided.status_code == 200, decided.text
    # Education rests on consent only: never kept. Relationships are household data.
    assert _count(session, EducationRecord, person_id=child.id) == 0
    assert _count(session, Relationship) == 0
    assert _count(session, Document, person_id=child.id) == 1
    assert _count(session, DocumentChunk, person_id=child.id) == 2
    listed = client.get(
        f"/v1/people/{child.id}/documents",
        headers=headers("data_protection_officer", "subject_rights"),
    )
    assert [d["category"] for d in listed.json()["items"]] == ["safeguarding"]
    erased = decided.json()["history"][-1]["detail"]["erased_categories"]
    assert {"education", "household", "services", "health"} <= set(erased)
