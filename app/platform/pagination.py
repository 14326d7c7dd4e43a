"""Opaque cursors for keyset pagination (`limit`, `cursor`)."""

import base64
import binascii

from app.platform.problems import Unprocessable


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Unprocessable("cursor", "not a cursor this service issued") from None
