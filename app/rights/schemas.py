"""Subject-request cases and the packages an access or portability request returns.

A case is about its subject's relationship with the service: its fields are
`services` data, except the two people it names (`identity`). A package carries each
part of the record under the category of that part.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from app.consent.schemas import ConsentRead
from app.contacts.schemas import ContactRead
from app.documents.schemas import DocumentRead
from app.education.schemas import Education
from app.nurseries.schemas import EnrolmentRead
from app.people.schemas import (
    Circumstances,
    FamilyWorkerSupportRead,
    PersonRead,
    RelationshipRead,
    SpecialCategory,
    Strict,
)
from app.platform.categories import tagged
from app.policy.vocabulary import Basis, Category, ConsentType, Purpose, Role, SubjectKind
from app.safeguarding.schemas import SafeguardingRead

SERVICES = Category.SERVICES
ID = Category.IDENTITY

Reason = Annotated[str, Field(min_length=1, max_length=4000)]


class RequestType(StrEnum):
    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    PORTABILITY = "portability"


class RequestStatus(StrEnum):
    OPEN = "open"
    """The clock is running."""
    PAUSED = "paused"
    """Waiting for proof of identity or clarification: the clock is stopped."""
    CLOSED = "closed"
    """Decided: see `outcome`."""


class RequestOutcome(StrEnum):
    FULFILLED = "fulfilled"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    REFUSED = "refused"


class EventKind(StrEnum):
    RECEIVED = "received"
    PAUSED = "paused"
    RESUMED = "resumed"
    EXTENDED = "extended"
    RECTIFIED = "rectified"
    DECIDED = "decided"
    LIFTED = "lifted"


def _distinct(categories: list[Category]) -> list[Category]:
    return [category for category in Category if category in categories]


class SubjectRequestCreate(Strict):
    type: RequestType = tagged(SERVICES)
    subject_id: UUID = tagged(ID, description="The person the request is about.")
    requester_id: UUID = tagged(
        ID,
        description="Who made it: the subject, or for a child a carer in the household "
        "with parental responsibility.",
    )
    details: str | None = tagged(
        SERVICES,
        default=None,
        min_length=1,
        max_length=4000,
        description="The request as made (for rectification: what is wrong). Cleared "
        "when the subject is erased.",
    )
    received_at: datetime | None = tagged(
        SERVICES,
        default=None,
        description="When the request reached the service (default: now). Not in the "
        "future. The one-month clock starts on its Europe/London date.",
    )


class ReasonBody(Strict):
    reason: Reason = tagged(SERVICES, description="Why, as the case will record it.")


class ExtendBody(Strict):
    months: Literal[1, 2] = tagged(
        SERVICES, description="Further months: never more than two in all (Art 12(3))."
    )
    reason: Reason = tagged(
        SERVICES, description="Why more time is needed: the requester must be told."
    )


class DecideBody(Strict):
    outcome: RequestOutcome = tagged(SERVICES)
    reason: Reason = tagged(SERVICES)
    exempt_categories: list[Category] = tagged(
        SERVICES,
        default_factory=list,
        description="For `partially_fulfilled`: an erasure names the categories kept "
        "(data held for a legal duty or public task, Art 17(3)(b); `identity` among "
        "them); an access or portability request names the categories withheld under "
        "an exemption.",
    )

    @field_validator("exempt_categories")
    @classmethod
    def _each_once(cls, categories: list[Category]) -> list[Category]:
        return _distinct(categories)


class SubjectRequestEventRead(BaseModel):
    kind: EventKind = tagged(SERVICES)
    occurred_at: datetime = tagged(SERVICES)
    actor_sub: str = tagged(SERVICES, description="The officer (or member of staff).")
    reason: str | None = tagged(SERVICES, default=None)
    months: int | None = tagged(SERVICES, default=None)
    decision_id: UUID | None = tagged(
        SERVICES, default=None, description="The audit event of the decision it rested on."
    )
    detail: dict[str, object] | None = tagged(
        SERVICES,
        default=None,
        description="Opaque facts: fields rectified (names only), consents ended by an "
        "erasure, subjects erased.",
    )


class SubjectRequestRead(BaseModel):
    """A subject-request case: the clock, its pauses and extensions, the outcome."""

    id: UUID = tagged(SERVICES)
    type: RequestType = tagged(SERVICES)
    subject_id: UUID = tagged(ID)
    subject_kind: SubjectKind = tagged(ID)
    requester_id: UUID = tagged(ID)
    details: str | None = tagged(SERVICES, default=None)
    received_at: datetime = tagged(SERVICES)
    received_on: date = tagged(SERVICES, description="Europe/London date of receipt.")
    due_at: date = tagged(
        SERVICES,
        description="The day the answer is due: one month after receipt (the same date, "
        "or the month's last day), plus any extension, moved by the days paused, then to "
        "the next working day (weekends and England and Wales bank holidays). While "
        "paused, the date it had when the clock stopped.",
    )
    extended_months: int = tagged(SERVICES)
    paused_at: datetime | None = tagged(SERVICES, default=None)
    paused_days_total: int = tagged(SERVICES)
    status: RequestStatus = tagged(SERVICES)
    overdue: bool = tagged(SERVICES, description="Open, and past `due_at` today.")
    outcome: RequestOutcome | None = tagged(SERVICES, default=None)
    reason: str | None = tagged(SERVICES, default=None)
    exempt_categories: list[Category] = tagged(SERVICES)
    decided_at: datetime | None = tagged(SERVICES, default=None)
    lifted_at: datetime | None = tagged(
        SERVICES,
        default=None,
        description="A restriction or upheld objection lifted (POST …/lift).",
    )
    package_available: bool = tagged(
        SERVICES, description="An access or portability package can be exported."
    )
    history: list[SubjectRequestEventRead] = tagged(SERVICES)


class SubjectRequestPage(BaseModel):
    items: list[SubjectRequestRead] = tagged(SERVICES)
    next_cursor: str | None = tagged(
        SERVICES, default=None, description="Pass as `cursor` for the next page."
    )


# --- the package --------------------------------------------------------------------


class ProcessingRead(BaseModel):
    """A purpose the service processes the data for, the categories it reaches of what
    is held, and the bases it rests on (GET /v1/policy has the legal texts)."""

    purpose: Purpose = tagged(SERVICES)
    categories: list[Category] = tagged(SERVICES)
    bases: list[Basis] = tagged(SERVICES)
    consent_type: ConsentType | None = tagged(
        SERVICES, default=None, description="Set when the purpose rests on this consent."
    )


class RecipientRead(BaseModel):
    code: str = tagged(SERVICES)
    name: str = tagged(SERVICES)
    within_service: bool = tagged(
        SERVICES, description="A constituent part of the service, or a recipient outside it."
    )


class DisclosureRead(BaseModel):
    """A share outside the service: to whom, what, when, why and on which basis."""

    recipient: str = tagged(SERVICES)
    categories: list[Category] = tagged(SERVICES)
    purpose: Purpose = tagged(SERVICES)
    bases: list[str] = tagged(SERVICES)
    actor_role: Role = tagged(SERVICES)
    actor_org: str = tagged(SERVICES)
    disclosed_at: datetime = tagged(SERVICES)
    disclosure_id: UUID | None = tagged(
        SERVICES, default=None, description="The id the recipient was given with the package."
    )


class RecipientToldRead(BaseModel):
    """A recipient told of a rectification, erasure or restriction of data it received
    (Art 19): which disclosure, what happened, and whether it has been told yet."""

    recipient: str = tagged(SERVICES)
    disclosure_id: UUID = tagged(SERVICES)
    event: str = tagged(SERVICES, description="`rectification`, `erasure` or `restriction`.")
    categories: list[Category] = tagged(SERVICES)
    status: str = tagged(
        SERVICES,
        description="`delivered`; `pending`, `failed` or `manual` while it is still to be "
        "told; `closed` with the officer's reason.",
    )
    created_at: datetime = tagged(SERVICES)
    delivered_at: datetime | None = tagged(SERVICES, default=None)
    closed_reason: str | None = tagged(SERVICES, default=None)


class AccessLogItem(BaseModel):
    """Who looked at the record, by role and organisation (never a member of staff's
    own identity), when, why and on what basis."""

    occurred_at: datetime = tagged(SERVICES)
    actor_role: str = tagged(SERVICES)
    actor_org: str = tagged(SERVICES)
    purpose: str = tagged(SERVICES)
    action: str = tagged(SERVICES)
    resource: str = tagged(SERVICES)
    allowed: bool = tagged(SERVICES)
    reason: str = tagged(SERVICES)
    bases: list[str] = tagged(SERVICES)
    categories_granted: list[str] = tagged(SERVICES)


class SourceRead(BaseModel):
    """Where data came from: the role and organisation that recorded it, and what."""

    actor_role: str = tagged(SERVICES)
    actor_org: str = tagged(SERVICES)
    resource: str = tagged(SERVICES)


class RetentionRead(BaseModel):
    destroy_on: date | None = tagged(SERVICES, default=None)
    rule: str = tagged(SERVICES)


class HeldRecord(BaseModel):
    """Everything held about one person, each part under its own category."""

    relationship: Literal["subject", "child"] = tagged(
        Category.HOUSEHOLD,
        description="The subject, or a child of a requester with parental responsibility.",
    )
    person: PersonRead | None = tagged(ID, default=None)
    special_category: SpecialCategory | None = tagged(Category.HEALTH, default=None)
    circumstances: Circumstances | None = tagged(Category.CIRCUMSTANCES, default=None)
    education: Education | None = tagged(Category.EDUCATION, default=None)
    relationships: list[RelationshipRead] = tagged(
        Category.HOUSEHOLD,
        default_factory=list,
        description="Family relationships recorded from this person. Someone else is not "
        "named: `to_name` is left out, `to_person_id` kept only for a person this package "
        "names.",
    )
    documents: list[DocumentRead] = tagged(
        SERVICES,
        default_factory=list,
        description="The documents held, each listed under its own `category`; the content "
        "of each is `GET /v1/documents/{id}/content` (under `subject_rights`).",
    )
    safeguarding: list[SafeguardingRead] = tagged(Category.SAFEGUARDING, default_factory=list)
    contacts: list[ContactRead] = tagged(SERVICES, default_factory=list)
    enrolments: list[EnrolmentRead] = tagged(ID, default_factory=list)
    family_worker_support: list[FamilyWorkerSupportRead] = tagged(SERVICES, default_factory=list)
    consents: list[ConsentRead] = tagged(SERVICES, default_factory=list)
    categories: list[Category] = tagged(SERVICES, description="The categories held.")
    retention: RetentionRead | None = tagged(SERVICES, default=None)
    sources: list[SourceRead] = tagged(SERVICES, default_factory=list)
    disclosures: list[DisclosureRead] = tagged(SERVICES, default_factory=list)
    recipients_told: list[RecipientToldRead] = tagged(
        SERVICES,
        default_factory=list,
        description="Recipients told of a rectification, erasure or restriction (Art 19).",
    )
    access_log: list[AccessLogItem] = tagged(SERVICES, default_factory=list)


class Right(StrEnum):
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    PORTABILITY = "portability"
    WITHDRAW_CONSENT = "withdraw_consent"


class RightStatement(BaseModel):
    """A right the subject has over this data (Art 15(1)(e)), and how it is made."""

    right: Right = tagged(SERVICES)
    article: str = tagged(SERVICES, examples=["UK GDPR Art 16"])
    request_type: RequestType | None = tagged(
        SERVICES,
        default=None,
        description="The subject request it is made as; null for withdrawing a consent "
        "(recorded on the consent).",
    )
    statement: str = tagged(SERVICES)


class ComplaintStatement(BaseModel):
    """The right to complain to the supervisory authority (Art 15(1)(f))."""

    authority: str = tagged(SERVICES, examples=["Information Commissioner's Office"])
    website: str = tagged(SERVICES, examples=["ico.org.uk"])
    telephone: str = tagged(SERVICES, examples=["0303 123 1113"])
    email: str = tagged(SERVICES)
    address: str = tagged(SERVICES)
    contact_us_first: str = tagged(
        SERVICES, description="Where the council asks to hear first, to try to put it right."
    )
    notice: str = tagged(SERVICES, description="The privacy notice's words.")


class SourcesStatement(BaseModel):
    """Where data not collected from the subject came from (Art 15(1)(g)): as the records
    held name it, each under the category of the record it is part of."""

    notice: str = tagged(SERVICES, description="The privacy notice's words.")
    safeguarding: list[str] = tagged(
        Category.SAFEGUARDING,
        default_factory=list,
        description="The sources named on the safeguarding records in this package (who "
        "told the service), each once.",
    )
    documents: list[str] = tagged(
        SERVICES,
        default_factory=list,
        description="Where the documents in this package came from, each once.",
    )


class AutomatedDecisionStatement(BaseModel):
    """Whether automated decision-making or profiling is used (Art 15(1)(h))."""

    used: bool = tagged(SERVICES)
    notice: str = tagged(SERVICES, description="The privacy notice's words.")


class TransferStatement(BaseModel):
    """A recipient outside the UK (or whose country is not yet confirmed) that data in
    this package was disclosed to, and the safeguard the transfer rests on (Art 15(2))."""

    recipient: str = tagged(SERVICES)
    name: str = tagged(SERVICES)
    country: str = tagged(SERVICES)
    safeguard: str = tagged(
        SERVICES, description="The UK GDPR Chapter V safeguard, as the recipient's record names it."
    )
    categories: list[Category] = tagged(SERVICES, description="The categories sent to it.")


class TransfersStatement(BaseModel):
    statement: str = tagged(SERVICES)
    recipients: list[TransferStatement] = tagged(SERVICES, default_factory=list)


class Statements(BaseModel):
    """What Art 15(1) and (2) require an access package to state beside the data."""

    controller: str = tagged(SERVICES, description="Who states them: the controller.")
    rights: list[RightStatement] = tagged(SERVICES)
    rights_notice: str = tagged(
        SERVICES, description="The privacy notice's words on the rights and their exemptions."
    )
    how_to_exercise: str = tagged(SERVICES, description="The privacy notice's words.")
    complaint: ComplaintStatement = tagged(SERVICES)
    sources: SourcesStatement = tagged(SERVICES)
    automated_decision_making: AutomatedDecisionStatement = tagged(SERVICES)
    transfers: TransfersStatement = tagged(SERVICES)


class SubjectPackage(BaseModel):
    """What an access (Art 15) or portability (Art 20) request returns, built when the
    case was fulfilled. Other people's data is left out: other adults of the household,
    and staff beyond their role and organisation."""

    request_id: UUID = tagged(SERVICES)
    type: RequestType = tagged(SERVICES)
    subject_id: UUID = tagged(ID)
    generated_at: datetime = tagged(SERVICES)
    people: list[HeldRecord] = tagged(SERVICES)
    processing: list[ProcessingRead] = tagged(SERVICES, default_factory=list)
    recipients: list[RecipientRead] = tagged(SERVICES, default_factory=list)
    withheld_categories: list[Category] = tagged(
        SERVICES, default_factory=list, description="Left out under an exemption (see reason)."
    )
    withheld_reason: str | None = tagged(SERVICES, default=None)
    statements: Statements | None = tagged(
        SERVICES,
        default=None,
        description="Access only: the rights, the right to complain, the sources of data "
        "not collected from the subject, automated decision-making and transfers outside "
        "the UK, as Art 15(1) and (2) require.",
    )
