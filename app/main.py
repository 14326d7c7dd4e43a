"""The ASGI application: `app.main:app`."""

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Final

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import console
from app.audit import service as audit_service
from app.audit import unit_of_work  # noqa: F401 - keeps decisions when a request fails
from app.audit.router import router as audit_router
from app.audit.sealer import Sealer
from app.centres.router import router as centres_router
from app.consent.router import router as consent_router
from app.contacts.router import router as contacts_router
from app.decisions import document
from app.decisions.router import router as decisions_router
from app.documents import router as documents
from app.documents.router import router as documents_router
from app.fhir.router import router as fhir_router
from app.invitations.router import router as invitations_router
from app.keys import service as keys_service
from app.needs.router import router as needs_router
from app.notifications import service as notifications_service
from app.notifications.delivery import Deliverer
from app.notifications.models import NotificationStatus
from app.notifications.router import router as notifications_router
from app.nurseries.router import router as nurseries_router
from app.people.router import router as people_router
from app.platform import logs, metrics, problems
from app.platform.crypto import get_key_ring
from app.platform.db import get_engine
from app.platform.edge import Edge
from app.platform.idempotency import Replay, on_replay
from app.platform.settings import get_settings
from app.relationships.router import router as relationships_router
from app.reports.facts import ReportFacts
from app.reports.records_router import router as records_router
from app.reports.router import router as reports_router
from app.retention.router import router as retention_router
from app.reviews.router import router as reviews_router
from app.rights.router import router as rights_router
from app.safeguarding.router import router as safeguarding_router
from app.sharing.router import router as sharing_router

DESCRIPTION = """
The shared record of Camden's Integrated Early Years Service: health visitors,
children's centres, family workers, public health, CAMHS and speech and language
clinicians, and the council's nine maintained nurseries.

Every call that touches personal data declares **why** in `X-Purpose`. A lawful-basis
check decides from the caller's role and organisation, the purpose, the data
categories and the state of the record (consents, child protection plan, restriction,
objection, retention). Every decision, allowed or denied, is written to a
tamper-evident audit trail and named in `X-Decision-Id`. Allowed reads carry
`X-Lawful-Basis`, and `X-Withheld-Categories` names the categories left out. Every
schema field carries its data category in `x-category`.

Errors are RFC 9457 `application/problem+json`; a denial is `403` with `reason` and
`decision_id`.
"""

TAGS = [
    {"name": "people", "description": "Households, people and their records."},
    {"name": "safeguarding", "description": "Risk issues, plans, looked-after status."},
    {"name": "contacts", "description": "Visits, calls, sessions and development reviews."},
    {
        "name": "relationships",
        "description": "Family relationships in and outside the household.",
    },
    {
        "name": "documents",
        "description": "Documents sent to the service and reports: stored encrypted, each "
        "decided by its content's category.",
    },
    {"name": "nurseries", "description": "The maintained nurseries and enrolments."},
    {"name": "consent", "description": "Consents: recorded, withdrawn, never deleted."},
    {
        "name": "sharing",
        "description": "Shares outside the service, and the recipients they may go to.",
    },
    {"name": "decisions", "description": "Dry-run decisions: the engine's answer, audited."},
    {
        "name": "reviews",
        "description": "Safeguarding overrides awaiting the data protection officer's review.",
    },
    {
        "name": "rights",
        "description": "Subject-request cases with their statutory deadlines "
        "(data protection officer).",
    },
    {
        "name": "retention",
        "description": "Legal holds, what falls due, and the destruction sweep "
        "(data protection officer).",
    },
    {"name": "centres", "description": "Children's centres and the postcode areas they serve."},
    {
        "name": "invitations",
        "description": "Children due a Healthy Child Programme review, for a mail merge.",
    },
    {
        "name": "needs assessment",
        "description": "Households not yet in touch with any service, for outreach.",
    },
    {
        "name": "reports",
        "description": "Take-up and impact: aggregates only, after disclosure control.",
    },
    {
        "name": "policy",
        "description": "The rules in force, as data, and the record of processing they make.",
    },
    {"name": "audit", "description": "The audit trail (data protection officer)."},
    {
        "name": "fhir",
        "description": "The same records as FHIR R4 (UK Core) resources, read-only, behind the "
        "same lawful-basis check: `application/fhir+json`, refusals as `OperationOutcome`.",
    },
    {"name": "health", "description": "Liveness and readiness (no token)."},
]


log = logging.getLogger(__name__)


class KeysDoNotOpen(problems.Unavailable):
    """The configured key ring does not open the database: every encrypted read would
    fail, so the instance takes no traffic."""

    code = "keys_do_not_open"
    title = "The configured encryption keys do not open the database"


