"""Field-level envelope encryption (DOMAIN.md, "Identifiers and validation", "Retention").

Every `ethnicity`, `health` and `safeguarding` field and contact notes are stored
encrypted whatever the lawful-basis decision. Each record has its own data key (DEK),
kept only wrapped under a key-encryption key (KEK): the current one from
`IEYS_ENCRYPTION_KEY`, or an older one still accepted from
`IEYS_ENCRYPTION_PREVIOUS_KEYS`. Each wrapped DEK is stored with the id of the KEK
that wrapped it, so unwrapping picks its KEK without trying, and `ieys rewrap` can move
every DEK to the current KEK. Destroying a record deletes its wrapped DEK, so the
ciphertext left in the database or a log can no longer be read ("the key of any
encrypted field is destroyed"); a backup taken before still holds the wrapped DEK, and
stays readable until the KEK that wrapped it is retired.

Values are AES-256-GCM under the DEK, with associated data naming the table, column
and row, so a ciphertext copied into another row or column fails to decrypt.
"""

import base64
import binascii
import os
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Final, NamedTuple, Self
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


KEK_ID_BYTES: Final = 8
"""A KEK id is 16 hex characters: enough that two keys never share one by chance."""

CURRENT_KEY_SETTING: Final = "IEYS_ENCRYPTION_KEY"
PREVIOUS_KEYS_SETTING: Final = "IEYS_ENCRYPTION_PREVIOUS_KEYS"


class KeyConfigurationError(ValueError):
    """`IEYS_ENCRYPTION_KEY` (or a key passed in) is not a usable AES-256 key."""


class WrappedKey(NamedTuple):
    """A DEK as it is stored: wrapped, with the id of the KEK that wrapped it."""

    wrapped: bytes
    kek_id: str


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


def load_kek(encoded: str, setting: str = CURRENT_KEY_SETTING) -> bytes:
    """The KEK from its base64 text (standard alphabet), or KeyConfigurationError naming
    `setting` (never the text)."""
    try:
        kek = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise KeyConfigurationError(f"{setting} must be base64") from None
    if len(kek) != KEY_BYTES:
        raise KeyConfigurationError(
            f"{setting} must decode to {KEY_BYTES} bytes (AES-256), "
            f"not {len(kek)}; generate one with "
            '`python -c "import os, base64; print(base64.b64encode(os.urandom(32)).decode())"`'
        )
    return kek


def load_previous_keks(encoded: str) -> list[bytes]:
    """The older KEKs from their comma-separated base64 texts; an empty text is none.
    A refusal names the key by its position in the list, never by its text."""
    keks: list[bytes] = []
    for position, text in enumerate(encoded.split(","), start=1):
        if not text.strip():
            if encoded.strip():
                raise KeyConfigurationError(
                    f"{PREVIOUS_KEYS_SETTING}: key {position} is empty (a stray comma?)"
                )
            continue
        keks.append(load_kek(text, f"{PREVIOUS_KEYS_SETTING}: key {position}"))
    return keks


def kek_id(kek: bytes) -> str:
    """A short, stable name for a KEK, safe to store and print: 8 bytes of HKDF-SHA256
    of the key under a label of its own, in hex. It reveals nothing usable about the key
    (a one-way derivation, and a different output from every key the service derives)."""
    _require_key(kek, "the key-encryption key")
    derived = HKDF(
        algorithm=hashes.SHA256(), length=KEK_ID_BYTES, salt=None, info=b"ieys:kek-id"
    ).derive(kek)
    return derived.hex()


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

    __slots__ = ("_aead", "_dek", "_mac_key")

    def __init__(self, dek: bytes) -> None:
        _require_key(dek, "a data key")
        self._aead = AESGCM(dek)
        self._dek = dek
        # Derived when first needed: most ciphers only decrypt (a read, a report's
        # facts), and the derivation costs twice what opening the key does.
        self._mac_key: bytes | None = None

    def fingerprint(self, value: str, *, aad: str) -> str:
        """A keyed hash (HMAC-SHA256) of a value: proves what a value was to anyone who
        holds it and the record's key, but a low-entropy value (an NHS number, a name)
        cannot be guessed from it, and destroying the key makes it meaningless."""
        if self._mac_key is None:
            self._mac_key = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=b"ieys:fingerprint"
            ).derive(self._dek)
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

    def encrypt_bytes(self, plaintext: bytes, *, aad: str) -> bytes:
        """nonce || ciphertext || tag, raw: for content stored as binary (a document's
        chunks), each with its own random nonce and its own binding."""
        if not aad:
            raise ValueError("aad must name the value's table, column and row")
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, aad.encode("utf-8"))

    def decrypt_bytes(self, sealed: bytes, *, aad: str) -> bytes:
        """The plaintext of `encrypt_bytes`; DecryptionFailed if anything does not match."""
        if len(sealed) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionFailed("a protected value is truncated")
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad.encode())
        except InvalidTag:
            raise DecryptionFailed("a protected value failed its integrity check") from None

    def encrypt_optional(self, plaintext: str | None, *, aad: str) -> str | None:
        return None if plaintext is None else self.encrypt(plaintext, aad=aad)

    def decrypt_optional(self, token: str | None, *, aad: str) -> str | None:
        return None if token is None else self.decrypt(token, aad=aad)


