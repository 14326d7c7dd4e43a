"""/v1/people/{id}/documents and /v1/documents/{id}: files about a person, stored
encrypted, each decided by the category of its content."""

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any, Final
from uuid import uuid4

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from app.decisions.access import Access, From, Shape, declare
from app.documents import content, schemas
from app.documents import service as documents_service
from app.people import service as people_service
from app.platform.crypto import KeyRing, get_key_ring
from app.platform.db import SessionDep
from app.platform.edge import RouteLimit
from app.platform.problems import Unprocessable
from app.platform.settings import get_settings
from app.policy.vocabulary import Action, Category

router = APIRouter(tags=["documents"])

KeysDep = Annotated[KeyRing, Depends(get_key_ring)]
Limit = Annotated[int, Query(ge=1, le=200, description="Documents per page.")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` from the previous page.")
]
CATEGORIES: Final = frozenset(Category(c.value) for c in schemas.DocumentCategory)
"""What a document may hold: a read of documents asks for each."""
_X: Final = {"x-category": Category.SERVICES.value}
FORM_ALLOWANCE: Final = 64 * 1024
"""Room in an upload's body for the form's other fields and the parts' headers."""
_UNSAFE: Final = re.compile(r"[\x00-\x1f\x7f/\\]")


def body_limit() -> RouteLimit:
    """The upload route's own limit at the edge: a document's bytes and the form."""
    return RouteLimit(
        method="POST",
        path=re.compile(r"/v1/people/[^/]+/documents"),
        max_body_bytes=get_settings().max_document_bytes + FORM_ALLOWANCE,
    )


@dataclass(frozen=True, slots=True)
class DocumentForm:
    upload: documents_service.Upload
    kind: schemas.DocumentKind
    category: schemas.DocumentCategory
    source: str | None

    @property
    def fingerprint(self) -> str:
        """The request's hash for `Idempotency-Key`: the fields and the file's digest."""
        parts = (
            self.kind.value,
            self.category.value,
            self.source or "",
            self.upload.filename or "",
            self.upload.declared_type or "",
            self.upload.scanned.sha256,
        )
        return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _filename(sent: str | None) -> str | None:
    """The file's own name, as sent, without any folder and control characters."""
    if not sent:
        return None
    name = _UNSAFE.sub("", unicodedata.normalize("NFC", sent.replace("\\", "/").rsplit("/", 1)[-1]))
    return name[:255] or None


async def _form(
    file: Annotated[
        UploadFile,
        File(
            description="The document. Accepted: PDF, PNG, JPEG, plain text (UTF-8) and "
            "DOCX, judged from its bytes; at most `IEYS_MAX_DOCUMENT_BYTES` (20 MiB by "
            "default).",
            json_schema_extra=_X,
        ),
    ],
    kind: Annotated[schemas.DocumentKind, Form(json_schema_extra=_X)],
    category: Annotated[
        schemas.DocumentCategory,
        Form(
            description="The category of its content: `services`, unless it is `health` or "
            "`safeguarding`. Decides who may upload and read it.",
            json_schema_extra=_X,
        ),
    ],
    source: Annotated[
        str | None,
        Form(
            min_length=1,
            max_length=200,
            description="Where it came from (stored encrypted).",
            json_schema_extra=_X,
        ),
    ] = None,
) -> DocumentForm:
    if source is not None and "\x00" in source:
        raise Unprocessable("source", "must not contain a NUL character")
    scanned = await run_in_threadpool(
        content.scan, file.file, limit=get_settings().max_document_bytes
    )
    return DocumentForm(
        upload=documents_service.Upload(
            file=file.file,
            filename=_filename(file.filename),
            declared_type=file.content_type,
            scanned=scanned,
        ),
        kind=kind,
        category=category,
        source=source.strip() or None if source is not None else None,
    )


def _held(_body: object, form: DocumentForm | None) -> Shape:
    """A document is written under its own category."""
    if form is None:
        return Shape()
    return Shape(categories=frozenset({Category(form.category.value)}))


def _fingerprint(form: Any) -> str:
    assert isinstance(form, DocumentForm)
    return form.fingerprint


UploadDocument = Annotated[
    Access,
    declare(
        "upload_document",
        Action.WRITE,
        frozenset({Category.SERVICES}),
        "document",
        subject=From.PERSON,
        query=_form,
        shape=_held,
        alternatives=(frozenset({Category.HEALTH}), frozenset({Category.SAFEGUARDING})),
        idempotent=True,
        fingerprint=_fingerprint,
    ),
]
ListDocuments = Annotated[
    Access,
    declare("list_documents", Action.READ, CATEGORIES, "document", subject=From.PERSON),
]
ReadDocument = Annotated[
    Access,
    declare("read_document", Action.READ, CATEGORIES, "document", subject=From.DOCUMENT),
]
ReadContent = Annotated[
    Access,
    declare(
        "read_document_content",
        Action.READ,
        CATEGORIES,
        "document_content",
        subject=From.DOCUMENT,
    ),
]

_DECIDED_BY_CATEGORY: Final = (
    "Decided by the document's own category: a `services` document under a purpose that "
    "reaches services, a `health` one only where health is reached, a `safeguarding` one "
    "only where safeguarding is."
)


@router.post(
    "/people/{person_id}/documents",
    status_code=status.HTTP_201_CREATED,
    summary="Add a document about a person (multipart/form-data; stored encrypted)",
    description="The decision asks for the document's `category`. The type is judged from "
    "the file's bytes: a file of another type, or declared as a type it is not, is 415 (a "
    "part declared `application/octet-stream`, or with no type, is judged by its bytes "
    "alone). A file over `IEYS_MAX_DOCUMENT_BYTES` is 413. The content, name and every "
    "other field are stored encrypted under the household's key, a chunk at a time. A "
    "retry with the same `Idempotency-Key` (and the same file and fields) returns the "
    "first document's `id`, `person_id` and `created_at` (`Idempotent-Replayed: true`).",
    response_model_exclude_unset=True,
    responses={
        413: {"description": "The file is larger than `IEYS_MAX_DOCUMENT_BYTES`"},
        415: {
            "description": "Not a PDF, PNG, JPEG, plain text or DOCX file by its bytes, or "
            "not the type it was declared as"
        },
    },
)
def upload_document(
    granted: UploadDocument, session: SessionDep, keys: KeysDep
) -> schemas.DocumentRead:
    form: DocumentForm = granted.query
    stored = documents_service.store(
        session,
        granted.the_person(),
        form.upload,
        kind=form.kind,
        category=form.category,
        source=form.source,
        keys=keys,
        document_id=uuid4(),
    )
    replay = schemas.DocumentRead.model_construct(**documents_service.replayable(stored))
    granted.remember(session, status.HTTP_201_CREATED, replay)
    return schemas.DocumentRead(**stored)


@router.get(
    "/people/{person_id}/documents",
    summary="List a person's documents (metadata)",
    description="The documents of the categories the decision reaches, in the order "
    "received; the others are left out and their categories named in "
    "`X-Withheld-Categories`.",
    response_model_exclude_unset=True,
)
def list_documents(
    granted: ListDocuments,
    session: SessionDep,
    keys: KeysDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> schemas.DocumentPage:
    found = documents_service.page(
        session,
        granted.the_person(),
        keys,
        allowed=granted.categories,
        limit=limit,
        cursor=cursor,
    )
    return schemas.DocumentPage(
        items=[schemas.DocumentRead(**item) for item in found.items],
        next_cursor=found.next_cursor,
    )


@router.get(
    "/documents/{document_id}",
    summary="Read a document's metadata",
    description=_DECIDED_BY_CATEGORY,
    response_model_exclude_unset=True,
)
def read_document(
    granted: ReadDocument, session: SessionDep, keys: KeysDep
) -> schemas.DocumentRead:
    assert granted.document is not None
    values = documents_service.metadata(
        session, granted.document, granted.the_person().row.family_id, keys
    )
    return schemas.DocumentRead(**values)


@router.get(
    "/documents/{document_id}/content",
    summary="Download a document's content",
    description=f"{_DECIDED_BY_CATEGORY} Streamed, decrypted a chunk at a time, with its "
    "type judged at upload and its length.",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The document's bytes.",
            "content": {
                media_type.value: {"schema": {"type": "string", "format": "binary"}}
                for media_type in schemas.MediaType
            },
        }
    },
)
def read_document_content(
    granted: ReadContent, response: Response, session: SessionDep, keys: KeysDep
) -> StreamingResponse:
    assert granted.document is not None
    family_id = granted.the_person().row.family_id
    values = documents_service.metadata(session, granted.document, family_id, keys)
    cipher = people_service.cipher_for_family(session, family_id, keys)
    # A returned response does not take the dependency's headers: carry the decision's.
    headers = {k: v for k, v in response.headers.items() if k.lower().startswith("x-")}
    headers["Content-Length"] = str(values["size"])
    headers["Content-Disposition"] = "attachment"
    return StreamingResponse(
        documents_service.chunks(session, granted.document.id, values["size"], cipher),
        media_type=values["media_type"].value,
        headers=headers,
    )
