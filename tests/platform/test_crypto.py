"""Field-level envelope encryption: DOMAIN.md, "Stored encrypted" and "Retention"."""

import base64
import re
from collections.abc import Callable

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import SecretStr

from app.platform.crypto import (
    KEY_BYTES,
    NONCE_BYTES,
    TAG_BYTES,
    DecryptionFailed,
    FieldCipher,
    KeyConfigurationError,
    KeyRing,
    UnknownKek,
    field_aad,
    kek_id,
    load_kek,
    load_previous_keks,
    new_data_key,
    unwrap_key,
    wrap_key,
)
from app.platform.problems import Problem
from app.platform.settings import Settings

KEK = bytes(range(32))
KEK_TEXT = base64.b64encode(KEK).decode()
DEK = new_data_key()
CIPHER = FieldCipher(DEK)
AAD = field_aad("special_category", "ethnicity", "0b7d4c3e-1f7a-4c49-9d8e-1c2b3a4d5e6f")

keys = st.binary(min_size=KEY_BYTES, max_size=KEY_BYTES)
aads = st.text(min_size=1, max_size=80)
token_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


# --- Key-encryption key -----------------------------------------------------


def test_the_kek_is_read_from_base64() -> None:
    assert load_kek(KEK_TEXT) == KEK
    assert load_kek(f"  {KEK_TEXT}\n") == KEK


@pytest.mark.parametrize(
    ("encoded", "rule"),
    [
        (base64.b64encode(b"development-key-not-for-production").decode(), "32 bytes"),
        (base64.b64encode(bytes(16)).decode(), "32 bytes"),
        ("", "32 bytes"),
        ("not base64 at all!", "base64"),
    ],
)
def test_a_kek_that_is_not_32_bytes_of_base64_is_refused(encoded: str, rule: str) -> None:
    with pytest.raises(KeyConfigurationError, match=rule) as caught:
        load_kek(encoded)
    assert not encoded or encoded not in str(caught.value)


def test_the_key_ring_is_built_from_settings() -> None:
    ring = KeyRing.from_settings(Settings(encryption_key=SecretStr(KEK_TEXT)))
    assert ring.kek == KEK


def test_a_key_ring_refuses_a_short_kek() -> None:
    with pytest.raises(KeyConfigurationError):
        KeyRing(bytes(16))


def test_neither_key_ring_nor_cipher_shows_its_key() -> None:
    assert KEK.hex() not in repr(KeyRing(KEK))
    assert DEK.hex() not in repr(CIPHER)


# --- Data keys and wrapping -------------------------------------------------


def test_a_new_data_key_is_32_random_bytes() -> None:
    first, second = new_data_key(), new_data_key()
    assert len(first) == KEY_BYTES
    assert first != second


@given(keys, keys)
def test_a_wrapped_key_unwraps_only_under_the_same_kek(kek: bytes, other: bytes) -> None:
    assume(kek != other)
    dek = new_data_key()
    wrapped = wrap_key(kek, dek)
    assert dek not in wrapped
    assert unwrap_key(kek, wrapped) == dek
    with pytest.raises(DecryptionFailed):
        unwrap_key(other, wrapped)


@pytest.mark.parametrize(
    "wrapped", [b"", bytes(8), bytes(39), bytes(range(40))], ids=["empty", "8", "39", "40"]
)
def test_a_malformed_wrapped_key_does_not_unwrap(wrapped: bytes) -> None:
    with pytest.raises(DecryptionFailed):
        unwrap_key(KEK, wrapped)


def test_only_a_32_byte_data_key_is_wrapped() -> None:
    with pytest.raises(KeyConfigurationError):
        wrap_key(KEK, bytes(16))


def test_the_key_ring_gives_a_cipher_for_a_wrapped_key() -> None:
    ring = KeyRing(KEK)
    wrapped = ring.new_wrapped_key()
    token = ring.cipher_for(*wrapped).encrypt("allergic to peanuts", aad=AAD)
    dek = ring.unwrap(*wrapped)
    assert FieldCipher(dek).decrypt(token, aad=AAD) == "allergic to peanuts"
    assert ring.wrap(dek) == wrapped


# --- KEK ids and rotation ---------------------------------------------------

OLD_KEK = bytes(range(100, 132))
OLD_KEK_TEXT = base64.b64encode(OLD_KEK).decode()


