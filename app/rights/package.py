"""The access (Art 15) and portability (Art 20) packages.

Access: everything held about the subject (and about their children, when the
requester is the subject and has parental responsibility), with the purposes and
bases, the categories, the recipients and every disclosure, retention dates, sources,
consents and the access log. Other people's data is left out: other adults of the
household are not in it, a consent another adult gave names no one, and staff appear
by role and organisation only.

Access also states what Art 15(1) and (2) require beside the data (app.rights.statements).

Portability: the data processed on consent (the categories the subject's active
consents cover), in a structured format; nothing derived (no access log, no sources).
"""

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, Final, TypeVar
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.consent import service as consent_service
from app.consent.models import Consent
from app.consent.schemas import ConsentRead
from app.contacts import service as contacts_service
from app.contacts.schemas import ContactRead
from app.documents import service as documents_service
from app.documents.schemas import DocumentRead
from app.education.schemas import Education
from app.notifications import service as notifications_service
from app.nurseries.models import Enrolment
from app.nurseries.schemas import EnrolmentRead
from app.people import records
from app.people import schemas as people_schemas
from app.people import service as people_service
from app.people.models import FamilyWorkerSupport, Person
from app.people.service import PersonView
from app.platform.categories import only
from app.platform.crypto import KeyRing
from app.platform.db import as_utc, utcnow
from app.policy.rules import CONSENT_BASES, CONSENT_PURPOSES, PURPOSE_BASES, PURPOSE_CATEGORIES
from app.policy.vocabulary import ART9_CATEGORIES, Basis, Category, Purpose
from app.reference import catalogue
from app.relationships import service as relationships_service
from app.retention import rules as retention_rules
from app.rights import schemas, statements
from app.rights.models import SubjectRequest
from app.safeguarding import service as safeguarding_service
from app.safeguarding.schemas import SafeguardingRead
from app.sharing.models import Disclosure

PAGE: Final = 200
ACCESS_LOG_LIMIT: Final = 100_000
WRITING_ACTIONS: Final = frozenset({"write", "record_consent"})
P = TypeVar("P", safeguarding_service.Page, contacts_service.Page, relationships_service.Page)
DOCUMENT_CATEGORIES: Final = frozenset({Category.SERVICES, Category.HEALTH, Category.SAFEGUARDING})


