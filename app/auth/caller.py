"""Who is calling: the verified claims of a bearer token (API.md, Authentication)."""

from dataclasses import dataclass
from uuid import UUID

from app.policy.vocabulary import Role


@dataclass(frozen=True, slots=True)
class Caller:
    """A caller whose token was verified and whose role belongs to `org`.

    `nursery_id` is set for a nursery practitioner only (DOMAIN.md: they reach the
    children attending their nursery); it is None for every other role.
    """

    sub: str
    role: Role
    org: str
    nursery_id: UUID | None