def test_a_kek_id_is_a_short_stable_fingerprint_that_shows_nothing_of_the_key() -> None:
    assert kek_id(KEK) == kek_id(bytes(range(32)))
    assert re.fullmatch(r"[0-9a-f]{16}", kek_id(KEK))
    assert kek_id(KEK) != kek_id(OLD_KEK)
    assert kek_id(KEK) not in KEK.hex()
    assert kek_id(KEK) not in KEK_TEXT


def test_a_key_is_wrapped_under_the_current_kek_and_carries_its_id() -> None:
    ring = KeyRing(KEK, [OLD_KEK])
    wrapped = ring.new_wrapped_key()
    assert wrapped.kek_id == kek_id(KEK) == ring.current_id
    assert ring.ids == (kek_id(KEK), kek_id(OLD_KEK))
    unwrap_key(KEK, wrapped.wrapped)


def test_a_key_wrapped_under_a_previous_kek_unwraps_by_its_stored_id() -> None:
    old = KeyRing(OLD_KEK).new_wrapped_key()
    ring = KeyRing(KEK, [OLD_KEK])
    dek = ring.unwrap(*old)
    moved = ring.rewrap(*old)
    assert moved.kek_id == ring.current_id
    assert ring.unwrap(*moved) == dek
    assert moved.wrapped != old.wrapped


def test_a_key_naming_a_kek_the_ring_lacks_does_not_unwrap() -> None:
    old = KeyRing(OLD_KEK).new_wrapped_key()
    with pytest.raises(UnknownKek):
        KeyRing(KEK).unwrap(*old)


def test_a_key_stored_without_an_id_unwraps_under_whichever_configured_kek_wrapped_it() -> None:
    old = KeyRing(OLD_KEK).new_wrapped_key()
    assert KeyRing(KEK, [OLD_KEK]).unwrap(old.wrapped, None) == KeyRing(OLD_KEK).unwrap(*old)
    with pytest.raises(DecryptionFailed):
        KeyRing(KEK).unwrap(old.wrapped, None)


def test_the_service_cipher_reads_copies_written_under_a_previous_kek() -> None:
    before = KeyRing(OLD_KEK).service_cipher("idempotency")
    token = before.encrypt("a stored response", aad=AAD)
    after = KeyRing(KEK, [OLD_KEK]).service_cipher("idempotency")
    assert after.decrypt(token, aad=AAD) == "a stored response"
    fresh = after.encrypt("written after the rotation", aad=AAD)
    assert KeyRing(KEK).service_cipher("idempotency").decrypt(fresh, aad=AAD) == (
        "written after the rotation"
    )
    with pytest.raises(DecryptionFailed):
        KeyRing(KEK).service_cipher("idempotency").decrypt(token, aad=AAD)


def test_the_key_ring_reads_previous_keys_from_settings() -> None:
    ring = KeyRing.from_settings(
        Settings(
            encryption_key=SecretStr(KEK_TEXT),
            encryption_previous_keys=SecretStr(f"{OLD_KEK_TEXT}, {KEK_TEXT}"),
        )
    )
    assert ring.ids == (kek_id(KEK), kek_id(OLD_KEK))


@pytest.mark.parametrize(
    ("encoded", "named"),
    [
        ("not base64!", "key 1 must be base64"),
        (f"{OLD_KEK_TEXT},{base64.b64encode(bytes(16)).decode()}", "key 2 must decode to 32"),
        (f"{OLD_KEK_TEXT},,", "key 2 is empty"),
    ],
)
def test_a_previous_key_that_is_not_32_bytes_of_base64_is_refused_by_position(
    encoded: str, named: str
) -> None:
    with pytest.raises(KeyConfigurationError, match="IEYS_ENCRYPTION_PREVIOUS_KEYS") as caught:
        load_previous_keks(encoded)
    assert named in str(caught.value)
    assert OLD_KEK_TEXT not in str(caught.value)


def test_no_previous_keys_is_an_empty_list() -> None:
    assert load_previous_keks("") == []
    assert load_previous_keks("  ") == []


def test_a_cipher_needs_a_32_byte_data_key() -> None:
    with pytest.raises(KeyConfigurationError):
        FieldCipher(bytes(31))


# --- Field encryption -------------------------------------------------------


@given(st.text(), aads)
def test_encryption_round_trips(plaintext: str, aad: str) -> None:
    assert CIPHER.decrypt(CIPHER.encrypt(plaintext, aad=aad), aad=aad) == plaintext


