"""Bearer JWT -> `Caller` (API.md, Authentication).

Every refusal is a 401 `Unauthenticated` carrying one of a few fixed messages: a
message never quotes the token or a claim, and says nothing about a token whose
signature has not been checked beyond "not valid".

python-jose 3.5.0 is lenient in ways this module closes off (read in `jose/jwt.py`):

- it accepts a token with no `exp`, `iat`, `iss`, `aud` or `sub` unless the matching
  `require_*` option is set, and with no `aud` even when `audience` is passed;
- it never compares `iat` with the clock;
- it reads NumericDates with `int()`, so `"exp": "9999999999"` passes and a list or
  an infinite number escapes as `TypeError` or `OverflowError`, not `JWTError`;
- it verifies with whatever algorithm the header names unless `algorithms` is given.

So the algorithm is pinned three times (the header is checked before decoding,
`algorithms=[...]` holds one name, and the key object is built for that algorithm
alone), every required option is set, and the claims are checked again after decode.
"""

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, NoReturn
from uuid import UUID

import httpx
from jose import jwk, jwt
from jose.backends.base import Key
from jose.exceptions import ExpiredSignatureError, JOSEError

from app.auth.caller import Caller
from app.platform.problems import Unauthenticated
from app.platform.settings import JwtAlgorithm, Settings
from app.policy.vocabulary import Role
from app.reference import catalogue

_log = logging.getLogger(__name__)

MAX_TOKEN_LENGTH: Final = 16 * 1024
"""Longer than any identity provider's access token; stops parsing megabyte headers."""

JWKS_TIMEOUT_SECONDS: Final = 5.0
UNKNOWN_KID_REFETCH_SECONDS: Final = 10.0
"""An unknown `kid` refetches the JWKS at once, but the same `kid` only this often."""
MIN_JWKS_FETCH_GAP_SECONDS: Final = 1.0
"""Between any two fetches, so a stream of made-up `kid`s cannot hammer the provider."""
FAILED_JWKS_FETCH_BACKOFF_SECONDS: Final = 10.0
"""After a failed fetch: each attempt blocks a request for up to the timeout."""

NOT_VALID: Final = "The bearer token is not valid"
EXPIRED: Final = "The bearer token has expired"
UNKNOWN_ROLE: Final = "The bearer token's role is not recognised"
UNKNOWN_ORG: Final = "The bearer token's organisation is not recognised"
ROLE_OUTSIDE_ORG: Final = "The bearer token's role does not belong to its organisation"
NURSERY_REQUIRED: Final = "A nursery practitioner's token must name a known nursery"

REQUIRED_CLAIMS: Final = ("exp", "iat", "iss", "aud", "sub", "role", "org")
MAX_SUBJECT: Final = 200
"""The longest `sub` the audit trail's `actor_sub` keeps."""

# Every option python-jose 3.5.0 reads is spelt out, so a change of its defaults
# cannot loosen the check. Its `require_*` options are honoured: each named claim
# must be present, and its `verify_*` is forced on.
_DECODE_OPTIONS: Final[Mapping[str, bool]] = {
    "verify_signature": True,
    "verify_aud": True,
    "verify_iat": True,
    "verify_exp": True,
    "verify_nbf": True,
    "verify_iss": True,
    "verify_sub": True,
    "verify_jti": True,
    "verify_at_hash": True,
    "require_exp": True,
    "require_iat": True,
    "require_iss": True,
    "require_aud": True,
    "require_sub": True,
}


def _refuse(message: str) -> NoReturn:
    # Logged for the service desk: the fixed message only, never the token.
    _log.info("bearer token refused: %s", message)
    raise Unauthenticated(message)


VERIFIED_CACHE_SIZE = 10_000
VERIFIED_CACHE_SECONDS = 300.0


