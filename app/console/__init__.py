"""The data protection officer's console (`/console`): pages over the same `/v1` calls."""

from pathlib import Path
from typing import Final

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS: Final = Path(__file__).parent / "static" / "govuk"


def install(app: FastAPI) -> None:
    from app.console import oidc, router

    app.include_router(router.router)
    app.mount("/console/assets", StaticFiles(directory=ASSETS), name="console-assets")

    async def sign_in_first(_request: Request, _exc: Exception) -> Response:
        response = RedirectResponse("/console/sign-in", status_code=303)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def csrf_refused(request: Request, _exc: Exception) -> Response:
        return router.page(
            request,
            "problem.html",
            title="This form has expired",
            status_code=400,
            problem={"detail": "Open the page again and send the form from there."},
        )

    async def sign_in_failed(request: Request, _exc: Exception) -> Response:
        return router.page(
            request,
            "problem.html",
            title="You could not be signed in",
            status_code=401,
            problem={"detail": "Only the data protection officer may use the console."},
        )

    app.add_exception_handler(router.SignInRequired, sign_in_first)
    app.add_exception_handler(router.CsrfRefused, csrf_refused)
    app.add_exception_handler(oidc.SignInFailed, sign_in_failed)
