"""TokenVerifier against API.md, Authentication: no database, no app."""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt

from app.auth.caller import Caller
from app.auth.tokens import (
    EXPIRED,
    NOT_VALID,
    NURSERY_REQUIRED,
    ROLE_OUTSIDE_ORG,
    UNKNOWN_ORG,
    UNKNOWN_ROLE,
    TokenVerifier,
    mint_token,
)
from app.platform.problems import Unauthenticated
from app.platform.settings import Environment, JwtAlgorithm, Settings
from app.policy.vocabulary import Role
from app.reference import catalogue

SECRET = "a-test-secret-of-more-than-thirty-two-bytes"
ISSUER = "https://idp.test/ieys"
AUDIENCE = "ieys-api"
JWKS_URL = "https://idp.test/.well-known/jwks.json"
COUNCIL = "E09000007"
NHS_TRUST = "RV3"
UNKNOWN_NURSERY = "00000000-0000-4000-8000-000000000000"


def settings(**overrides: Any) -> Settings:
    """Settings for a test, independent of any IEYS_* variable in the environment."""
    fixed: dict[str, Any] = {
        "environment": Environment.DEVELOPMENT,
        "jwt_issuer": ISSUER,
        "jwt_audience": AUDIENCE,
        "jwt_leeway_seconds": 30,
        "jwks_cache_seconds": 300,
    }
    return Settings(**(fixed | overrides))


def hs256_settings() -> Settings:
    return settings(jwt_algorithm=JwtAlgorithm.HS256, jwt_secret=SECRET)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    return {**jwk.construct(public_pem(key), "RS256").to_dict(), "kid": kid, "use": "sig"}


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims for a health visitor; an override of None removes the claim."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "hv-0001",
        "iat": now,
        "exp": now + 600,
        "role": Role.HEALTH_VISITOR.value,
        "org": NHS_TRUST,
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def first_nursery() -> UUID:
    return next(iter(catalogue.nurseries()))


def hs256(body: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(body, secret, algorithm="HS256")


def rs256(body: dict[str, Any], key: rsa.RSAPrivateKey, kid: str | None = None) -> str:
    headers = {"kid": kid} if kid else None
    return jwt.encode(body, private_pem(key), algorithm="RS256", headers=headers)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def by_hand(header: dict[str, Any], body: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(body).encode())}"
    return f"{signing_input}.{b64url(sign(signing_input.encode()))}"


def refused(verifier: TokenVerifier, token: str) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as caught:
        verifier.verify(token)
    return caught.value


@pytest.fixture
def verifier() -> TokenVerifier:
    return TokenVerifier(hs256_settings())


# HS256 and the registered claims


def test_a_valid_hs256_token_is_accepted(verifier: TokenVerifier) -> None:
    caller = verifier.verify(hs256(claims()))

    assert caller == Caller(sub="hv-0001", role=Role.HEALTH_VISITOR, org=NHS_TRUST, nursery_id=None)


def test_a_refusal_is_a_401_asking_for_a_bearer_token(verifier: TokenVerifier) -> None:
    problem = refused(verifier, hs256(claims(), secret="another-secret-entirely-0123456789"))

    assert problem.status == 401
    assert problem.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_without_exp_is_refused(verifier: TokenVerifier) -> None:
    assert refused(verifier, hs256(claims(exp=None))).detail == NOT_VALID


def test_a_token_without_aud_is_refused(verifier: TokenVerifier) -> None:
    assert refused(verifier, hs256(claims(aud=None))).detail == NOT_VALID


def test_a_token_without_iss_is_refused(verifier: TokenVerifier) -> None:
    assert refused(verifier, hs256(claims(iss=None))).detail == NOT_VALID


def test_a_token_without_iat_is_refused(verifier: TokenVerifier) -> None:
    assert refused(verifier, hs256(claims(iat=None))).detail == NOT_VALID


def test_a_token_without_sub_is_refused(verifier: TokenVerifier) -> None:
    assert refused(verifier, hs256(claims(sub=None))).detail == NOT_VALID


def test_a_token_with_an_empty_sub_is_refused(verifier: TokenVerifier) -> None:
    assert refused(verifier, hs256(claims(sub=""))).detail == NOT_VALID


def test_a_token_from_another_issuer_is_refused(verifier: TokenVerifier) -> None:
    token = hs256(claims(iss="https://idp.example.org"))

    assert refused(verifier, token).detail == NOT_VALID


def test_a_token_for_another_audience_is_refused(verifier: TokenVerifier) -> None:
    assert refused(verifier, hs256(claims(aud="another-api"))).detail == NOT_VALID


def test_a_token_listing_our_audience_among_others_is_accepted(verifier: TokenVerifier) -> None:
    caller = verifier.verify(hs256(claims(aud=["another-api", "ieys-api"])))

    assert caller.role is Role.HEALTH_VISITOR


