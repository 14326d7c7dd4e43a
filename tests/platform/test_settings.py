import pytest
from pydantic import ValidationError

from app.platform.settings import Settings

STRONG_KEY = "c3Ryb25nLXByb2R1Y3Rpb24ta2V5LTMyLWJ5dGVzISE="


def test_production_refuses_the_development_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="IEYS_JWT_SECRET"):
        Settings(environment="production", encryption_key=STRONG_KEY)


def test_production_refuses_the_development_encryption_key() -> None:
    with pytest.raises(ValidationError, match="IEYS_ENCRYPTION_KEY"):
        Settings(environment="production", jwt_secret="a-real-secret-from-the-vault-0123456789")


def test_production_starts_with_its_own_secrets() -> None:
    settings = Settings(
        environment="production",
        jwt_secret="a-real-secret-from-the-vault-0123456789",
        encryption_key=STRONG_KEY,
    )
    assert settings.environment == "production"


def test_rs256_needs_a_public_key_or_a_jwks_url() -> None:
    with pytest.raises(ValidationError, match="RS256"):
        Settings(jwt_algorithm="RS256")


def test_settings_come_from_ieys_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IEYS_JWT_AUDIENCE", "another-audience")
    assert Settings().jwt_audience == "another-audience"
