"""A 20 MiB document is stored and read back a chunk at a time: the memory the service
allocates stays a small fraction of the file's size (tracemalloc around the calls)."""

import tempfile
import tracemalloc
from uuid import uuid4

from sqlalchemy.orm import Session

from app.documents import content
from app.documents import service as documents_service
from app.documents.schemas import DocumentCategory, DocumentKind
from app.people import service as people_service
from app.platform.crypto import get_key_ring
from tests import factories

SIZE = 20 * 1024 * 1024
CEILING = SIZE // 8
"""Well under the file's size (let alone twice it): a few chunks' worth."""


def test_storing_and_streaming_a_20_mib_document_holds_a_few_chunks_not_the_file(
    session: Session,
) -> None:
    child = factories.make_child(session)
    view = people_service.find(session, child.id)
    assert view is not None
    keys = get_key_ring()
    with tempfile.TemporaryFile() as file:
        block = b"%PDF-1.7\n" + b"0123456789abcdef" * 65536
        while file.tell() < SIZE:
            file.write(block[: SIZE - file.tell()])
        tracemalloc.start()
        try:
            scanned = content.scan(file, limit=SIZE)
            upload = documents_service.Upload(
                file=file, filename="big.pdf", declared_type="application/pdf", scanned=scanned
            )
            stored = documents_service.store(
                session,
                view,
                upload,
                kind=DocumentKind.REPORT,
                category=DocumentCategory.SERVICES,
                source=None,
                keys=keys,
                document_id=uuid4(),
            )
            _, stored_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            cipher = people_service.cipher_for_family(session, child.family_id, keys)
            read = sum(
                len(piece)
                for piece in documents_service.chunks(session, stored["id"], SIZE, cipher)
            )
            _, read_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert stored["size"] == read == SIZE
    assert stored_peak < CEILING, f"storing peaked at {stored_peak} bytes"
    assert read_peak < CEILING, f"reading peaked at {read_peak} bytes"
