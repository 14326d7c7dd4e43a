"""The caller of a request, as a FastAPI dependency: `CallerDep`."""

from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.caller import Caller
from app.auth.tokens import TokenVerifier
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


def current_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    if credentials is None:
        raise Unauthenticated("A bearer token is required")
    caller = get_verifier().verify(credentials.credentials)
    # The guard and the audit trail read it from here without re-verifying.
    request.state.caller = caller
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]
