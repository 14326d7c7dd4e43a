"""The engine's inputs and output: plain frozen values, no I/O."""

from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from app.policy.vocabulary import (
    Action,
    Basis,
    Category,
    ConsentType,
    Purpose,
    Reason,
    RecordKind,
    Role,
    SubjectKind,
)


@dataclass(frozen=True, slots=True)
class Ask:
    """Who asks, for what purpose, to do what with which categories, on which day."""

    role: Role
    org: str
    purpose: Purpose
    action: Action
    categories: frozenset[Category]
    on: date
    justification: str | None = None
    nursery_id: UUID | None = None
    recipient: str | None = None
    """Recipient code outside the service, for a share."""
    recipient_consent_type: ConsentType | None = None
    """The consent type that permits a share to `recipient` (reference data, looked up by
    the caller). None: no consent type permits it, so only `safeguarding` may share."""
    record: RecordKind | None = None
    """The kind of record written or read, where the rules name one."""
    served: frozenset[Purpose] | None = None
    """The purposes the operation serves (the rule tables' OPERATION_PURPOSES); None: any."""
    target_nursery_id: UUID | None = None
    """For an enrolment, the nursery the child is enrolled at."""


@dataclass(frozen=True, slots=True)
class ConsentFact:
    type: ConsentType
    categories: frozenset[Category]
    recipient: str | None
    withdrawn: bool


@dataclass(frozen=True, slots=True)
class RecordState:
    """A snapshot of the subject's record as it stands on the day of the ask."""

    kind: SubjectKind
    gone: bool = False
    """Erased or destroyed."""
    unknown: bool = False
    """An id the service never held: answered after steps 2 and 3, so that a caller who
    may not ask learns nothing of which ids exist."""
    nursery_ids: frozenset[UUID] = frozenset()
    """Nurseries the child attends on the day (an enrolment started and not ended)."""
    destruction_date: date | None = None
    restricted: bool = False
    objection_upheld: bool = False
    cp_plan_active: bool = False
    consents: tuple[ConsentFact, ...] = ()


@dataclass(frozen=True, slots=True)
class Citation:
    """One lawful basis relied on, with its legal text and DPA 2018 Schedule 1 paragraph."""

    basis: Basis
    text: str
    schedule1_paragraph: int | None = None
    categories: frozenset[Category] = frozenset()
    """For an Art 9 condition, the special categories it covers."""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: Reason
    bases: tuple[Citation, ...] = ()
    allowed_categories: frozenset[Category] = frozenset()
    withheld_categories: frozenset[Category] = frozenset()
    gateways: tuple[str, ...] = ()
    review_required: bool = False
    """A safeguarding override: listed for the data protection officer's review."""
    consent_types: tuple[ConsentType, ...] = field(default=())
    """Consents the decision rests on, when it rests on consent."""

    @property
    def basis_codes(self) -> tuple[Basis, ...]:
        seen: dict[Basis, None] = {}
        for citation in self.bases:
            seen.setdefault(citation.basis, None)
        return tuple(seen)
