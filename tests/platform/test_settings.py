import pytest
from pydantic import ValidationError

from app.platform.settings import (
    DEVELOPMENT_ENCRYPTION_KEY,
    DEVELOPMENT_JWT_SECRET,
    ConfigurationError,
    Settings,
    load_settings,
)

STRONG_KEY = "c3Ryb25nLXByb2R1Y3Rpb24ta2V5LTMyLWJ5dGVzISE="


def test_production_refuses_the_development_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="IEYS_JWT_SECRET"):
        Settings(environment="production", encryption_key=STRONG_KEY)


def test_production_refuses_the_development_encryption_key() -> None:
    with pytest.raises(ValidationError, match="IEYS_ENCRYPTION_KEY"):
        Settings(environment="production", jwt_secret="a-real-secret-from-the-vault-0123456789")


def test_production_refuses_the_development_console_session_key() -> None:
    with pytest.raises(ValidationError, match="IEYS_CONSOLE_SESSION_KEY"):
        Settings(
            environment="production",
            jwt_secret="a-real-secret-from-the-vault-0123456789",
            encryption_key=STRONG_KEY,
        )


def test_production_starts_with_its_own_secrets() -> None:
    settings = Settings(
        environment="production",
        jwt_secret="a-real-secret-from-the-vault-0123456789",
        encryption_key=STRONG_KEY,
        console_session_key="another-real-secret-from-the-vault-987654",
    )
    assert settings.environment == "production"


def test_rs256_needs_a_public_key_or_a_jwks_url() -> None:
    with pytest.raises(ValidationError, match="RS256"):
        Settings(jwt_algorithm="RS256")


def test_settings_come_from_ieys_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IEYS_JWT_AUDIENCE", "another-audience")
    assert Settings().jwt_audience == "another-audience"


def test_a_refused_configuration_says_why_without_printing_a_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IEYS_ENVIRONMENT", "production")
    monkeypatch.setenv("IEYS_ENCRYPTION_KEY", STRONG_KEY)
    with pytest.raises(ConfigurationError) as refused:
        load_settings()
    message = str(refused.value)
    assert "IEYS_JWT_SECRET must be set in production" in message
    assert DEVELOPMENT_JWT_SECRET not in message
    assert "do-not-use" not in message
    assert STRONG_KEY not in message
    assert refused.value.__cause__ is None
    assert refused.value.__suppress_context__


def test_an_encryption_key_that_is_not_32_bytes_stops_the_service_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IEYS_ENCRYPTION_KEY", "short")
    with pytest.raises(ConfigurationError, match="IEYS_ENCRYPTION_KEY") as refused:
        load_settings()
    assert "short" not in str(refused.value)


def test_a_maximum_token_lifetime_must_be_positive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IEYS_JWT_MAX_LIFETIME_SECONDS", "0")
    with pytest.raises(ConfigurationError, match="IEYS_JWT_MAX_LIFETIME_SECONDS"):
        load_settings()


def test_a_previous_encryption_key_that_is_not_32_bytes_stops_the_service_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IEYS_ENCRYPTION_PREVIOUS_KEYS", f"{STRONG_KEY},c2hvcnQ=")
    with pytest.raises(ConfigurationError) as refused:
        load_settings()
    message = str(refused.value)
    assert "IEYS_ENCRYPTION_PREVIOUS_KEYS: key 2 must decode to 32 bytes" in message
    assert STRONG_KEY not in message
    assert "c2hvcnQ" not in message
    assert "\n" not in message


def test_production_refuses_the_development_key_among_the_previous_keys() -> None:
    with pytest.raises(ValidationError, match="IEYS_ENCRYPTION_PREVIOUS_KEYS"):
        Settings(
            environment="production",
            jwt_secret="a-real-secret-from-the-vault-0123456789",
            encryption_key=STRONG_KEY,
            encryption_previous_keys=DEVELOPMENT_ENCRYPTION_KEY,
            console_session_key="another-real-secret-from-the-vault-987654",
        )
