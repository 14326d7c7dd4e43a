"""Console sign-in in production: OpenID Connect authorisation code flow with PKCE
against the council's identity provider (authlib), configured by `IEYS_OIDC_*`.

The provider's access token is then checked exactly as any bearer token of `/v1` is
(issuer, audience, signature, `role` belonging to `org`). Which pages it may then open
is the guard's to decide, as for any caller: only the data protection officer's purposes
reach them. The flow's state, nonce and PKCE verifier live in a sealed
cookie for ten minutes, never in the process.
"""

from typing import Any, Final

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from app.auth.deps import get_verifier
from app.console import session as console_session
from app.platform.problems import Problem
from app.platform.settings import Settings, get_settings

router = APIRouter(prefix="/oidc")

DISCOVERY: Final = "/.well-known/openid-configuration"


class SignInFailed(Exception):
    """The provider's answer did not give a data protection officer's session."""


def configured(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


async def _metadata(settings: Settings) -> dict[str, Any]:
    assert settings.oidc_issuer is not None
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(settings.oidc_issuer.rstrip("/") + DISCOVERY)
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    return found


def _client(settings: Settings, redirect_uri: str) -> AsyncOAuth2Client:
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
    return AsyncOAuth2Client(
        client_id=settings.oidc_client_id,
        client_secret=secret,
        scope=settings.oidc_scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=10,
    )


@router.get("/login", name="oidc_login")
async def login(request: Request) -> Response:
    settings = get_settings()
    if not configured(settings):
        raise SignInFailed
    metadata = await _metadata(settings)
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    async with _client(settings, str(request.url_for("oidc_callback"))) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
        )
    response = RedirectResponse(url, status_code=303)
    console_session.pre_start(response, {"state": state, "nonce": nonce, "verifier": verifier})
    return response


@router.get("/callback", name="oidc_callback")
async def callback(request: Request, code: str = "", state: str = "") -> Response:
    settings = get_settings()
    pre = console_session.pre(request) or {}
    if (
        not configured(settings)
        or not code
        or not console_session.same(str(pre.get("state", "")), state)
    ):
        raise SignInFailed
    metadata = await _metadata(settings)
    async with _client(settings, str(request.url_for("oidc_callback"))) as client:
        try:
            token = await client.fetch_token(
                metadata["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=str(pre["verifier"]),
            )
        except Exception:
            raise SignInFailed from None
    access = str(token.get("access_token", ""))
    try:
        # The same check as every bearer token of /v1.
        caller = await run_in_threadpool(get_verifier().verify, access)
    except Problem:
        raise SignInFailed from None
    seconds = settings.console_session_seconds
    expires_in = token.get("expires_in")
    if isinstance(expires_in, int | float):
        seconds = min(seconds, int(expires_in))
    response = RedirectResponse("/console", status_code=303)
    console_session.start(
        response,
        sub=caller.sub,
        role=caller.role.value,
        org=caller.org,
        token=access,
        seconds=seconds,
    )
    return response
