"""Recording, withdrawing and listing consents. Services flush, never commit.

A withdrawal stamps the consent with when and why; the row stays, so what was done
lawfully before it stays demonstrable (Art 7(1), Art 7(3)).
"""

from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.consent import schemas
from app.consent.models import Consent
from app.people.service import PersonView
from app.platform.db import as_utc, utcnow
from app.platform.pagination import Page, keyset_page
from app.platform.problems import Conflict, Unprocessable
from app.policy.vocabulary import Category, ConsentType, SubjectKind
from app.reference import catalogue


def check_giver(subject: PersonView, giver: PersonView | None) -> None:
    """DOMAIN.md: consent for a child is given by a carer with parental responsibility;
    an adult gives their own."""
    if giver is None:
        raise Unprocessable("given_by_id", "no person with this id")
    if giver.row.family_id != subject.row.family_id:
        raise Unprocessable("given_by_id", "not a member of the subject's household")
    if subject.kind is SubjectKind.CHILD:
        if giver.kind is not SubjectKind.CARER or not giver.row.has_parental_responsibility:
            raise Unprocessable(
                "given_by_id", "must be a carer with parental responsibility for the child"
            )
    elif giver.id != subject.id:
        raise Unprocessable("given_by_id", "an adult gives their own consent")


def check_recipient(consent_type: ConsentType, recipient: str | None) -> None:
    """A consent to a share names the recipient whose consent type it is; no other does.

    The recipients and the consent type each accepts are reference data.
    """
    known = catalogue.recipients()
    sharing_types = {r.consent_type for r in known.values() if r.consent_type is not None}
    if recipient is None:
        if consent_type in sharing_types:
            raise Unprocessable(
                "recipient", f"a {consent_type.value} consent names the recipient it covers"
            )
        return
    found = known.get(recipient)
    if found is None:
        raise Unprocessable("recipient", "not a known recipient (GET /v1/recipients)")
    if found.consent_type is not consent_type:
        raise Unprocessable(
            "recipient", f"a share to this recipient is not permitted by a {consent_type.value}"
        )


def check_siblings(subject: PersonView, siblings: list[PersonView]) -> None:
    """One household form may cover several children, each of them a child there."""
    if siblings and subject.kind is not SubjectKind.CHILD:
        raise Unprocessable("also_covers", "only a form about a child covers other children")
    seen = {subject.id}
    for sibling in siblings:
        if sibling.id in seen:
            raise Unprocessable("also_covers", "names the subject or a child twice")
        seen.add(sibling.id)
        if sibling.kind is not SubjectKind.CHILD:
            raise Unprocessable("also_covers", "names a person who is not a child")
        if sibling.row.family_id != subject.row.family_id:
            raise Unprocessable("also_covers", "names a child of another household")


def _joined(categories: list[Category]) -> str:
    return ",".join(c.value for c in Category if c in categories)


def record(
    session: Session,
    body: schemas.ConsentCreate,
    subject: PersonView,
    giver: PersonView | None,
    siblings: list[PersonView],
) -> tuple[Consent, list[Consent]]:
    """Validate, then record one consent for the subject and one per sibling child."""
    check_giver(subject, giver)
    check_recipient(body.type, body.recipient)
    check_siblings(subject, siblings)
    given_at = utcnow()
    consents = [
        Consent(
            id=uuid4(),
            subject_id=person.id,
            given_by_id=body.given_by_id,
            type=body.type.value,
            categories=_joined(body.categories),
            recipient=body.recipient,
            method=body.method.value,
            evidence_ref=body.evidence_ref,
            given_at=given_at,
        )
        for person in (subject, *siblings)
    ]
    session.add_all(consents)
    session.flush()
    return consents[0], consents[1:]


def get(session: Session, consent_id: UUID) -> Consent | None:
    return session.get(Consent, consent_id)


def withdraw(session: Session, consent: Consent, reason: str | None) -> Consent:
    """Takes effect for every later decision; the consent itself is kept."""
    if consent.withdrawn_at is not None:
        raise Conflict("This consent was already withdrawn.")
    consent.withdrawn_at = utcnow()
    consent.withdrawal_reason = reason
    session.flush()
    return consent


def values(consent: Consent, *, covers_also: list[UUID] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": consent.id,
        "subject_id": consent.subject_id,
        "given_by_id": consent.given_by_id,
        "type": ConsentType(consent.type),
        "categories": [Category(c) for c in consent.categories.split(",") if c],
        "recipient": consent.recipient,
        "method": schemas.ConsentMethod(consent.method),
        "evidence_ref": consent.evidence_ref,
        "given_at": as_utc(consent.given_at),
        "withdrawn_at": as_utc(consent.withdrawn_at) if consent.withdrawn_at else None,
        "withdrawal_reason": consent.withdrawal_reason,
        "active": consent.withdrawn_at is None,
    }
    if covers_also is not None:
        out["covers_also"] = covers_also
    return out


def page(session: Session, subject_id: UUID, *, limit: int, cursor: str | None) -> Page[Consent]:
    """Active and withdrawn alike, the most recently given first."""
    c = Consent
    return keyset_page(
        session,
        select(c).where(c.subject_id == subject_id),
        (c.given_at, c.id),
        limit=limit,
        cursor=cursor,
        descending=True,
    )
