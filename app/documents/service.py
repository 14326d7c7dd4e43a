"""Documents: stored encrypted a chunk at a time, listed and streamed back decrypted.

A file is never held whole in memory: the upload (spooled by the framework) is read in
chunks of `content.READ_BYTES`, each sealed with AES-256-GCM under the household key
with its own nonce, bound to the document, its position and the number of chunks, and
inserted as it is sealed; a download reads and opens one chunk at a time.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, Final, cast
from uuid import UUID

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from app.documents import content, schemas
from app.documents.models import Document, DocumentChunk
from app.people import service as people_service
from app.people.service import PersonView
from app.platform.crypto import DecryptionFailed, FieldCipher, KeyRing, field_aad
from app.platform.db import as_utc, utcnow
from app.platform.pagination import page_of
from app.policy.vocabulary import Category

TABLE: Final = Document.__tablename__
CHUNK_TABLE: Final = DocumentChunk.__tablename__
REPLAYED: Final = frozenset({"id", "person_id", "created_at"})
"""What a replay may return: the ids and the row's own time, nothing of the encrypted
columns (the client that retries sent them)."""
_chunks = cast(Table, DocumentChunk.__table__)


@dataclass(frozen=True, slots=True)
class Upload:
    """A file received, already scanned once: what is stored is judged from this."""

    file: BinaryIO
    filename: str | None
    declared_type: str | None
    scanned: content.Scan


def _aad(column: str, document_id: UUID) -> str:
    return field_aad(TABLE, column, document_id)


def chunk_aad(document_id: UUID, index: int, count: int) -> str:
    """A chunk is bound to its document, its place and how many there are: moved to
    another document or place, or the last ones dropped, it fails to open."""
    return f"{CHUNK_TABLE}.content.{document_id}.{index}.{count}"


def chunk_count(size: int) -> int:
    return -(-size // content.READ_BYTES)


def store(
    session: Session,
    view: PersonView,
    upload: Upload,
    *,
    kind: schemas.DocumentKind,
    category: schemas.DocumentCategory,
    source: str | None,
    keys: KeyRing,
    document_id: UUID,
) -> dict[str, Any]:
    """Judge the file's type (415), then store it encrypted, a chunk at a time; returns
    the document's metadata."""
    media_type = content.judged(upload.file, upload.scanned, upload.declared_type)
    size = upload.scanned.size
    cipher = people_service.cipher_for_family(session, view.row.family_id, keys)
    plain = {
        "kind": kind.value,
        "category": category.value,
        "source": source,
        "filename": upload.filename,
        "media_type": media_type.value,
        "size": str(size),
    }
    document = Document(
        id=document_id,
        person_id=view.id,
        created_at=utcnow(),
        **{
            column: cipher.encrypt_optional(value, aad=_aad(column, document_id))
            for column, value in plain.items()
        },
    )
    session.add(document)
    session.flush()
    count = chunk_count(size)
    upload.file.seek(0)
    stored = 0
    for index in range(count):
        piece = upload.file.read(content.READ_BYTES)
        stored += len(piece)
        # One statement per chunk, nothing kept: memory holds one chunk at a time.
        session.execute(
            insert(_chunks),
            {
                "document_id": document_id,
                "index": index,
                "person_id": view.id,
                "content": cipher.encrypt_bytes(piece, aad=chunk_aad(document_id, index, count)),
            },
        )
    if stored != size:
        raise DecryptionFailed("the upload changed while it was stored")
    return _values(document, plain)


def _values(document: Document, plain: dict[str, str | None]) -> dict[str, Any]:
    return {
        "id": document.id,
        "person_id": document.person_id,
        "kind": schemas.DocumentKind(str(plain["kind"])),
        "category": schemas.DocumentCategory(str(plain["category"])),
        "source": plain["source"],
        "filename": plain["filename"],
        "media_type": schemas.MediaType(str(plain["media_type"])),
        "size": int(plain["size"] or 0),
        "created_at": as_utc(document.created_at),
    }