class TokenVerifier:
    """Verifies bearer tokens against the configured issuer, audience and key.

    Built once per process (`app.auth.deps.get_verifier`): keys are constructed here,
    not per request. With `IEYS_JWKS_URL` the keys are fetched on first use and cached;
    `http_client` and `monotonic` exist so tests can serve the JWKS and move the clock.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        http_client: httpx.Client | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._algorithm = settings.jwt_algorithm.value
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._leeway = settings.jwt_leeway_seconds
        self._max_lifetime = settings.jwt_max_lifetime_seconds
        self._options: Mapping[str, object] = {**_DECODE_OPTIONS, "leeway": self._leeway}
        self._key: Key | None = None
        self._jwks: _JwksKeys | None = None
        self._verified: dict[str, tuple[Caller, float]] = {}
        if settings.jwt_algorithm is JwtAlgorithm.HS256:
            self._key = _hmac_key(settings.jwt_secret.get_secret_value())
        elif settings.jwt_public_key:
            # A fixed key needs no network; it wins if a JWKS URL is also set.
            self._key = _rsa_public_key(settings.jwt_public_key)
        elif settings.jwks_url:
            self._jwks = _JwksKeys(
                settings.jwks_url,
                cache_seconds=settings.jwks_cache_seconds,
                client=http_client or httpx.Client(),
                monotonic=monotonic,
            )
        else:
            raise ValueError("RS256 needs IEYS_JWT_PUBLIC_KEY or IEYS_JWKS_URL")

    def verify(self, token: str) -> Caller:
        # An integrator sends the same token on every call until it expires: the
        # answer for a token string cannot change before its `exp`, so a verified
        # token is remembered (never a refusal) until then, or five minutes at most.
        now = time.time()
        cached = self._verified.get(token)
        if cached is not None and cached[1] > now:
            return cached[0]
        if not token or len(token) > MAX_TOKEN_LENGTH:
            _refuse(NOT_VALID)
        key = self._key_for(self._header(token))
        claims = self._decode(token, key)
        caller = self._caller(claims)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        expires = float(claims["exp"]) + self._leeway
        self._verified[token] = (caller, min(expires, now + VERIFIED_CACHE_SECONDS))
        return caller

    def _header(self, token: str) -> Mapping[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError:
            _refuse(NOT_VALID)
        # Before any key is touched: `none`, or HS256 signed with our RSA public key
        # as the secret, never reaches a verifier.
        if header.get("alg") != self._algorithm:
            _refuse(NOT_VALID)
        # RFC 7515 4.1.11: we implement no extension, so any `crit` must be refused.
        if "crit" in header:
            _refuse(NOT_VALID)
        return header

    def _key_for(self, header: Mapping[str, Any]) -> Key:
        if self._key is not None:
            return self._key
        assert self._jwks is not None
        kid = header.get("kid")
        # A JWKS may hold several keys mid-rotation: the token must say which.
        if not isinstance(kid, str) or not kid:
            _refuse(NOT_VALID)
        key = self._jwks.get(kid)
        if key is None:
            _refuse(NOT_VALID)
        return key

    def _decode(self, token: str, key: Key) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options=self._options,
            )
        except ExpiredSignatureError:
            # Raised only after the signature verified, so it tells a holder nothing new.
            _refuse(EXPIRED)
        except (JOSEError, TypeError, ValueError, ArithmeticError):
            # python-jose lets TypeError and OverflowError escape on malformed dates.
            _refuse(NOT_VALID)

    def _caller(self, claims: Mapping[str, Any]) -> Caller:
        # Belt and braces: python-jose checked most of this, but a silent change in
        # its defaults must not let a token through.
        if any(name not in claims for name in REQUIRED_CLAIMS):
            _refuse(NOT_VALID)
        now = time.time()
        exp = _numeric_date(claims["exp"])
        iat = _numeric_date(claims["iat"])
        nbf = _numeric_date(claims["nbf"]) if "nbf" in claims else -math.inf
        if exp is None or iat is None or nbf is None:
            _refuse(NOT_VALID)
        if exp < now - self._leeway:
            _refuse(EXPIRED)
        # A stolen token must not outlive a working day or so, whatever its issuer says.
        if exp - iat > self._max_lifetime:
            _refuse(NOT_VALID)
        # A token issued in the future comes from a broken or forged clock.
        if iat > now + self._leeway or nbf > now + self._leeway:
            _refuse(NOT_VALID)
        if claims["iss"] != self._issuer or not self._audience_matches(claims["aud"]):
            _refuse(NOT_VALID)
        sub = claims["sub"]
        # The trail keeps who asked: a subject longer than it can keep is not a caller.
        if not isinstance(sub, str) or not sub.strip() or len(sub) > MAX_SUBJECT:
            _refuse(NOT_VALID)

        role = _role(claims["role"])
        org = claims["org"]
        if not isinstance(org, str) or org not in catalogue.organisations():
            _refuse(UNKNOWN_ORG)
        # DOMAIN.md: a token whose role does not belong to its organisation is refused.
        if not catalogue.role_belongs_to(role, org):
            _refuse(ROLE_OUTSIDE_ORG)
        nursery_id = None
        if role is Role.NURSERY_PRACTITIONER:
            nursery_id = _nursery_id(claims.get("nursery_id"), org)
        # Other roles have no nursery scope; a stray claim is dropped, not trusted.
        return Caller(sub=sub, role=role, org=org, nursery_id=nursery_id)

    def _audience_matches(self, aud: object) -> bool:
        if isinstance(aud, str):
            return aud == self._audience
        return isinstance(aud, list) and self._audience in aud


def _numeric_date(value: object) -> float | None:
    # RFC 7519 2: a NumericDate is a JSON number; a string or a boolean is not one.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _role(value: object) -> Role:
    if not isinstance(value, str):
        _refuse(UNKNOWN_ROLE)
    try:
        return Role(value)
    except ValueError:
        _refuse(UNKNOWN_ROLE)


def _nursery_id(value: object, org: str) -> UUID:
    if not isinstance(value, str):
        _refuse(NURSERY_REQUIRED)
    try:
        nursery_id = UUID(value)
    except ValueError:
        _refuse(NURSERY_REQUIRED)
    nursery = catalogue.nurseries().get(nursery_id)
    # The nursery must be one the caller's employer runs, not merely one that exists.
    if nursery is None or nursery.org != org:
        _refuse(NURSERY_REQUIRED)
    return nursery_id


def _hmac_key(secret: str) -> Key:
    try:
        return jwk.construct(secret, JwtAlgorithm.HS256.value)
    except JOSEError as exc:
        # python-jose refuses a PEM or SSH key as an HMAC secret (key confusion).
        raise ValueError("IEYS_JWT_SECRET must be a shared secret, not a key") from exc


def _rsa_public_key(pem: str) -> Key:
    try:
        key = jwk.construct(pem, JwtAlgorithm.RS256.value)
    except JOSEError as exc:
        raise ValueError("IEYS_JWT_PUBLIC_KEY is not an RSA key or certificate (PEM)") from exc
    # Verifying needs only the public half; a private key pasted in by mistake is
    # reduced to it rather than kept in memory.
    return key.public_key()


def _jwks_keys(document: object) -> dict[str, Key]:
    """The RS256 signing keys of a JWKS (RFC 7517), by `kid`; others are skipped."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK set")
    keys: dict[str, Key] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict):
            continue
        kid = entry.get("kid")
        usable = (
            isinstance(kid, str)
            and kid
            and entry.get("kty") == "RSA"
            and entry.get("use", "sig") == "sig"
            and entry.get("alg", JwtAlgorithm.RS256.value) == JwtAlgorithm.RS256.value
        )
        if not usable:
            continue
        try:
            key = jwk.construct(entry, JwtAlgorithm.RS256.value).public_key()
        except (JOSEError, ValueError, TypeError, ArithmeticError):
            # One malformed key must not take the provider's other keys with it.
            _log.warning("JWKS key %r skipped: not a usable RSA key", kid)
            continue
        keys[str(kid)] = key
    return keys