def test_an_expired_token_is_refused(verifier: TokenVerifier) -> None:
    now = int(time.time())
    token = hs256(claims(iat=now - 3600, exp=now - 120))

    assert refused(verifier, token).detail == EXPIRED


def test_a_token_expired_within_the_leeway_is_accepted(verifier: TokenVerifier) -> None:
    now = int(time.time())

    assert verifier.verify(hs256(claims(iat=now - 600, exp=now - 5))).sub == "hv-0001"


def test_a_token_not_yet_valid_is_refused(verifier: TokenVerifier) -> None:
    token = hs256(claims(nbf=int(time.time()) + 120))

    assert refused(verifier, token).detail == NOT_VALID


def test_a_token_issued_in_the_future_is_refused(verifier: TokenVerifier) -> None:
    now = int(time.time())
    token = hs256(claims(iat=now + 120, exp=now + 900))

    assert refused(verifier, token).detail == NOT_VALID


def test_a_token_whose_exp_is_a_string_is_refused(verifier: TokenVerifier) -> None:
    # python-jose reads dates with int(), so it would accept this one itself.
    token = hs256(claims(exp=str(int(time.time()) + 600)))

    assert refused(verifier, token).detail == NOT_VALID


def test_a_token_whose_iat_is_a_list_is_refused(verifier: TokenVerifier) -> None:
    # python-jose raises TypeError here, not one of its own errors.
    assert refused(verifier, hs256(claims(iat=[1]))).detail == NOT_VALID


# Algorithms and keys


def test_an_alg_none_token_is_refused(verifier: TokenVerifier) -> None:
    token = by_hand({"alg": "none", "typ": "JWT"}, claims(), lambda _: b"")

    assert refused(verifier, token).detail == NOT_VALID