def _operation_id(route: APIRoute) -> str:
    return route.name


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    sealer = None
    if settings.audit_seal_interval_seconds > 0:
        sealer = Sealer(get_engine(), settings.audit_seal_interval_seconds)
        sealer.start()
    deliverer = None
    if settings.notify_interval_seconds > 0:
        deliverer = Deliverer(get_engine(), get_key_ring(), settings)
        deliverer.start()
    if settings.report_facts_at_start:
        facts: ReportFacts = app.state.report_facts
        threading.Thread(
            target=facts.prepare,
            args=(get_engine(), get_key_ring()),
            name="report-facts",
            daemon=True,
        ).start()
    try:
        yield
    finally:
        if sealer is not None:
            sealer.stop()
        if deliverer is not None:
            deliverer.stop()


DOCS_ASSETS: Final = Path(fastapi_offline.__file__).parent / "static"
"""Swagger UI's and ReDoc's scripts, style sheet and icon, as the fastapi-offline package
ships them: /docs and /redoc load nothing from another host."""


def _serve_docs(app: FastAPI) -> None:
    app.mount("/docs-assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    title = app.title

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{title} - Swagger UI",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{title} - ReDoc",
            redoc_js_url="/docs-assets/redoc.standalone.js",
            redoc_favicon_url="/docs-assets/favicon.png",
            with_google_fonts=False,
        )


def create_app() -> FastAPI:
    logs.configure()
    app = FastAPI(
        title="Integrated Early Years Service API",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        generate_unique_id_function=_operation_id,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    # Decrypted report facts live in this process's memory only (app.reports.facts).
    app.state.report_facts = ReportFacts()
    _serve_docs(app)
    app.add_middleware(
        Edge,
        max_body_bytes=get_settings().max_body_bytes,
        route_limits=[documents.body_limit()],
    )
    problems.install(app)
    app.add_exception_handler(Replay, on_replay)
    v1 = APIRouter(prefix="/v1")
    for router in (
        people_router,
        safeguarding_router,
        contacts_router,
        relationships_router,
        documents_router,
        nurseries_router,
        consent_router,
        sharing_router,
        decisions_router,
        reviews_router,
        rights_router,
        notifications_router,
        retention_router,
        audit_router,
        centres_router,
        invitations_router,
        needs_router,
        reports_router,
        records_router,
    ):
        v1.include_router(router)
    app.include_router(v1)
    console.install(app)
    app.include_router(fhir_router)

    @app.get("/health/live", tags=["health"], summary="The process is up")
    def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/health/ready",
        tags=["health"],
        summary="The database answers and the configured keys open it",
        description="Ready when the database answers, the configured key ring "
        "(`IEYS_ENCRYPTION_KEY`, `IEYS_ENCRYPTION_PREVIOUS_KEYS`) opens the database's key "
        "canary, and no household's data key is wrapped under a key the ring lacks.",
        responses={
            503: {
                "description": "The database does not answer (with `Retry-After`), or the "
                "configured keys do not open it (`keys_do_not_open`; the detail names the cause)"
            }
        },
    )
    def ready() -> dict[str, str]:
        try:
            with get_engine().connect() as connection:
                connection.execute(text("SELECT 1"))
                cause = keys_service.problem(connection, get_key_ring())
        except SQLAlchemyError:
            raise problems.Unavailable(
                "The database does not answer.",
                headers={"Retry-After": str(problems.RETRY_AFTER_SECONDS)},
            ) from None
        if cause is not None:
            # No Retry-After: waiting does not help; the configuration must change.
            log.warning("not ready: %s", cause)
            raise KeysDoNotOpen(cause)
        return {"status": "ok"}

    @app.get(
        "/metrics",
        tags=["health"],
        summary="Prometheus metrics (no personal data; not exposed outside the deployment)",
        response_class=Response,
        responses={200: {"content": {metrics.CONTENT_TYPE: {"schema": {"type": "string"}}}}},
    )
    def metrics_text() -> Response:
        return Response(metrics.render(_database_gauges), media_type=metrics.CONTENT_TYPE)

    app.openapi = lambda: document.build(app)  # type: ignore[method-assign]
    return app


def _database_gauges() -> dict[str, tuple[str, float]]:
    """What the database says now, the same from every instance."""
    try:
        with get_engine().connect() as connection:
            awaiting = audit_service.awaiting_seal(connection)
            notifications = notifications_service.counts(connection)
    except SQLAlchemyError:
        return {"ieys_database_up": ("1 when the database answered this scrape.", 0)}
    return {
        "ieys_database_up": ("1 when the database answered this scrape.", 1),
        "ieys_audit_events_awaiting_seal": (
            "Committed audit events not yet appended to the hash chain.",
            awaiting,
        ),
        "ieys_notifications_pending": (
            "Art 19 notifications awaiting their first delivery attempt or due again.",
            notifications[NotificationStatus.PENDING.value],
        ),
        "ieys_notifications_failed": (
            "Art 19 notifications whose last delivery attempt failed (retried with backoff).",
            notifications[NotificationStatus.FAILED.value],
        ),
        "ieys_notifications_manual": (
            "Art 19 notifications to recipients with no endpoint: for the officer to send.",
            notifications[NotificationStatus.MANUAL.value],
        ),
    }


app = create_app()
