"""Documents: uploaded as a form, judged by their bytes, stored encrypted a chunk at a
time, each decided by its own category, streamed back decrypted."""

from collections.abc import Callable, Iterator
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.documents.models import Document, DocumentChunk
from app.people.models import Person
from app.platform.settings import get_settings
from tests import factories
from tests.documents import files

Headers = Callable[..., dict[str, str]]
HV = ("health_visitor", "health_care")
OFFICER = ("data_protection_officer", "subject_rights")


def upload(
    client: TestClient,
    person: Person,
    h: dict[str, str],
    *,
    content: bytes = files.PDF,
    declared: str = "application/pdf",
    name: str = "assessment.pdf",
    **fields: str,
) -> Response:
    form = {"kind": "assessment", "category": "services", **fields}
    return client.post(
        f"/v1/people/{person.id}/documents",
        data=form,
        files={"file": (name, content, declared)},
        headers=h,
    )


@pytest.fixture
def child(session: Session) -> Person:
    return factories.make_child(session)


def test_a_document_is_uploaded_and_its_metadata_returned(
    client: TestClient, session: Session, headers: Headers, child: Person
) -> None:
    created = upload(client, child, headers(*HV), source="GP practice")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["person_id"] == str(child.id)
    assert (body["kind"], body["category"], body["source"]) == (
        "assessment",
        "services",
        "GP practice",
    )
    assert (body["media_type"], body["size"], body["filename"]) == (
        "application/pdf",
        len(files.PDF),
        "assessment.pdf",
    )
    assert created.headers["X-Lawful-Basis"] == "art6-1-e"
    event = session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(created.headers["X-Decision-Id"]))
    ).scalar_one()
    assert (event.resource, event.action, event.categories_asked) == (
        "document",
        "write",
        "services",
    )
    meta = client.get(f"/v1/documents/{body['id']}", headers=headers(*HV))
    assert meta.status_code == 200
    assert meta.json() == body


def test_the_content_streams_back_as_it_was_sent_and_the_read_is_audited(
    client: TestClient, session: Session, headers: Headers, child: Person
) -> None:
    content = files.pdf_of(700_000)
    created = upload(client, child, headers(*HV), content=content)
    assert created.status_code == 201, created.text
    document_id = created.json()["id"]
    chunks = session.execute(
        select(func.count()).where(DocumentChunk.document_id == UUID(document_id))
    ).scalar_one()
    assert chunks == 3
    got = client.get(f"/v1/documents/{document_id}/content", headers=headers(*HV))
    assert got.status_code == 200
    assert got.content == content
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-length"] == str(len(content))
    assert got.headers["Cache-Control"] == "no-store"
    event = session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(got.headers["X-Decision-Id"]))
    ).scalar_one()
    assert (event.resource, event.action, event.subject_id) == (
        "document_content",
        "read",
        child.id,
    )


def test_a_body_over_the_general_limit_is_accepted_for_a_document(
    client: TestClient, child: Person, headers: Headers
) -> None:
    assert get_settings().max_body_bytes < 1_500_000
    created = upload(client, child, headers(*HV), content=files.pdf_of(1_500_000))
    assert created.status_code == 201, created.text


def test_a_file_over_the_document_limit_is_413(
    client: TestClient,
    session: Session,
    child: Person,
    headers: Headers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "max_document_bytes", 10_000)
    refused = upload(client, child, headers(*HV), content=files.pdf_of(10_001))
    assert refused.status_code == 413
    assert refused.headers["content-type"] == "application/problem+json"
    assert session.execute(select(func.count()).select_from(Document)).scalar_one() == 0


