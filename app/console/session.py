"""The console's sign-in session: one sealed cookie, nothing kept in the process.

The cookie holds the bearer token the console forwards to `/v1` (a development token, or
the identity provider's access token), who it names, when it ends and the session's CSRF
token; it is encrypted and authenticated (Fernet, under a key derived from
`IEYS_CONSOLE_SESSION_KEY`), `Secure`, `HttpOnly`, `SameSite=Strict`, so any instance can
read it and no script can.
"""

import base64
import hmac
import secrets
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Final

import orjson
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import Request, Response

from app.platform.settings import get_settings

COOKIE: Final = "ieys_console"
PRE_COOKIE: Final = "ieys_console_pre"
"""Before sign-in: the sign-in form's CSRF token, or an OpenID Connect flow's state,
nonce and PKCE verifier, for ten minutes."""
PRE_SECONDS: Final = 600


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    sub: str
    role: str
    org: str
    token: str
    """The bearer token every page forwards to `/v1`: the same check as any caller's."""
    csrf: str
    expires: int


@lru_cache
def _fernet(key: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"ieys-console-session"
    ).derive(key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _seal(values: dict[str, object]) -> str:
    key = get_settings().console_session_key.get_secret_value()
    return _fernet(key).encrypt(orjson.dumps(values)).decode()


def _open(token: str | None, ttl: int) -> dict[str, object] | None:
    if not token:
        return None
    key = get_settings().console_session_key.get_secret_value()
    try:
        found: dict[str, object] = orjson.loads(_fernet(key).decrypt(token.encode(), ttl=ttl))
    except (InvalidToken, orjson.JSONDecodeError):
        return None
    return found


def _set(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        secure=True,
        httponly=True,
        samesite="strict",
    )


def start(response: Response, *, sub: str, role: str, org: str, token: str, seconds: int) -> None:
    session = ConsoleSession(
        sub=sub,
        role=role,
        org=org,
        token=token,
        csrf=secrets.token_urlsafe(24),
        expires=int(time.time()) + seconds,
    )
    _set(response, COOKIE, _seal(asdict(session)), seconds)
    response.delete_cookie(PRE_COOKIE, path="/console")


def current(request: Request) -> ConsoleSession | None:
    seconds = get_settings().console_session_seconds
    values = _open(request.cookies.get(COOKIE), seconds)
    if values is None:
        return None
    try:
        session = ConsoleSession(**values)  # type: ignore[arg-type]
    except TypeError:
        return None
    return session if session.expires > time.time() else None


def end(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/console", secure=True, httponly=True, samesite="strict")


def pre_start(response: Response, values: dict[str, object]) -> None:
    _set(response, PRE_COOKIE, _seal(values), PRE_SECONDS)


def pre(request: Request) -> dict[str, object] | None:
    return _open(request.cookies.get(PRE_COOKIE), PRE_SECONDS)


def same(expected: str | None, given: str | None) -> bool:
    """A CSRF token matches, in constant time."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
