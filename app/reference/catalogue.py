"""Reference data shipped as editable seed files (DOMAIN.md: never hard-coded in logic).

The same files seed the database tables (a migration loads them) and answer the
lookups that every request makes, such as whether a role belongs to an organisation.
"""

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any
from uuid import UUID

from app.platform.settings import get_settings
from app.policy.vocabulary import ConsentType, Role


@dataclass(frozen=True, slots=True)
class Organisation:
    code: str
    name: str
    kind: str
    roles: frozenset[Role]


@dataclass(frozen=True, slots=True)
class NurseryRef:
    id: UUID
    name: str
    org: str


@dataclass(frozen=True, slots=True)
class Recipient:
    code: str
    name: str
    consent_type: ConsentType | None
    purpose: str
    country: str
    transfer_safeguard: str | None
    """Outside the UK, the UK GDPR Chapter V safeguard a transfer to it rests on."""
    notification_url: str | None = None
    """Where it takes Art 19 notifications (an HTTPS endpoint); none: the officer sends
    them by hand."""
    signing_secret_ref: str | None = None
    """The name of the environment variable holding the secret notifications to it are
    signed with (HMAC-SHA256); the secret itself is never reference data."""


@dataclass(frozen=True, slots=True)
class SupervisoryAuthority:
    name: str
    website: str
    telephone: str
    email: str
    address: str


@dataclass(frozen=True, slots=True)
class RightText:
    right: str
    article: str
    request_type: str | None
    """The subject request it is made as; None for a consent's withdrawal (recorded on
    the consent itself)."""
    statement: str


@dataclass(frozen=True, slots=True)
class AccessStatements:
    """The words an access package states beside the data (Art 15(1) and (2)): the
    privacy notice's, quoted, where it states them, and the controller's contacts."""

    controller: str
    rights_notice: str
    rights_how: str
    rights: tuple[RightText, ...]
    complaint_notice: str
    complaints_first: str
    authority: SupervisoryAuthority
    sources_notice: str
    automated_decision_making: bool
    automated_notice: str
    transfers_none: str
    transfers_some: str


def _text(name: str) -> str:
    return resources.files("app.reference").joinpath("data", name).read_text("utf-8")


def _load(name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(_text(name))
    return rows


def _load_object(name: str) -> dict[str, Any]:
    row: dict[str, Any] = json.loads(_text(name))
    return row


@lru_cache
def organisations() -> dict[str, Organisation]:
    return {
        row["code"]: Organisation(
            code=row["code"],
            name=row["name"],
            kind=row["kind"],
            roles=frozenset(Role(r) for r in row["roles"]),
        )
        for row in _load("organisations.json")
    }


@lru_cache
def nurseries() -> dict[UUID, NurseryRef]:
    return {
        UUID(row["id"]): NurseryRef(id=UUID(row["id"]), name=row["name"], org=row["org"])
        for row in _load("nurseries.json")
    }


@lru_cache
def recipients() -> dict[str, Recipient]:
    return {
        row["code"]: Recipient(
            code=row["code"],
            name=row["name"],
            consent_type=ConsentType(row["consent_type"]) if row["consent_type"] else None,
            purpose=row["purpose"],
            country=row["country"],
            transfer_safeguard=row["transfer_safeguard"],
            notification_url=row.get("notification_url"),
            signing_secret_ref=row.get("signing_secret_ref"),
        )
        for row in _load("recipients.json")
    }


def notification_url(recipient: Recipient) -> str | None:
    """Where the recipient takes Art 19 notifications: the deployment's
    `IEYS_RECIPIENT_ENDPOINTS`, else the reference data; none: by hand."""
    return get_settings().recipient_endpoints.get(recipient.code) or recipient.notification_url


def role_belongs_to(role: Role, org: str) -> bool:
    organisation = organisations().get(org)
    return organisation is not None and role in organisation.roles


@lru_cache
def access_statements() -> AccessStatements:
    """From access_statements.json (the notice's words) and controller.json (contacts)."""
    row = _load_object("access_statements.json")
    controller = _load_object("controller.json")
    authority = controller["supervisory_authority"]
    rights = row["rights"]
    return AccessStatements(
        controller=controller["name"],
        rights_notice=rights["notice"],
        rights_how=rights["how"],
        rights=tuple(
            RightText(
                right=r["right"],
                article=r["article"],
                request_type=r["request_type"],
                statement=r["statement"],
            )
            for r in rights["each"]
        ),
        complaint_notice=row["complaint"]["notice"],
        complaints_first=controller["complaints_first"],
        authority=SupervisoryAuthority(
            name=authority["name"],
            website=authority["website"],
            telephone=authority["telephone"],
            email=authority["email"],
            address=authority["address"],
        ),
        sources_notice=row["sources"]["notice"],
        automated_decision_making=bool(row["automated_decision_making"]["used"]),
        automated_notice=row["automated_decision_making"]["notice"],
        transfers_none=row["transfers"]["none"],
        transfers_some=row["transfers"]["some"],
    )