def test_a_body_far_over_the_document_limit_is_refused_at_the_edge(
    client: TestClient, child: Person, headers: Headers
) -> None:
    limit = get_settings().max_document_bytes
    refused = client.post(
        f"/v1/people/{child.id}/documents",
        content=b"x" * (limit + 100_000),
        headers={**headers(*HV), "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert refused.status_code == 413


@pytest.mark.parametrize(
    ("content", "declared", "accepted"),
    [
        (files.PDF, "application/pdf", "application/pdf"),
        (files.PNG, "image/png", "image/png"),
        (files.JPEG, "image/jpeg", "image/jpeg"),
        (files.TEXT, "text/plain; charset=utf-8", "text/plain"),
        (
            files.docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (files.PNG, "application/octet-stream", "image/png"),
    ],
    ids=["pdf", "png", "jpeg", "text", "docx", "undeclared png"],
)
def test_each_accepted_type_is_judged_from_its_bytes(
    client: TestClient,
    child: Person,
    headers: Headers,
    content: bytes,
    declared: str,
    accepted: str,
) -> None:
    created = upload(client, child, headers(*HV), content=content, declared=declared)
    assert created.status_code == 201, created.text
    assert created.json()["media_type"] == accepted


@pytest.mark.parametrize(
    ("content", "declared"),
    [
        (files.PDF, "image/png"),
        (files.EXE, "application/pdf"),
        (files.EXE, "application/octet-stream"),
        (files.plain_zip(), "application/octet-stream"),
        (b"Dear team,\x00\x01 binary in a letter", "text/plain"),
        (b"\xff\xfe\x00broken utf-8", "text/plain"),
    ],
    ids=["pdf as png", "exe as pdf", "exe", "zip", "text with control bytes", "not utf-8"],
)
def test_a_type_not_accepted_or_not_as_declared_is_415_and_nothing_is_stored(
    client: TestClient,
    session: Session,
    child: Person,
    headers: Headers,
    content: bytes,
    declared: str,
) -> None:
    refused = upload(client, child, headers(*HV), content=content, declared=declared)
    assert refused.status_code == 415, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "X-Decision-Id" in refused.headers
    assert session.execute(select(func.count()).select_from(Document)).scalar_one() == 0


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"kind": "memo"}, "kind"),
        ({"category": "identity"}, "category"),
        ({"source": "x" * 201}, "source"),
    ],
)
def test_an_invalid_form_field_is_422_naming_it(
    client: TestClient, child: Person, headers: Headers, form: dict[str, str], field: str
) -> None:
    refused = upload(client, child, headers(*HV), **form)
    assert refused.status_code == 422
    assert field in [e["field"] for e in refused.json()["errors"]]


def test_an_empty_file_is_422(client: TestClient, child: Person, headers: Headers) -> None:
    refused = upload(client, child, headers(*HV), content=b"")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "file"


def test_a_document_is_written_under_its_own_category(
    client: TestClient, child: Person, headers: Headers
) -> None:
    denied = upload(client, child, headers(*HV), category="safeguarding")
    assert denied.status_code == 403
    assert denied.json()["reason"] == "purpose_not_permitted"
    health = upload(client, child, headers(*HV), category="health")
    assert health.status_code == 201
    assert health.headers["X-Lawful-Basis"] == "art6-1-e,art9-2-h"


def _documents_of_each_category(
    client: TestClient, session: Session, headers: Headers, child: Person
) -> dict[str, str]:
    why = "Bruising seen at the home visit; referring to social care today"
    ids = {}
    for category in ("services", "health", "safeguarding"):
        created = upload(
            client,
            child,
            headers("health_visitor", "safeguarding", justification=why),
            category=category,
            content=files.TEXT + category.encode(),
            declared="text/plain",
        )
        assert created.status_code == 201, created.text
        ids[category] = created.json()["id"]
    return ids


def test_the_list_holds_only_the_categories_the_decision_reaches(
    client: TestClient, session: Session, headers: Headers, child: Person
) -> None:
    ids = _documents_of_each_category(client, session, headers, child)
    listed = client.get(f"/v1/people/{child.id}/documents", headers=headers(*HV))
    assert listed.status_code == 200
    assert {item["id"] for item in listed.json()["items"]} == {ids["services"], ids["health"]}
    assert listed.headers["X-Withheld-Categories"] == "safeguarding"
    officer = client.get(f"/v1/people/{child.id}/documents", headers=headers(*OFFICER))
    assert len(officer.json()["items"]) == 3
    assert "X-Withheld-Categories" not in officer.headers


