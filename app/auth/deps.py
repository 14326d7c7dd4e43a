"""The caller of a request, as a FastAPI dependency: `CallerDep`."""

from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine

from app.auth.caller import Caller
from app.auth.tokens import TokenVerifier
from app.platform import ratelimit
from app.platform.db import get_engine
from app.platform.problems import Unauthenticated
from app.platform.settings import get_settings

# auto_error=False: a missing or non-Bearer header must become our problem+json 401,
# not FastAPI's own error body.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description=(
        "A JWT from the council's identity provider carrying `iss`, `aud`, `sub`, "
        "`exp`, `iat`, `role` and `org` (and `nursery_id` for a nursery practitioner)."
    ),
)


@lru_cache(maxsize=1)
def get_verifier() -> TokenVerifier:
    """One verifier per process, so its keys are built once.

    Tests that change the settings call `get_verifier.cache_clear()`.
    """
    return TokenVerifier(get_settings())


@lru_cache(maxsize=1)
def _verification_may_block() -> bool:
    """Only a JWKS verifier ever does I/O (a key fetch); the rest is pure CPU."""
    settings = get_settings()
    return settings.jwks_url is not None and settings.jwt_public_key is None


async def current_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    # async: a ~50 µs CPU check does not earn a thread-pool hop on every request;
    # a verifier that may fetch keys runs in the pool so the event loop never blocks.
    if credentials is None:
        raise Unauthenticated("A bearer token is required")
    verifier = get_verifier()
    if _verification_may_block():
        caller = await run_in_threadpool(verifier.verify, credentials.credentials)
    else:
        caller = verifier.verify(credentials.credentials)
    # The guard and the audit trail read it from here without re-verifying.
    request.state.caller = caller
    limit = get_settings().rate_limit_per_minute
    if limit is not None:
        await run_in_threadpool(ratelimit.admit, rate_engine(), caller.sub, limit)
    return caller


def rate_engine() -> Engine:
    """Where the rate limit's counts are kept (the service's database)."""
    return get_engine()


CallerDep = Annotated[Caller, Depends(current_caller)]
