"""Field-level envelope encryption (DOMAIN.md, "Identifiers and validation", "Retention").

Every `ethnicity`, `health` and `safeguarding` field and contact notes are stored
encrypted whatever the lawful-basis decision. Each record has its own data key (DEK),
kept only wrapped under the key-encryption key (KEK) from `IEYS_ENCRYPTION_KEY`.
Destroying a record deletes its wrapped DEK, so any copy of the ciphertext left in a
backup or a log can no longer be read ("the key of any encrypted field is destroyed").

Values are AES-256-GCM under the DEK, with associated data naming the table, column
and row, so a ciphertext copied into another row or column fails to decrypt.
"""

import base64
import binascii
import os
import re
from functools import lru_cache
from typing import Final, Self
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from app.platform.problems import Problem
from app.platform.settings import Settings, get_settings

KEY_BYTES: Final = 32
"""AES-256 for both the KEK and every DEK."""
NONCE_BYTES: Final = 12
"""The 96-bit GCM nonce: the size GCM is specified for (NIST SP 800-38D, 8.2)."""
TAG_BYTES: Final = 16
TOKEN_PREFIX: Final = "v1."
"""Names the format, so a later one (another cipher, a KEK id) can sit beside it."""

_BASE64URL: Final = re.compile(r"[A-Za-z0-9_-]+")


class KeyConfigurationError(ValueError):
    """`IEYS_ENCRYPTION_KEY` (or a key passed in) is not a usable AES-256 key."""


class DecryptionFailed(Problem):
    """A stored value or wrapped key did not authenticate: tampered, swapped or wrong key.

    A 500, not a 4xx: the caller sent nothing wrong; our stored data or keys are.
    The detail never says which of the causes it was, nor includes the token.
    """

    status = 500
    code = "decryption_failed"
    title = "A protected value could not be decrypted"


def _require_key(key: bytes, what: str) -> None:
    if len(key) != KEY_BYTES:
        raise KeyConfigurationError(f"{what} must be {KEY_BYTES} bytes (AES-256)")


def load_kek(encoded: str) -> bytes:
    """The KEK from its base64 text (standard alphabet), or KeyConfigurationError."""
    try:
        kek = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise KeyConfigurationError("IEYS_ENCRYPTION_KEY must be base64") from None
    if len(kek) != KEY_BYTES:
        raise KeyConfigurationError(
            f"IEYS_ENCRYPTION_KEY must decode to {KEY_BYTES} bytes (AES-256), "
            f"not {len(kek)}; generate one with "
            '`python -c "import os, base64; print(base64.b64encode(os.urandom(32)).decode())"`'
        )
    return kek


def new_data_key() -> bytes:
    """A fresh random DEK for one record."""
    return os.urandom(KEY_BYTES)


# Wrapping uses AES Key Wrap (RFC 3394, NIST SP 800-38F KW), not AES-GCM: it is made
# for wrapping keys, needs no nonce (so no nonce-collision limit however many DEKs one
# KEK wraps; random 96-bit GCM nonces are good for about 2^32 messages per key), and
# carries its own integrity check. It is deterministic, which is safe here because
# what it wraps is always a fresh random key.
def wrap_key(kek: bytes, dek: bytes) -> bytes:
    """The DEK wrapped under the KEK (40 bytes for a 32-byte DEK)."""
    _require_key(kek, "the key-encryption key")
    _require_key(dek, "a data key")
    return aes_key_wrap(kek, dek)


def unwrap_key(kek: bytes, wrapped: bytes) -> bytes:
    """The DEK from `wrap_key`; DecryptionFailed if it was wrapped under another KEK."""
    _require_key(kek, "the key-encryption key")
    try:
        dek = aes_key_unwrap(kek, wrapped)
    except (InvalidUnwrap, ValueError):
        # ValueError: a wrapped key of the wrong length, i.e. not one we wrote.
        raise DecryptionFailed("a data key did not unwrap under the configured KEK") from None
    if len(dek) != KEY_BYTES:
        raise DecryptionFailed("a wrapped data key is not an AES-256 key")
    return dek