@given(st.text(max_size=200))
def test_a_token_is_v1_then_unpadded_base64url_of_nonce_ciphertext_and_tag(
    plaintext: str,
) -> None:
    token = CIPHER.encrypt(plaintext, aad=AAD)
    prefix, body = token.split(".", 1)
    assert prefix == "v1"
    assert set(body) <= set(token_alphabet)
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert len(raw) == NONCE_BYTES + len(plaintext.encode()) + TAG_BYTES


def test_encrypting_the_same_value_twice_gives_different_tokens() -> None:
    assert CIPHER.encrypt("Z", aad=AAD) != CIPHER.encrypt("Z", aad=AAD)


@given(st.text(), aads, aads)
def test_a_wrong_aad_fails(plaintext: str, aad: str, other: str) -> None:
    assume(aad != other)
    token = CIPHER.encrypt(plaintext, aad=aad)
    with pytest.raises(DecryptionFailed):
        CIPHER.decrypt(token, aad=other)


def test_a_value_moved_to_another_row_fails() -> None:
    row_1 = field_aad("health", "medical_history", "row-1")
    row_2 = field_aad("health", "medical_history", "row-2")
    token = CIPHER.encrypt("asthma", aad=row_1)
    with pytest.raises(DecryptionFailed):
        CIPHER.decrypt(token, aad=row_2)


@given(st.text(max_size=50), st.data())
def test_a_tampered_token_fails(plaintext: str, data: st.DataObject) -> None:
    token = CIPHER.encrypt(plaintext, aad=AAD)
    position = data.draw(st.integers(len("v1."), len(token) - 1))
    replacement = data.draw(st.sampled_from(token_alphabet))
    assume(token[position] != replacement)
    tampered = token[:position] + replacement + token[position + 1 :]
    with pytest.raises(DecryptionFailed):
        CIPHER.decrypt(tampered, aad=AAD)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1],
        lambda t: t[:20],
        lambda t: t + "A",
        lambda t: t + "=",
        lambda t: "v2" + t[2:],
        lambda t: t[3:],
        lambda t: "v1.",
        lambda t: "",
        lambda t: t.replace("v1.", "v1.+", 1),
    ],
    ids=[
        "truncated by one",
        "truncated to nonce",
        "extended",
        "padded",
        "other version",
        "no prefix",
        "prefix only",
        "empty",
        "bad character",
    ],
)
def test_a_malformed_token_fails(mangle: Callable[[str], str]) -> None:
    token = CIPHER.encrypt("speech and language referral", aad=AAD)
    with pytest.raises(DecryptionFailed):
        CIPHER.decrypt(mangle(token), aad=AAD)


@given(st.text(), keys)
def test_a_different_data_key_fails(plaintext: str, other_dek: bytes) -> None:
    assume(other_dek != DEK)
    token = CIPHER.encrypt(plaintext, aad=AAD)
    with pytest.raises(DecryptionFailed):
        FieldCipher(other_dek).decrypt(token, aad=AAD)


@given(st.text(min_size=8))
def test_ciphertext_never_contains_the_plaintext(plaintext: str) -> None:
    token = CIPHER.encrypt(plaintext, aad=AAD)
    body = token.removeprefix("v1.")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert plaintext not in body
    assert plaintext.encode() not in raw


def test_a_value_must_be_bound_to_an_aad() -> None:
    with pytest.raises(ValueError, match="aad"):
        CIPHER.encrypt("H", aad="")


def test_optional_values_pass_none_through() -> None:
    assert CIPHER.encrypt_optional(None, aad=AAD) is None
    assert CIPHER.decrypt_optional(None, aad=AAD) is None
    token = CIPHER.encrypt_optional("M", aad=AAD)
    assert token is not None
    assert CIPHER.decrypt_optional(token, aad=AAD) == "M"


def test_a_decryption_failure_is_a_500_problem_that_does_not_echo_the_token() -> None:
    token = CIPHER.encrypt("child protection plan", aad=AAD)
    with pytest.raises(DecryptionFailed) as caught:
        CIPHER.decrypt(token, aad="elsewhere")
    problem = caught.value
    assert isinstance(problem, Problem)
    assert problem.status == 500
    body = problem.body()
    assert token not in str(body)
    assert "child protection plan" not in str(body)