def _every(read_page: Callable[[str | None], P]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        found = read_page(cursor)
        items.extend(found.items)
        if found.next_cursor is None:
            return items
        cursor = found.next_cursor


def _split(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def consented_categories(session: Session, person_id: UUID) -> frozenset[Category]:
    """What the subject's active consents cover: the data processed on consent."""
    rows = session.execute(
        select(Consent.categories).where(
            Consent.subject_id == person_id, Consent.withdrawn_at.is_(None)
        )
    ).scalars()
    return frozenset(Category(c) for row in rows for c in _split(row))


def _bases(purpose: Purpose, categories: frozenset[Category]) -> list[Basis]:
    bases = CONSENT_BASES if purpose in CONSENT_PURPOSES else PURPOSE_BASES[purpose]
    codes = [bases.art6.basis]
    codes.extend(bases.art9[c].basis for c in Category if c in categories & ART9_CATEGORIES)
    return list(dict.fromkeys(codes))


def processing(held: frozenset[Category]) -> list[schemas.ProcessingRead]:
    """Each purpose of the policy that reaches something held, and its bases."""
    out = []
    for purpose in Purpose:
        reached = PURPOSE_CATEGORIES[purpose] & held
        if not reached:
            continue
        out.append(
            schemas.ProcessingRead(
                purpose=purpose,
                categories=[c for c in Category if c in reached],
                bases=_bases(purpose, reached),
                consent_type=CONSENT_PURPOSES.get(purpose),
            )
        )
    return out


def recipients(disclosed_to: Iterable[str]) -> list[schemas.RecipientRead]:
    """The constituent parts of the service, and every recipient outside it that was sent
    something."""
    within = [
        schemas.RecipientRead(code=o.code, name=o.name, within_service=True)
        for o in catalogue.organisations().values()
    ]
    known = catalogue.recipients()
    outside = [
        schemas.RecipientRead(
            code=code, name=known[code].name if code in known else code, within_service=False
        )
        for code in dict.fromkeys(disclosed_to)
    ]
    return within + outside


class _Builder:
    def __init__(
        self,
        session: Session,
        keys: KeyRing,
        on: date,
        *,
        categories: frozenset[Category],
        named: frozenset[UUID],
        derived: bool,
    ) -> None:
        self.session = session
        self.keys = keys
        self.on = on
        self.categories = categories
        self.named = named
        """People the package may name by id: the subject and the requester."""
        self.derived = derived
        """Access: also the access log, sources and disclosures."""

    def record(self, view: PersonView, relationship: str) -> schemas.HeldRecord:
        allowed = self.categories
        held: set[Category] = {Category.IDENTITY, Category.CONTACT, Category.HOUSEHOLD}
        special = circumstances = None
        special_values, special_version = records.read(
            self.session, records.SPECIAL_CATEGORY, view, self.keys
        )
        if special_version:
            held.update(
                c
                for c, present in (
                    (Category.ETHNICITY, special_values["ethnicity"] is not None),
                    (Category.HEALTH, special_values["health"] is not None),
                )
                if present
            )
            if allowed & {Category.ETHNICITY, Category.HEALTH}:
                special = only(people_schemas.SpecialCategory, special_values, allowed)
        circumstance_values, circumstances_version = records.read(
            self.session, records.CIRCUMSTANCES, view, self.keys
        )
        if circumstances_version:
            held.add(Category.CIRCUMSTANCES)
            if Category.CIRCUMSTANCES in allowed:
                circumstances = people_schemas.Circumstances(**circumstance_values)
        education = None
        education_values, education_version = records.read(
            self.session, records.EDUCATION, view, self.keys
        )
        if education_version:
            held.add(Category.EDUCATION)
            if Category.EDUCATION in allowed:
                education = Education.model_validate(education_values)
        relationships = [
            self.relationship(item)
            for item in _every(
                lambda cursor: relationships_service.page(
                    self.session, view, self.keys, limit=PAGE, cursor=cursor
                )
            )
        ]
        documents = documents_service.every(
            self.session, view, self.keys, allowed=DOCUMENT_CATEGORIES
        )
        held.update(Category(d["category"].value) for d in documents)
        safeguarding = _every(
            lambda cursor: safeguarding_service.page(
                self.session, view, self.keys, self.on, limit=PAGE, cursor=cursor
            )
        )
        contacts = _every(
            lambda cursor: contacts_service.page(
                self.session, view, self.keys, allowed=allowed, limit=PAGE, cursor=cursor
            )
        )
        consents = list(
            self.session.execute(
                select(Consent).where(Consent.subject_id == view.id).order_by(Consent.given_at)
            ).scalars()
        )
        enrolments = list(
            self.session.execute(
                select(Enrolment)
                .where(Enrolment.child_id == view.id)
                .order_by(Enrolment.start_date)
            ).scalars()
        )
        supports = list(
            self.session.execute(
                select(FamilyWorkerSupport).where(FamilyWorkerSupport.person_id == view.id)
            ).scalars()
        )
        if safeguarding:
            held.add(Category.SAFEGUARDING)
        if contacts or consents or supports:
            held.add(Category.SERVICES)
        record = schemas.HeldRecord(
            relationship=relationship,
            person=only(people_schemas.PersonRead, view.values(), allowed)
            if allowed & {Category.IDENTITY, Category.CONTACT}
            else None,
            special_category=special,
            circumstances=circumstances,
            education=education,
            relationships=relationships if Category.HOUSEHOLD in allowed else [],
            documents=[
                DocumentRead(**d) for d in documents if Category(d["category"].value) in allowed
            ],
            safeguarding=[only(SafeguardingRead, item, allowed) for item in safeguarding]
            if Category.SAFEGUARDING in allowed
            else [],
            contacts=[only(ContactRead, item, allowed) for item in contacts]
            if Category.SERVICES in allowed
            else [],
            enrolments=[
                EnrolmentRead(
                    id=e.id,
                    nursery_id=e.nursery_id,
                    child_id=e.child_id,
                    start_date=e.start_date,
                    end_date=e.end_date,
                )
                for e in enrolments
            ]
            if Category.IDENTITY in allowed
            else [],
            family_worker_support=[
                people_schemas.FamilyWorkerSupportRead(
                    id=s.id,
                    family_id=s.family_id,
                    person_id=s.person_id,
                    started_on=s.started_on,
                    retention_until=view.destruction_date or s.started_on,
                )
                for s in supports
            ]
            if Category.SERVICES in allowed
            else [],
            consents=[self.consent(c) for c in consents],
            categories=[c for c in Category if c in held],
            retention=self.retention(view),
        )
        if self.derived:
            self.add_derived(record, view.id)
        return record

    def relationship(self, values: dict[str, Any]) -> people_schemas.RelationshipRead:
        # Someone not on the record, or another person, is their own data, not the
        # requester's: not named here.
        shown = dict(values, to_name=None)
        if shown["to_person_id"] not in self.named:
            shown["to_person_id"] = None
        return people_schemas.RelationshipRead(**shown)

    def consent(self, consent: Consent) -> ConsentRead:
        values = consent_service.values(consent)
        if consent.given_by_id not in self.named:
            # Another adult gave it: their id is their data, not the requester's.
            values["given_by_id"] = None
        return ConsentRead(**values)

    def retention(self, view: PersonView) -> schemas.RetentionRead:
        family = people_service.get_family(self.session, view.row.family_id)
        supported = bool(family and family.family_worker_supported)
        if view.row.kind == "child":
            rule = retention_rules.child_rule(family_worker_supported=supported)
        else:
            children = self.session.execute(
                select(Person.id).where(
                    Person.family_id == view.row.family_id, Person.kind == "child"
                )
            ).first()
            rule = retention_rules.household_rule(
                as_utc(family.created_at).date() if family else self.on,
                view.destruction_date or self.on,
                has_children=children is not None,
            )
        return schemas.RetentionRead(destroy_on=view.destruction_date, rule=rule)

    def add_derived(self, record: schemas.HeldRecord, person_id: UUID) -> None:
        sources: dict[tuple[str, str, str], None] = {}
        log = []
        for row in audit_service.iter_events_for(self.session, person_id, limit=ACCESS_LOG_LIMIT):
            log.append(
                schemas.AccessLogItem(
                    occurred_at=as_utc(row.occurred_at),
                    actor_role=row.actor_role,
                    actor_org=row.actor_org,
                    purpose=row.purpose,
                    action=row.action,
                    resource=row.resource,
                    allowed=row.allowed,
                    reason=row.reason,
                    bases=_split(row.bases),
                    categories_granted=_split(row.categories_granted),
                )
            )
            if row.allowed and row.outcome == "completed" and row.action in WRITING_ACTIONS:
                sources.setdefault((row.actor_role, row.actor_org, row.resource), None)
        record.access_log = log
        record.sources = [
            schemas.SourceRead(actor_role=role, actor_org=org, resource=resource)
            for role, org, resource in sources
        ]
        record.disclosures = [
            schemas.DisclosureRead(
                recipient=d.recipient,
                categories=[Category(c) for c in _split(d.categories)],
                purpose=Purpose(d.purpose),
                bases=_split(d.bases),
                actor_role=d.actor_role,
                actor_org=d.actor_org,
                disclosed_at=as_utc(d.disclosed_at),
                disclosure_id=d.id,
            )
            for d in self.session.execute(
                select(Disclosure)
                .where(Disclosure.subject_id == person_id)
                .order_by(Disclosure.disclosed_at)
            ).scalars()
        ]
        record.recipients_told = [
            schemas.RecipientToldRead(
                recipient=n.recipient,
                disclosure_id=n.disclosure_id,
                event=n.event,
                categories=[Category(c) for c in _split(n.categories)],
                status=n.status,
                created_at=as_utc(n.created_at),
                delivered_at=n.delivered_at and as_utc(n.delivered_at),
                closed_reason=n.closed_reason,
            )
            for n in notifications_service.for_subject(self.session, person_id)
        ]


def children_of(session: Session, carer: PersonView) -> list[PersonView]:
    return [
        view
        for view in people_service.members(session, carer.row.family_id)
        if view.row.kind == "child"
    ]


def build(
    session: Session,
    case: SubjectRequest,
    subject: PersonView,
    requester: PersonView | None,
    keys: KeyRing,
    on: date,
    *,
    withheld: frozenset[Category],
    reason: str | None,
) -> schemas.SubjectPackage:
    portability = case.type == schemas.RequestType.PORTABILITY
    if portability:
        categories = consented_categories(session, subject.id) - withheld
    else:
        categories = frozenset(Category) - withheld
    builder = _Builder(
        session,
        keys,
        on,
        categories=categories,
        named=frozenset({case.subject_id, case.requester_id}),
        derived=not portability,
    )
    people = [builder.record(subject, "subject")]
    # Art 15 for a parent: their children's data, when they hold parental responsibility.
    if (
        not portability
        and requester is not None
        and requester.id == subject.id
        and bool(subject.row.has_parental_responsibility)
    ):
        people.extend(builder.record(child, "child") for child in children_of(session, subject))
    held = frozenset(c for record in people for c in record.categories) & categories
    disclosed_to = [d.recipient for record in people for d in record.disclosures]
    return schemas.SubjectPackage(
        request_id=case.id,
        type=schemas.RequestType(case.type),
        subject_id=case.subject_id,
        generated_at=utcnow(),
        people=people,
        processing=[] if portability else processing(held),
        recipients=[] if portability else recipients(disclosed_to),
        withheld_categories=[c for c in Category if c in withheld],
        withheld_reason=reason if withheld else None,
        statements=None if portability else statements.build(people),
    )