def field_aad(table: str, column: str, row_id: UUID | str) -> str:
    """Associated data binding an encrypted value to its table, column and row."""
    return f"{table}.{column}.{row_id}"


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    if not _BASE64URL.fullmatch(text):
        raise DecryptionFailed("a protected value is not a valid token")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise DecryptionFailed("a protected value is not a valid token") from None
    # One token per ciphertext: refuse non-canonical spellings (stray low bits in the
    # last character) rather than let two different strings decrypt to one value.
    if _encode(raw) != text:
        raise DecryptionFailed("a protected value is not a valid token")
    return raw


class FieldCipher:
    """Encrypts and decrypts one record's fields under its DEK (AES-256-GCM)."""

    __slots__ = ("_aead", "_mac_key")

    def __init__(self, dek: bytes) -> None:
        _require_key(dek, "a data key")
        self._aead = AESGCM(dek)
        self._mac_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"ieys:fingerprint"
        ).derive(dek)

    def fingerprint(self, value: str, *, aad: str) -> str:
        """A keyed hash (HMAC-SHA256) of a value: proves what a value was to anyone who
        holds it and the record's key, but a low-entropy value (an NHS number, a name)
        cannot be guessed from it, and destroying the key makes it meaningless."""
        mac = hmac.HMAC(self._mac_key, hashes.SHA256())
        mac.update(aad.encode("utf-8") + b"\x00" + value.encode("utf-8"))
        return mac.finalize().hex()

    def __repr__(self) -> str:
        return "FieldCipher(<key hidden>)"

    def encrypt(self, plaintext: str, *, aad: str) -> str:
        """`v1.` + base64url(nonce || ciphertext || tag), no padding."""
        # A value with no binding could be moved to any row and still decrypt.
        if not aad:
            raise ValueError("aad must name the value's table, column and row")
        # A random nonce per value: GCM loses confidentiality and integrity if a nonce
        # ever repeats under one key, and values are encrypted independently.
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), aad.encode("utf-8"))
        return TOKEN_PREFIX + _encode(nonce + sealed)

    def decrypt(self, token: str, *, aad: str) -> str:
        """The plaintext; DecryptionFailed if the token, aad or key does not match."""
        if not token.startswith(TOKEN_PREFIX):
            raise DecryptionFailed("a protected value has an unknown format")
        raw = _decode(token[len(TOKEN_PREFIX) :])
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionFailed("a protected value is truncated")
        try:
            plaintext = self._aead.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad.encode("utf-8")
            )
        except InvalidTag:
            raise DecryptionFailed("a protected value failed its integrity check") from None
        return plaintext.decode("utf-8")

    def encrypt_optional(self, plaintext: str | None, *, aad: str) -> str | None:
        return None if plaintext is None else self.encrypt(plaintext, aad=aad)

    def decrypt_optional(self, token: str | None, *, aad: str) -> str | None:
        return None if token is None else self.decrypt(token, aad=aad)


class KeyRing:
    """The KEK, and the DEKs wrapped under it."""

    __slots__ = ("_kek",)

    def __init__(self, kek: bytes) -> None:
        _require_key(kek, "the key-encryption key")
        self._kek = kek

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(load_kek(settings.encryption_key.get_secret_value()))

    def __repr__(self) -> str:
        return "KeyRing(<key hidden>)"

    @property
    def kek(self) -> bytes:
        return self._kek

    def wrap(self, dek: bytes) -> bytes:
        return wrap_key(self._kek, dek)

    def unwrap(self, wrapped: bytes) -> bytes:
        return unwrap_key(self._kek, wrapped)

    def new_wrapped_key(self) -> bytes:
        """A new record's DEK, wrapped, ready to store beside the record."""
        return self.wrap(new_data_key())

    def service_cipher(self, purpose: str) -> FieldCipher:
        """A cipher for the service's own stored copies (not a family's record), under a
        key derived from the KEK for one purpose only (HKDF-SHA256, RFC 5869)."""
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"ieys:" + purpose.encode()
        ).derive(self._kek)
        return FieldCipher(key)

    def cipher_for(self, wrapped_dek: bytes) -> FieldCipher:
        # Unwrapped DEKs are not cached: an unwrap costs microseconds, and a cache would
        # keep a destroyed record's key alive in memory after its wrapped copy is gone.
        return FieldCipher(self.unwrap(wrapped_dek))


@lru_cache
def get_key_ring() -> KeyRing:
    """The process's key ring, from `IEYS_ENCRYPTION_KEY` (a FastAPI dependency)."""
    return KeyRing.from_settings(get_settings())