def test_an_hs256_token_signed_with_the_rs256_public_key_is_refused(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    pem = public_pem(rsa_key)
    verifier = TokenVerifier(settings(jwt_algorithm=JwtAlgorithm.RS256, jwt_public_key=pem))
    token = by_hand(
        {"alg": "HS256", "typ": "JWT"},
        claims(),
        lambda signing_input: hmac.new(pem.encode(), signing_input, hashlib.sha256).digest(),
    )

    assert refused(verifier, token).detail == NOT_VALID


def test_an_rs256_token_is_refused_when_hs256_is_configured(
    verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    assert refused(verifier, rs256(claims(), rsa_key)).detail == NOT_VALID


def test_a_valid_rs256_token_is_accepted_with_a_pem_public_key(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    configured = settings(jwt_algorithm=JwtAlgorithm.RS256, jwt_public_key=public_pem(rsa_key))

    caller = TokenVerifier(configured).verify(rs256(claims(), rsa_key))

    assert caller.role is Role.HEALTH_VISITOR


def test_an_rs256_token_signed_by_another_key_is_refused(
    rsa_key: rsa.RSAPrivateKey, other_rsa_key: rsa.RSAPrivateKey
) -> None:
    configured = settings(jwt_algorithm=JwtAlgorithm.RS256, jwt_public_key=public_pem(rsa_key))

    assert refused(TokenVerifier(configured), rs256(claims(), other_rsa_key)).detail == NOT_VALID


def test_an_hs256_token_with_the_wrong_secret_is_refused(verifier: TokenVerifier) -> None:
    token = hs256(claims(), secret="not-the-configured-secret-0123456789")

    assert refused(verifier, token).detail == NOT_VALID


def test_a_token_with_a_crit_header_is_refused(verifier: TokenVerifier) -> None:
    token = by_hand(
        {"alg": "HS256", "crit": ["exp"], "exp": 1},
        claims(),
        lambda signing_input: hmac.new(SECRET.encode(), signing_input, hashlib.sha256).digest(),
    )

    assert refused(verifier, token).detail == NOT_VALID


def test_a_pem_key_as_the_hs256_secret_is_refused_at_start(rsa_key: rsa.RSAPrivateKey) -> None:
    configured = settings(jwt_algorithm=JwtAlgorithm.HS256, jwt_secret=public_pem(rsa_key))

    with pytest.raises(ValueError, match="IEYS_JWT_SECRET"):
        TokenVerifier(configured)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b",
        "a.b.c",
        "....",
        b64url(b"[]") + "." + b64url(b"{}") + ".",
        "x" * 20_000,
    ],
)
def test_a_garbage_token_is_refused(verifier: TokenVerifier, token: str) -> None:
    assert refused(verifier, token).detail == NOT_VALID


def test_a_refusal_never_quotes_the_token(verifier: TokenVerifier) -> None:
    token = hs256(claims(role="role-made-up-by-the-caller"))

    problem = refused(verifier, token)

    assert "role-made-up-by-the-caller" not in str(problem.body())
    assert token not in str(problem.body())


# Role, organisation and nursery (DOMAIN.md)


def test_an_unknown_role_is_refused(verifier: TokenVerifier) -> None:
    assert refused(verifier, hs256(claims(role="superuser"))).detail == UNKNOWN_ROLE


def test_a_token_without_a_role_is_refused(verifier: TokenVerifier) -> None:
    assert refused(verifier, hs256(claims(role=None))).detail == NOT_VALID


def test_a_role_outside_its_organisation_is_refused(verifier: TokenVerifier) -> None:
    token = hs256(claims(role=Role.HEALTH_VISITOR.value, org=COUNCIL))

    assert refused(verifier, token).detail == ROLE_OUTSIDE_ORG


def test_an_unknown_organisation_is_refused(verifier: TokenVerifier) -> None:
    assert refused(verifier, hs256(claims(org="E09999999"))).detail == UNKNOWN_ORG


def test_a_nursery_practitioner_is_accepted_with_a_known_nursery(
    verifier: TokenVerifier,
) -> None:
    nursery = first_nursery()
    token = hs256(
        claims(role=Role.NURSERY_PRACTITIONER.value, org=COUNCIL, nursery_id=str(nursery))
    )

    assert verifier.verify(token).nursery_id == nursery


def test_a_nursery_practitioner_without_a_nursery_id_is_refused(
    verifier: TokenVerifier,
) -> None:
    token = hs256(claims(role=Role.NURSERY_PRACTITIONER.value, org=COUNCIL))

    assert refused(verifier, token).detail == NURSERY_REQUIRED


def test_a_nursery_practitioner_with_an_unknown_nursery_id_is_refused(
    verifier: TokenVerifier,
) -> None:
    token = hs256(
        claims(role=Role.NURSERY_PRACTITIONER.value, org=COUNCIL, nursery_id=UNKNOWN_NURSERY)
    )

    assert refused(verifier, token).detail == NURSERY_REQUIRED


def test_a_nursery_practitioner_with_a_malformed_nursery_id_is_refused(
    verifier: TokenVerifier,
) -> None:
    token = hs256(claims(role=Role.NURSERY_PRACTITIONER.value, org=COUNCIL, nursery_id="x"))

    assert refused(verifier, token).detail == NURSERY_REQUIRED


def test_another_roles_nursery_id_is_dropped(verifier: TokenVerifier) -> None:
    token = hs256(claims(nursery_id=str(first_nursery())))

    assert verifier.verify(token).nursery_id is None


# JWKS


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Jwks:
    """A JWKS endpoint behind httpx.MockTransport that counts its requests."""

    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = list(keys)
        self.requests = 0
        self.client = httpx.Client(transport=httpx.MockTransport(self._serve))

    def _serve(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == JWKS_URL
        self.requests += 1
        return httpx.Response(200, json={"keys": self.keys})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def jwks(rsa_key: rsa.RSAPrivateKey) -> Iterator[Jwks]:
    served = Jwks(public_jwk(rsa_key, "key-1"))
    yield served
    served.client.close()


@pytest.fixture
def jwks_verifier(jwks: Jwks, clock: FakeClock) -> TokenVerifier:
    configured = settings(jwt_algorithm=JwtAlgorithm.RS256, jwks_url=JWKS_URL)
    return TokenVerifier(configured, http_client=jwks.client, monotonic=clock)


def test_a_token_whose_kid_the_jwks_serves_is_accepted(
    jwks_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    caller = jwks_verifier.verify(rs256(claims(), rsa_key, kid="key-1"))

    assert caller.role is Role.HEALTH_VISITOR


def test_a_jwks_token_without_a_kid_is_refused(
    jwks_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    assert refused(jwks_verifier, rs256(claims(), rsa_key)).detail == NOT_VALID


def test_an_unknown_kid_refreshes_the_jwks_and_then_succeeds(
    jwks_verifier: TokenVerifier,
    jwks: Jwks,
    clock: FakeClock,
    rsa_key: rsa.RSAPrivateKey,
    other_rsa_key: rsa.RSAPrivateKey,
) -> None:
    jwks_verifier.verify(rs256(claims(), rsa_key, kid="key-1"))
    jwks.keys.append(public_jwk(other_rsa_key, "key-2"))
    clock.now += 2

    caller = jwks_verifier.verify(rs256(claims(), other_rsa_key, kid="key-2"))

    assert caller.sub == "hv-0001"
    assert jwks.requests == 2


def test_the_jwks_is_cached_between_tokens(
    jwks_verifier: TokenVerifier, jwks: Jwks, clock: FakeClock, rsa_key: rsa.RSAPrivateKey
) -> None:
    for _ in range(5):
        jwks_verifier.verify(rs256(claims(), rsa_key, kid="key-1"))
        clock.now += 10

    assert jwks.requests == 1


def test_the_jwks_is_fetched_again_once_the_cache_expires(
    jwks_verifier: TokenVerifier, jwks: Jwks, clock: FakeClock, rsa_key: rsa.RSAPrivateKey
) -> None:
    jwks_verifier.verify(rs256(claims(), rsa_key, kid="key-1"))
    clock.now += 301

    # Another token: a token already verified is remembered, whatever the JWKS does.
    jwks_verifier.verify(rs256(claims(sub="hv-0002"), rsa_key, kid="key-1"))

    assert jwks.requests == 2


def test_an_unknown_kid_refetches_the_jwks_at_most_once_in_ten_seconds(
    jwks_verifier: TokenVerifier, jwks: Jwks, clock: FakeClock, rsa_key: rsa.RSAPrivateKey
) -> None:
    jwks_verifier.verify(rs256(claims(), rsa_key, kid="key-1"))
    token = rs256(claims(), rsa_key, kid="key-unknown")
    for _ in range(4):
        clock.now += 2
        refused(jwks_verifier, token)

    assert jwks.requests == 2


def test_the_held_keys_serve_while_the_jwks_url_is_down(
    rsa_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    up = True

    def serve(request: httpx.Request) -> httpx.Response:
        if not up:
            raise httpx.ConnectError("down", request=request)
        return httpx.Response(200, json={"keys": [public_jwk(rsa_key, "key-1")]})

    configured = settings(jwt_algorithm=JwtAlgorithm.RS256, jwks_url=JWKS_URL)
    with httpx.Client(transport=httpx.MockTransport(serve)) as client:
        verifier = TokenVerifier(configured, http_client=client, monotonic=clock)
        verifier.verify(rs256(claims(), rsa_key, kid="key-1"))
        up = False
        clock.now += 3600

        caller = verifier.verify(rs256(claims(), rsa_key, kid="key-1"))

    assert caller.role is Role.HEALTH_VISITOR


def test_a_token_is_refused_when_the_jwks_cannot_be_fetched(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    def serve(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    configured = settings(jwt_algorithm=JwtAlgorithm.RS256, jwks_url=JWKS_URL)
    with httpx.Client(transport=httpx.MockTransport(serve)) as client:
        verifier = TokenVerifier(configured, http_client=client)

        assert refused(verifier, rs256(claims(), rsa_key, kid="key-1")).detail == NOT_VALID


# mint_token


def test_a_minted_token_is_accepted() -> None:
    configured = hs256_settings()

    caller = TokenVerifier(configured).verify(mint_token(configured, role=Role.FAMILY_WORKER))

    assert caller == Caller(sub="dev-user", role=Role.FAMILY_WORKER, org=COUNCIL, nursery_id=None)


def test_a_minted_nursery_practitioner_token_names_a_nursery_of_the_council() -> None:
    configured = hs256_settings()

    token = mint_token(configured, role=Role.NURSERY_PRACTITIONER)
    caller = TokenVerifier(configured).verify(token)

    assert caller.nursery_id is not None
    assert catalogue.nurseries()[caller.nursery_id].org == COUNCIL


def test_minting_is_refused_under_rs256(rsa_key: rsa.RSAPrivateKey) -> None:
    configured = settings(jwt_algorithm=JwtAlgorithm.RS256, jwt_public_key=public_pem(rsa_key))

    with pytest.raises(ValueError, match="HS256"):
        mint_token(configured, role=Role.HEALTH_VISITOR)


def test_a_verified_token_is_remembered_until_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.auth import tokens as tokens_module

    verifier = TokenVerifier(hs256_settings())
    now = time.time()
    token = hs256(claims(exp=int(now) + 60))
    assert verifier.verify(token).role is Role.HEALTH_VISITOR
    calls: list[str] = []
    real_decode = tokens_module.jwt.decode
    monkeypatch.setattr(
        tokens_module.jwt, "decode", lambda *a, **k: calls.append("decode") or real_decode(*a, **k)
    )
    assert verifier.verify(token).role is Role.HEALTH_VISITOR
    assert calls == []
    monkeypatch.setattr(tokens_module.time, "time", lambda: now + 120)
    refused(verifier, token)


def test_a_token_that_lives_longer_than_the_service_allows_is_refused(
    verifier: TokenVerifier,
) -> None:
    now = int(time.time())
    token = hs256(claims(iat=now - 60, exp=now + 8 * 86_400))
    assert refused(verifier, token).detail == NOT_VALID


def test_a_token_within_the_maximum_lifetime_is_accepted(verifier: TokenVerifier) -> None:
    now = int(time.time())
    token = hs256(claims(iat=now - 60, exp=now + 3600))
    assert verifier.verify(token).role is Role.HEALTH_VISITOR