class UnknownKek(DecryptionFailed):
    """A wrapped key names a KEK that is not configured (rotated away, or the wrong
    configuration): readiness reports it before a read does."""


def _service_key(kek: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"ieys:" + purpose.encode()
    ).derive(kek)


class ServiceCipher:
    """The service's own stored copies (not a family's record), under a key derived from
    the current KEK for one purpose. Read under any configured KEK's derived key, newest
    first, so copies written before a rotation still open while the older KEK stays
    configured (GCM refuses the wrong key, so trying each is safe)."""

    __slots__ = ("_readers", "_writer")

    def __init__(self, ciphers: Sequence[FieldCipher]) -> None:
        if not ciphers:
            raise ValueError("a service cipher needs at least one key")
        self._writer = ciphers[0]
        self._readers = tuple(ciphers)

    def __repr__(self) -> str:
        return "ServiceCipher(<keys hidden>)"

    def encrypt(self, plaintext: str, *, aad: str) -> str:
        return self._writer.encrypt(plaintext, aad=aad)

    def decrypt(self, token: str, *, aad: str) -> str:
        for cipher in self._readers[:-1]:
            try:
                return cipher.decrypt(token, aad=aad)
            except DecryptionFailed:
                continue
        return self._readers[-1].decrypt(token, aad=aad)


class KeyRing:
    """The current KEK, the older ones still accepted, and the DEKs wrapped under them.

    New DEKs are wrapped under the current KEK; a stored DEK is unwrapped under the KEK
    its stored id names."""

    __slots__ = ("_current_id", "_keks")

    def __init__(self, kek: bytes, previous: Iterable[bytes] = ()) -> None:
        _require_key(kek, "the key-encryption key")
        keks: dict[str, bytes] = {kek_id(kek): kek}
        for older in previous:
            _require_key(older, "a previous key-encryption key")
            # The same key listed twice (or as both current and previous) is one key.
            keks.setdefault(kek_id(older), older)
        self._keks = keks
        self._current_id = next(iter(keks))

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(
            load_kek(settings.encryption_key.get_secret_value()),
            load_previous_keks(settings.encryption_previous_keys.get_secret_value()),
        )

    def __repr__(self) -> str:
        return f"KeyRing(<{len(self._keks)} keys hidden>)"

    @property
    def kek(self) -> bytes:
        """The current KEK."""
        return self._keks[self._current_id]

    @property
    def current_id(self) -> str:
        return self._current_id

    @property
    def ids(self) -> tuple[str, ...]:
        """Every configured KEK's id, the current one first."""
        return tuple(self._keks)

    def knows(self, kek_id: str) -> bool:
        return kek_id in self._keks

    def wrap(self, dek: bytes) -> WrappedKey:
        """The DEK wrapped under the current KEK."""
        return WrappedKey(wrap_key(self.kek, dek), self._current_id)

    def unwrap(self, wrapped: bytes, kek_id: str | None) -> bytes:
        """The DEK, unwrapped under the KEK `kek_id` names; UnknownKek when none of the
        configured ones has that id. `None` (a key stored before ids were: only the
        migration that added them reads those) tries each configured KEK in turn."""
        if kek_id is None:
            *others, last = self._keks.values()
            for candidate in others:
                try:
                    return unwrap_key(candidate, wrapped)
                except DecryptionFailed:
                    continue
            return unwrap_key(last, wrapped)
        named = self._keks.get(kek_id)
        if named is None:
            raise UnknownKek("a data key is wrapped under a key-encryption key not configured")
        return unwrap_key(named, wrapped)

    def rewrap(self, wrapped: bytes, kek_id: str) -> WrappedKey:
        """The same DEK, wrapped under the current KEK (the data it protects is untouched)."""
        return self.wrap(self.unwrap(wrapped, kek_id))

    def new_wrapped_key(self) -> WrappedKey:
        """A new record's DEK, wrapped, ready to store beside the record."""
        return self.wrap(new_data_key())

    def service_cipher(self, purpose: str) -> ServiceCipher:
        """A cipher for the service's own stored copies (not a family's record), under a
        key derived from the KEK for one purpose only (HKDF-SHA256, RFC 5869): written
        under the current KEK's, read under any configured KEK's."""
        return ServiceCipher([FieldCipher(_service_key(k, purpose)) for k in self._keks.values()])

    def cipher_for(self, wrapped_dek: bytes, kek_id: str | None) -> FieldCipher:
        # Unwrapped DEKs are not cached: an unwrap costs microseconds, and a cache would
        # keep a destroyed record's key alive in memory after its wrapped copy is gone.
        return FieldCipher(self.unwrap(wrapped_dek, kek_id))


@lru_cache
def get_key_ring() -> KeyRing:
    """The process's key ring, from `IEYS_ENCRYPTION_KEY` and
    `IEYS_ENCRYPTION_PREVIOUS_KEYS` (a FastAPI dependency)."""
    return KeyRing.from_settings(get_settings())