def test_a_nursery_reads_health_documents_but_not_services_ones(
    client: TestClient, session: Session, headers: Headers, child: Person
) -> None:
    ids = _documents_of_each_category(client, session, headers, child)
    nursery = factories.nursery_ids()[0]
    factories.enrol(session, child, nursery)
    nc = headers("nursery_practitioner", "nursery_care", nursery_id=nursery)
    health = client.get(f"/v1/documents/{ids['health']}/content", headers=nc)
    assert health.status_code == 200
    assert health.content.endswith(b"health")
    services = client.get(f"/v1/documents/{ids['services']}/content", headers=nc)
    assert services.status_code == 403
    assert services.json()["reason"] == "purpose_not_permitted"
    meta = client.get(f"/v1/documents/{ids['services']}", headers=nc)
    assert meta.status_code == 403


def test_a_safeguarding_document_is_read_only_where_safeguarding_is_reached(
    client: TestClient, session: Session, headers: Headers, child: Person
) -> None:
    ids = _documents_of_each_category(client, session, headers, child)
    denied = client.get(f"/v1/documents/{ids['safeguarding']}/content", headers=headers(*HV))
    assert denied.status_code == 403
    assert b"safeguarding" not in denied.content
    event = session.execute(
        select(AuditEvent).where(AuditEvent.decision_id == UUID(denied.headers["X-Decision-Id"]))
    ).scalar_one()
    assert (event.allowed, event.categories_asked) == (False, "safeguarding")


def test_an_unknown_document_is_404(client: TestClient, headers: Headers) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"/v1/documents/{unknown}", headers=headers(*HV)).status_code == 404
    assert client.get(f"/v1/documents/{unknown}/content", headers=headers(*HV)).status_code == 404


def test_a_retry_with_the_same_key_stores_one_document(
    client: TestClient, session: Session, headers: Headers, child: Person
) -> None:
    h = headers(*HV, Idempotency_Key="doc-1")
    first, second = upload(client, child, h), upload(client, child, h)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert session.execute(select(func.count()).select_from(Document)).scalar_one() == 1
    other = upload(client, child, h, content=files.PNG, declared="image/png")
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"


def _raw(session: Session) -> Iterator[bytes]:
    connection = session.connection()
    for table in ("document", "document_chunk", "idempotency_record", "audit_event"):
        for row in connection.execute(text(f'SELECT * FROM "{table}"')):
            for value in row:
                yield bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()


def test_no_byte_of_the_content_or_its_metadata_is_stored_in_clear(
    client: TestClient, session: Session, headers: Headers, child: Person
) -> None:
    content = files.pdf_of(300_000)
    created = upload(
        client,
        child,
        headers(*HV, Idempotency_Key="doc-raw"),
        content=content,
        name="Quillonweft report.pdf",
        source="Marchbanks clinic",
    )
    assert created.status_code == 201, created.text
    stored = b"".join(_raw(session))
    for needle in (b"Quillonweft", b"Marchbanks", b"%PDF", b"assessment", b"application/pdf"):
        assert needle not in stored, needle


def test_a_chunk_moved_to_another_place_fails_to_open(
    client: TestClient, session: Session, headers: Headers, child: Person
) -> None:
    created = upload(client, child, headers(*HV), content=files.pdf_of(600_000))
    document_id = UUID(created.json()["id"])
    first, second = (
        session.execute(
            select(DocumentChunk).where(
                DocumentChunk.document_id == document_id, DocumentChunk.index == i
            )
        ).scalar_one()
        for i in (0, 1)
    )
    first.content, second.content = second.content, first.content
    session.commit()
    from app.documents import service as documents_service
    from app.people import service as people_service
    from app.platform.crypto import DecryptionFailed, get_key_ring

    cipher = people_service.cipher_for_family(session, child.family_id, get_key_ring())
    with pytest.raises(DecryptionFailed):
        list(documents_service.chunks(session, document_id, 600_000, cipher))
