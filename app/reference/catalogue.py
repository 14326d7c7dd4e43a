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


def _load(name: str) -> list[dict[str, Any]]:
    text = resources.files("app.reference").joinpath("data", name).read_text("utf-8")
    rows: list[dict[str, Any]] = json.loads(text)
    return rows


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