class _JwksKeys:
    """The identity provider's keys, fetched from its JWKS URL and cached.

    Thread-safe: sync endpoints verify tokens on many threads. One fetch runs at a
    time under the lock; a fresh cache hit takes no lock. If the provider is down the
    last keys fetched stay in use, since refusing every caller helps nobody and a key
    is only withdrawn by a provider that is answering.
    """

    def __init__(
        self,
        url: str,
        *,
        cache_seconds: float,
        client: httpx.Client,
        monotonic: Callable[[], float],
    ) -> None:
        self._url = url
        self._cache_seconds = cache_seconds
        self._client = client
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._keys: Mapping[str, Key] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._last_fetch_failed = False
        self._kid_misses: dict[str, float] = {}

    def get(self, kid: str) -> Key | None:
        keys = self._keys
        if kid in keys and self._fresh(self._monotonic()):
            return keys[kid]
        with self._lock:
            now = self._monotonic()
            if not self._fresh(now) and self._may_fetch(now):
                self._fetch(now)
            key = self._keys.get(kid)
            if key is None and self._may_refetch_for(kid, now):
                self._fetch(now)
                key = self._keys.get(kid)
            return key

    def _fresh(self, now: float) -> bool:
        return self._fetched_at is not None and now - self._fetched_at < self._cache_seconds

    def _may_fetch(self, now: float) -> bool:
        if self._attempted_at is None:
            return True
        gap = (
            FAILED_JWKS_FETCH_BACKOFF_SECONDS
            if self._last_fetch_failed
            else MIN_JWKS_FETCH_GAP_SECONDS
        )
        return now - self._attempted_at >= gap

    def _may_refetch_for(self, kid: str, now: float) -> bool:
        missed_at = self._kid_misses.get(kid)
        if missed_at is not None and now - missed_at < UNKNOWN_KID_REFETCH_SECONDS:
            return False
        if not self._may_fetch(now):
            return False
        # Forget old misses so made-up kids cannot grow the map without bound.
        self._kid_misses = {
            k: t for k, t in self._kid_misses.items() if now - t < UNKNOWN_KID_REFETCH_SECONDS
        }
        self._kid_misses[kid] = now
        return True

    def _fetch(self, now: float) -> None:
        self._attempted_at = now
        try:
            response = self._client.get(self._url, timeout=JWKS_TIMEOUT_SECONDS)
            response.raise_for_status()
            keys = _jwks_keys(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            self._last_fetch_failed = True
            _log.warning("JWKS fetch failed (%s); keeping the keys held", type(exc).__name__)
            return
        self._keys = keys
        self._fetched_at = now
        self._last_fetch_failed = False


def mint_token(
    settings: Settings,
    *,
    role: Role,
    org: str | None = None,
    sub: str = "dev-user",
    nursery_id: UUID | None = None,
    ttl_seconds: int = 3600,
    now: datetime | None = None,
) -> str:
    """An HS256 token for development and tests, signed with `IEYS_JWT_SECRET`.

    `org` defaults to the first organisation the role belongs to; a nursery
    practitioner's `nursery_id` to the first nursery of that organisation. Nothing
    is validated, so tests can mint the tokens the verifier must refuse.
    """
    if settings.jwt_algorithm is not JwtAlgorithm.HS256:
        # Under RS256 the identity provider holds the signing key; we never do.
        raise ValueError(
            f"mint_token signs HS256 tokens only; IEYS_JWT_ALGORITHM is {settings.jwt_algorithm}"
        )
    if org is None:
        org = _first_organisation(role)
    if nursery_id is None and role is Role.NURSERY_PRACTITIONER:
        nursery_id = _first_nursery(org)
    issued_at = int((now or datetime.now(UTC)).timestamp())
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": sub,
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
        "role": role.value,
        "org": org,
    }
    if nursery_id is not None:
        claims["nursery_id"] = str(nursery_id)
    return jwt.encode(
        claims, settings.jwt_secret.get_secret_value(), algorithm=JwtAlgorithm.HS256.value
    )


@dataclass(frozen=True, slots=True)
class DevelopmentSession:
    sub: str
    role: Role
    org: str
    token: str


def development_officer(settings: Settings, *, seconds: int) -> DevelopmentSession:
    """The console's development sign-in: a token for the data protection officer (the
    console's only user), refused by the caller in production."""
    role, sub = Role.DATA_PROTECTION_OFFICER, "development-officer"
    org = _first_organisation(role)
    token = mint_token(settings, role=role, org=org, sub=sub, ttl_seconds=seconds)
    return DevelopmentSession(sub=sub, role=role, org=org, token=token)


def _first_organisation(role: Role) -> str:
    for organisation in catalogue.organisations().values():
        if role in organisation.roles:
            return organisation.code
    raise ValueError(f"no organisation in the catalogue employs {role.value}")


def _first_nursery(org: str) -> UUID:
    nurseries = list(catalogue.nurseries().values())
    for nursery in nurseries:
        if nursery.org == org:
            return nursery.id
    if not nurseries:
        raise ValueError("the catalogue holds no nursery")
    return nurseries[0].id
