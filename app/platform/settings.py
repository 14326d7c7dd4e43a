"""Configuration from `IEYS_*` environment variables (API.md, "Running it")."""

from collections.abc import Mapping
from enum import StrEnum
from functools import lru_cache
from typing import Any, Self

from pydantic import SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_JWT_SECRET = "ieys-development-secret-do-not-use-in-production"
DEVELOPMENT_CONSOLE_KEY = "ieys-console-development-key-do-not-use-in-production"
# 32 bytes, base64: the development key-encryption key. Refused in production.
DEVELOPMENT_ENCRYPTION_KEY = "aWV5cy1kZXZlbG9wbWVudC1rZWstbm90LWZvci1wcmQ="


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class JwtAlgorithm(StrEnum):
    HS256 = "HS256"
    RS256 = "RS256"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IEYS_", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite:///./ieys.db"
    db_pool_size: int = 16
    db_max_overflow: int = 4
    """Connections a process may open beyond the pool at a peak. Every instance's
    processes x (pool + overflow) must stay under PostgreSQL's max_connections."""
    rate_limit_per_minute: int | None = None
    """Requests a token subject may make in a minute, across every instance; unset: no
    limit (benchmarks and test suites run unthrottled)."""
    max_body_bytes: int = 1_048_576
    """Request bodies over this are refused (413) before any work, authentication included."""
    max_document_bytes: int = 20 * 1_048_576
    """A document's file over this is refused (413); its upload route alone takes a body
    this large (plus the form's own few bytes) past the edge."""

    jwt_algorithm: JwtAlgorithm = JwtAlgorithm.HS256
    jwt_secret: SecretStr = SecretStr(DEVELOPMENT_JWT_SECRET)
    jwt_public_key: str | None = None
    jwks_url: str | None = None
    jwks_cache_seconds: int = 300
    jwt_issuer: str = "https://idp.camden.gov.uk/ieys"
    jwt_audience: str = "ieys-api"
    jwt_leeway_seconds: int = 30
    jwt_max_lifetime_seconds: int = 86_400
    """A token whose `exp` is further than this after its `iat` is refused (401)."""

    encryption_key: SecretStr = SecretStr(DEVELOPMENT_ENCRYPTION_KEY)
    """The current key-encryption key: wraps every new household key."""
    encryption_previous_keys: SecretStr = SecretStr("")
    """Older key-encryption keys (comma-separated base64), still accepted for unwrapping
    until `ieys rewrap` has moved every household key to the current one."""

    audit_seal_interval_seconds: float = 1.0
    """How often each instance tries to seal the audit chain (0 disables the thread)."""
    console_session_key: SecretStr = SecretStr(DEVELOPMENT_CONSOLE_KEY)
    """Seals the console's session cookie (encrypted and signed); refused in production
    at its development value."""
    console_session_seconds: int = 8 * 3600
    """How long a console sign-in lasts."""
    oidc_issuer: str | None = None
    """The council's identity provider (OpenID Connect discovery at
    `<issuer>/.well-known/openid-configuration`); unset: no console sign-in in
    production."""
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scope: str = "openid profile"
    recipient_endpoints: dict[str, str] = {}
    """Per deployment, where recipients take Art 19 notifications: JSON, recipient code
    to HTTPS URL (`{"gp_practice": "https://..."}`); it wins over the reference data's
    `notification_url`."""
    notify_interval_seconds: float = 5.0
    """How often each instance delivers the Art 19 notifications due (0 disables the
    thread)."""
    notify_timeout_seconds: float = 10.0
    """How long a recipient's endpoint has to answer one notification."""
    notify_backoff_base_seconds: float = 30.0
    """The wait after a first failed attempt; it doubles after each further one."""
    notify_backoff_max_seconds: float = 3600.0
    """The longest wait between attempts: a notification is retried until it succeeds or
    the officer closes it."""
    report_facts_at_start: bool = True
    """Build the reports' in-memory facts when the service starts, off the request path
    (false: at the first report)."""

    @model_validator(mode="after")
    def _refuse_development_secrets_in_production(self) -> Self:
        if self.environment is Environment.PRODUCTION:
            if self.encryption_key.get_secret_value() == DEVELOPMENT_ENCRYPTION_KEY:
                raise ValueError("IEYS_ENCRYPTION_KEY must be set in production")
            if (
                self.jwt_algorithm is JwtAlgorithm.HS256
                and self.jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET
            ):
                raise ValueError("IEYS_JWT_SECRET must be set in production")
            if self.console_session_key.get_secret_value() == DEVELOPMENT_CONSOLE_KEY:
                raise ValueError("IEYS_CONSOLE_SESSION_KEY must be set in production")
        if self.jwt_algorithm is JwtAlgorithm.RS256 and not (self.jwt_public_key or self.jwks_url):
            raise ValueError("RS256 needs IEYS_JWT_PUBLIC_KEY or IEYS_JWKS_URL")
        if self.jwt_max_lifetime_seconds < 1:
            raise ValueError("IEYS_JWT_MAX_LIFETIME_SECONDS must be at least 1")
        # A key that cannot wrap a household's key stops the service now, not at the
        # first write (the crypto module reads settings, so it is imported here).
        from app.platform.crypto import load_kek, load_previous_keks

        load_kek(self.encryption_key.get_secret_value())
        previous = load_previous_keks(self.encryption_previous_keys.get_secret_value())
        if (
            self.environment is Environment.PRODUCTION
            and load_kek(DEVELOPMENT_ENCRYPTION_KEY) in previous
        ):
            # The development key is public: whatever it wrapped anyone can read.
            raise ValueError("IEYS_ENCRYPTION_PREVIOUS_KEYS may not hold the development key")
        return self


class ConfigurationError(RuntimeError):
    """The configuration is refused: says which setting and why, never a value."""


def load_settings() -> Settings:
    """The settings, or ConfigurationError naming each problem. Pydantic's own error
    repeats the input (secrets among it): it is not chained."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(_named(error) for error in exc.errors())
        raise ConfigurationError(f"The service's configuration is refused: {problems}") from None


def _named(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    field = ".".join(str(part) for part in error.get("loc", ()))
    return f"IEYS_{field.upper()}: {message}" if field else message


@lru_cache
def get_settings() -> Settings:
    return load_settings()