def replayable(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if name in REPLAYED}


def category_of(session: Session, document: Document, family_id: UUID, keys: KeyRing) -> Category:
    """The category a decision about the document asks for: its content's."""
    cipher = people_service.cipher_for_family(session, family_id, keys)
    return Category(cipher.decrypt(document.category, aad=_aad("category", document.id)))


def _opened(document: Document, cipher: FieldCipher) -> dict[str, Any]:
    columns = ("kind", "category", "source", "filename", "media_type", "size")
    plain = {
        column: cipher.decrypt_optional(getattr(document, column), aad=_aad(column, document.id))
        for column in columns
    }
    return _values(document, plain)


def metadata(
    session: Session, document: Document, family_id: UUID, keys: KeyRing
) -> dict[str, Any]:
    cipher = people_service.cipher_for_family(session, family_id, keys)
    return _opened(document, cipher)


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def page(
    session: Session,
    view: PersonView,
    keys: KeyRing,
    *,
    allowed: frozenset[Category],
    limit: int,
    cursor: str | None,
) -> Page:
    """The person's documents of the allowed categories, in the order received. The
    category is encrypted, so a person's documents are read and filtered here: a person
    holds a handful, not thousands."""
    documents = list(
        session.execute(select(Document).where(Document.person_id == view.id)).scalars()
    )
    if not documents:
        return Page(items=[], next_cursor=None)
    cipher = people_service.cipher_for_family(session, view.row.family_id, keys)
    shown = [
        values
        for values in (_opened(document, cipher) for document in documents)
        if Category(values["category"].value) in allowed
    ]
    found = page_of(
        shown,
        lambda values: (values["created_at"], values["id"]),
        (datetime, UUID),
        limit=limit,
        cursor=cursor,
    )
    return Page(items=list(found.items), next_cursor=found.next_cursor)


def every(
    session: Session, view: PersonView, keys: KeyRing, *, allowed: frozenset[Category]
) -> list[dict[str, Any]]:
    """All of the person's documents of the allowed categories (the access package)."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        found = page(session, view, keys, allowed=allowed, limit=200, cursor=cursor)
        items.extend(found.items)
        if found.next_cursor is None:
            return items
        cursor = found.next_cursor


def chunks(session: Session, document_id: UUID, size: int, cipher: FieldCipher) -> Iterator[bytes]:
    """The content, decrypted a chunk at a time, read one chunk per query. A chunk
    missing or failing its check stops the stream (its declared length tells the client
    it is short), never yields what does not authenticate."""
    count = chunk_count(size)
    sent = 0
    try:
        for index in range(count):
            sealed = session.execute(
                select(DocumentChunk.content).where(
                    DocumentChunk.document_id == document_id, DocumentChunk.index == index
                )
            ).scalar_one_or_none()
            if sealed is None:
                raise DecryptionFailed("a document's content is incomplete")
            piece = cipher.decrypt_bytes(bytes(sealed), aad=chunk_aad(document_id, index, count))
            sent += len(piece)
            yield piece
        if sent != size:
            raise DecryptionFailed("a document's content is not the size recorded")
    finally:
        # The request's transaction ended before the answer streams: these reads are a
        # short transaction of their own, closed here.
        session.close()


def erase(
    session: Session, view: PersonView, keys: KeyRing, *, categories: frozenset[Category]
) -> None:
    """A partial erasure (Art 17): the person's documents of these categories go, their
    chunks first."""
    documents = list(
        session.execute(select(Document).where(Document.person_id == view.id)).scalars()
    )
    if not documents:
        return
    cipher = people_service.cipher_for_family(session, view.row.family_id, keys)
    erased = [
        d.id
        for d in documents
        if Category(cipher.decrypt(d.category, aad=_aad("category", d.id))) in categories
    ]
    if erased:
        session.execute(delete(DocumentChunk).where(DocumentChunk.document_id.in_(erased)))
        session.execute(delete(Document).where(Document.id.in_(erased)))
