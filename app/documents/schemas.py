"""Documents: files sent to the service about a person, and reports on their situation.

A document's metadata and content are decided by the document's own `category`
(`services`, unless its content is `health` or `safeguarding`): its fields carry
`services` (documents are service records, DOMAIN.md), and are shown only where the
decision reaches the document's category.
"""

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel

from app.platform.categories import tagged
from app.policy.vocabulary import Category

SERVICES = Category.SERVICES


class DocumentKind(StrEnum):
    ASSESSMENT = "assessment"
    REPORT = "report"
    LETTER = "letter"
    OTHER = "other"


class DocumentCategory(StrEnum):
    """The category the document's content belongs to: what decides who may read it."""

    SERVICES = "services"
    HEALTH = "health"
    SAFEGUARDING = "safeguarding"


class MediaType(StrEnum):
    """The types accepted, judged from the file's bytes."""

    PDF = "application/pdf"
    PNG = "image/png"
    JPEG = "image/jpeg"
    TEXT = "text/plain"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


_REPLAY = (
    "Always given, but in the answer replayed to a retry with the same `Idempotency-Key` "
    "(`Idempotent-Replayed: true`), which names only `id`, `person_id` and `created_at`: "
    "what the document is stays in its encrypted record."
)


class DocumentRead(BaseModel):
    """A document's metadata (its content: `GET /v1/documents/{id}/content`)."""

    id: UUID = tagged(SERVICES)
    person_id: UUID = tagged(SERVICES)
    kind: DocumentKind | None = tagged(SERVICES, default=None, description=_REPLAY)
    category: DocumentCategory | None = tagged(
        SERVICES,
        default=None,
        description="The category of the content: decides who may read it. " + _REPLAY,
    )
    source: str | None = tagged(
        SERVICES, default=None, description="Where it came from.", examples=["GP practice"]
    )
    filename: str | None = tagged(SERVICES, default=None, examples=["assessment.pdf"])
    media_type: MediaType | None = tagged(
        SERVICES, default=None, description="Judged from the file's bytes. " + _REPLAY
    )
    size: int | None = tagged(
        SERVICES, default=None, description="Bytes. " + _REPLAY, examples=[48213]
    )
    created_at: datetime = tagged(SERVICES)


class DocumentPage(BaseModel):
    """The documents of the categories the decision reaches, newest first; the other
    categories are named in `X-Withheld-Categories`."""

    items: list[DocumentRead] = tagged(SERVICES)
    next_cursor: str | None = tagged(
        SERVICES, default=None, description="Pass as `cursor` for the next page."
    )
