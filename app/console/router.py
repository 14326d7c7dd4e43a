"""/console: the data protection officer's pages (GOV.UK Design System, server-rendered).

Every page and form is a call to `/v1` with the signed-in officer's token and the
purpose the page declares (`app.console.api`): the guard decides and audits it exactly
as it would any caller's. Pages work without JavaScript; forms carry the session's CSRF
token; every answer sends a strict Content-Security-Policy and `Cache-Control: no-store`.
"""

import secrets
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Final, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader, select_autoescape

from app.auth.tokens import development_officer
from app.console import api, oidc
from app.console import session as console_session
from app.console.session import ConsoleSession
from app.platform.settings import Environment as Deployment
from app.platform.settings import get_settings

router = APIRouter(prefix="/console", include_in_schema=False)

RIGHTS: Final = "subject_rights"
LEGAL: Final = "legal_claims"
NONCE_BYTES: Final = 16

templates = Jinja2Templates(
    env=Environment(
        loader=ChoiceLoader(
            [
                PackageLoader("app.console", "templates"),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        ),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
)


class SignInRequired(Exception):
    """No session, or it ended: the page sends the browser to sign in."""


def _signed_in(request: Request) -> ConsoleSession:
    found = console_session.current(request)
    if found is None:
        raise SignInRequired
    return found


SessionDep = Annotated[ConsoleSession, Depends(_signed_in)]


def _policy(nonce: str) -> str:
    return (
        "default-src 'none'; "
        f"script-src 'nonce-{nonce}'; "
        "style-src 'self'; img-src 'self'; font-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


def page(
    request: Request,
    name: str,
    *,
    title: str,
    session: ConsoleSession | None = None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    nonce = secrets.token_urlsafe(NONCE_BYTES)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "title": title,
            "session": session,
            "csrf": session.csrf if session else values.pop("csrf", None),
            "nonce": nonce,
            "section": values.pop("section", None),
            "today": date.today(),
            **values,
        },
        status_code=status_code,
    )
    response.headers["Content-Security-Policy"] = _policy(nonce)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _see_other(url: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(request: Request, session: ConsoleSession, answer: api.Answer) -> HTMLResponse:
    """The API's answer, as a page: the problem's title, detail, reason and decision."""
    return page(
        request,
        "problem.html",
        title=answer.problem.get("title", "Something went wrong"),
        session=session,
        status_code=answer.status,
        problem=answer.problem,
    )


def _check(session: ConsoleSession, given: str) -> None:
    if not console_session.same(session.csrf, given):
        raise CsrfRefused


class CsrfRefused(Exception):
    """A form without this session's CSRF token: refused, nothing done."""


Csrf = Annotated[str, Form(alias="csrf")]


# --- sign-in ------------------------------------------------------------------------


@router.get("/sign-in")
def sign_in_page(request: Request) -> HTMLResponse:
    settings = get_settings()
    token = secrets.token_urlsafe(24)
    response = page(
        request,
        "sign_in.html",
        title="Sign in",
        csrf=token,
        development=settings.environment != Deployment.PRODUCTION,
        oidc=oidc.configured(settings),
    )
    console_session.pre_start(response, {"csrf": token})
    return response


@router.post("/sign-in")
def sign_in(request: Request, csrf: Csrf) -> Response:
    """Development only: a session for the data protection officer."""
    settings = get_settings()
    if settings.environment == Deployment.PRODUCTION:
        return page(request, "not_here.html", title="Not available", status_code=404)
    pre = console_session.pre(request) or {}
    if not console_session.same(str(pre.get("csrf", "")), csrf):
        raise CsrfRefused
    seconds = min(settings.console_session_seconds, settings.jwt_max_lifetime_seconds)
    officer = development_officer(settings, seconds=seconds)
    response = _see_other("/console")
    console_session.start(
        response,
        sub=officer.sub,
        role=officer.role.value,
        org=officer.org,
        token=officer.token,
        seconds=seconds,
    )
    return response


@router.post("/sign-out")
def sign_out(session: SessionDep, csrf: Csrf) -> Response:
    _check(session, csrf)
    response = _see_other("/console/sign-in")
    console_session.end(response)
    return response


router.include_router(oidc.router)


# --- the officer's home ---------------------------------------------------------------


@router.get("")
async def home(request: Request, session: SessionDep) -> HTMLResponse:
    cases, answer = await api.every(
        request, session, "/v1/subject-requests", purpose=RIGHTS, params={"status": "open"}
    )
    if not answer.ok:
        return _refused(request, session, answer)
    overdue = sum(1 for case in cases if case["overdue"])
    reviews, _ = await api.every(request, session, "/v1/reviews/safeguarding", purpose=RIGHTS)
    manual, _ = await api.every(
        request, session, "/v1/notifications", purpose=RIGHTS, params={"status": "manual"}
    )
    return page(
        request,
        "home.html",
        title="Data protection officer",
        session=session,
        open_cases=len(cases),
        overdue=overdue,
        reviews=len(reviews),
        manual=len(manual),
    )


# --- subject requests -------------------------------------------------------------------


def _due_tag(case: dict[str, Any], today: date) -> tuple[str, str] | None:
    if case["status"] == "closed":
        return None
    if case["overdue"]:
        return ("Overdue", "govuk-tag--red")
    if date.fromisoformat(case["due_at"]) <= today + timedelta(days=7):
        return ("Due this week", "govuk-tag--yellow")
    return None


@router.get("/requests")
async def requests_queue(
    request: Request, session: SessionDep, status: str = "open"
) -> HTMLResponse:
    shown = status if status in ("open", "paused", "closed") else "open"
    cases, answer = await api.every(
        request, session, "/v1/subject-requests", purpose=RIGHTS, params={"status": shown}
    )
    if not answer.ok:
        return _refused(request, session, answer)
    cases.sort(key=lambda case: (case["due_at"], case["received_at"]))
    today = date.today()
    return page(
        request,
        "requests.html",
        title="Subject requests",
        session=session,
        section="requests",
        status=shown,
        cases=[(case, _due_tag(case, today)) for case in cases],
    )


@router.get("/requests/{request_id}")
async def case_page(
    request: Request, session: SessionDep, request_id: UUID, done: str | None = None
) -> HTMLResponse:
    answer = await api.call(
        request, session, "GET", f"/v1/subject-requests/{request_id}", purpose=RIGHTS
    )
    if not answer.ok:
        return _refused(request, session, answer)
    case = answer.body
    return page(
        request,
        "case.html",
        title=f"Subject request: {case['type']}",
        session=session,
        section="requests",
        case=case,
        tag=_due_tag(case, date.today()),
        done=done,
        errors=[],
    )


async def _case_form(
    request: Request,
    session: ConsoleSession,
    request_id: UUID,
    action: str,
    body: dict[str, Any],
    purpose: str,
) -> Response:
    answer = await api.call(
        request,
        session,
        "POST",
        f"/v1/subject-requests/{request_id}/{action}",
        purpose=purpose,
        json=body,
    )
    if answer.ok:
        return _see_other(f"/console/requests/{request_id}?done={action}")
    if answer.status == 422:
        found = await api.call(
            request, session, "GET", f"/v1/subject-requests/{request_id}", purpose=RIGHTS
        )
        if found.ok:
            return page(
                request,
                "case.html",
                title=f"Subject request: {found.body['type']}",
                session=session,
                section="requests",
                case=found.body,
                tag=_due_tag(found.body, date.today()),
                done=None,
                errors=answer.problem.get("errors", []),
                status_code=422,
            )
    return _refused(request, session, answer)


Reason = Annotated[str, Form()]
Purpose = Annotated[str, Form()]


@router.post("/requests/{request_id}/extend")
async def extend(
    request: Request,
    session: SessionDep,
    request_id: UUID,
    csrf: Csrf,
    purpose: Purpose,
    months: Annotated[str, Form()] = "",
    reason: Reason = "",
) -> Response:
    _check(session, csrf)
    body: dict[str, Any] = {"months": int(months) if months.isdigit() else months, "reason": reason}
    return await _case_form(request, session, request_id, "extend", body, purpose)


@router.post("/requests/{request_id}/decide")
async def decide(
    request: Request,
    session: SessionDep,
    request_id: UUID,
    csrf: Csrf,
    purpose: Purpose,
    outcome: Annotated[str, Form()] = "",
    reason: Reason = "",
) -> Response:
    _check(session, csrf)
    body = {"outcome": outcome, "reason": reason}
    return await _case_form(request, session, request_id, "decide", body, purpose)


# After extend and decide: a path matched here is not tried against them.
@router.post("/requests/{request_id}/{step}")
async def pause_or_resume(
    request: Request,
    session: SessionDep,
    request_id: UUID,
    step: Literal["pause", "resume"],
    csrf: Csrf,
    purpose: Purpose,
    reason: Reason = "",
) -> Response:
    """Stop the clock (waiting for proof of identity or clarification), or restart it."""
    _check(session, csrf)
    return await _case_form(request, session, request_id, step, {"reason": reason}, purpose)


@router.get("/requests/{request_id}/export")
async def export(request: Request, session: SessionDep, request_id: UUID) -> Response:
    answer = await api.call(
        request, session, "GET", f"/v1/subject-requests/{request_id}/export", purpose=RIGHTS
    )
    if not answer.ok:
        return _refused(request, session, answer)
    import orjson

    return Response(
        orjson.dumps(answer.body, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="subject-request-{request_id}.json"',
            "Cache-Control": "no-store",
        },
    )


# --- safeguarding overrides ------------------------------------------------------------


@router.get("/reviews")
async def reviews(request: Request, session: SessionDep, done: str | None = None) -> HTMLResponse:
    items, answer = await api.every(request, session, "/v1/reviews/safeguarding", purpose=RIGHTS)
    if not answer.ok:
        return _refused(request, session, answer)
    return page(
        request,
        "reviews.html",
        title="Safeguarding overrides to review",
        session=session,
        section="reviews",
        overrides=items,
        done=done,
    )


@router.post("/reviews/{decision_id}")
async def review(
    request: Request,
    session: SessionDep,
    decision_id: UUID,
    csrf: Csrf,
    purpose: Purpose,
    outcome: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
) -> Response:
    _check(session, csrf)
    body: dict[str, Any] = {"outcome": outcome, "notes": notes or None}
    answer = await api.call(
        request,
        session,
        "POST",
        f"/v1/reviews/safeguarding/{decision_id}",
        purpose=purpose,
        json=body,
    )
    if not answer.ok:
        return _refused(request, session, answer)
    return _see_other("/console/reviews?done=reviewed")


# --- retention and legal holds -----------------------------------------------------------


def _before(value: str | None) -> str:
    try:
        return date.fromisoformat(value or "").isoformat()
    except ValueError:
        return (date.today() + timedelta(days=30)).isoformat()


@router.get("/retention")
async def retention(
    request: Request, session: SessionDep, before: str | None = None, done: str | None = None
) -> HTMLResponse:
    on = _before(before)
    due, answer = await api.every(
        request, session, "/v1/retention/due", purpose=RIGHTS, params={"before": on}
    )
    if not answer.ok:
        return _refused(request, session, answer)
    holds, held = await api.every(request, session, "/v1/legal-holds", purpose=LEGAL)
    return page(
        request,
        "retention.html",
        title="Retention and legal holds",
        session=session,
        section="retention",
        before=on,
        due=due,
        holds=holds if held.ok else [],
        done=done,
        preview=None,
    )


@router.post("/retention/preview")
async def preview(
    request: Request, session: SessionDep, csrf: Csrf, purpose: Purpose
) -> HTMLResponse:
    _check(session, csrf)
    answer = await api.call(
        request,
        session,
        "POST",
        "/v1/retention/sweep",
        purpose=purpose,
        params={"dry_run": "true"},
    )
    if not answer.ok:
        return _refused(request, session, answer)
    return page(
        request,
        "preview.html",
        title="What a sweep would destroy today",
        session=session,
        section="retention",
        preview=answer.body,
    )


@router.post("/holds")
async def place_hold(
    request: Request,
    session: SessionDep,
    csrf: Csrf,
    purpose: Purpose,
    subject_id: Annotated[str, Form()] = "",
    reason: Reason = "",
) -> Response:
    _check(session, csrf)
    answer = await api.call(
        request,
        session,
        "POST",
        "/v1/legal-holds",
        purpose=purpose,
        json={"subject_id": subject_id, "reason": reason},
    )
    if not answer.ok:
        return _refused(request, session, answer)
    return _see_other("/console/retention?done=held")


@router.post("/holds/{hold_id}/release")
async def release_hold(
    request: Request, session: SessionDep, hold_id: UUID, csrf: Csrf, purpose: Purpose
) -> Response:
    _check(session, csrf)
    answer = await api.call(
        request, session, "DELETE", f"/v1/legal-holds/{hold_id}", purpose=purpose
    )
    if not answer.ok:
        return _refused(request, session, answer)
    return _see_other("/console/retention?done=released")


# --- the audit trail -------------------------------------------------------------------


@router.get("/audit")
async def audit(
    request: Request, session: SessionDep, person_id: str | None = None
) -> HTMLResponse:
    verified = await api.call(request, session, "GET", "/v1/audit/verify", purpose=RIGHTS)
    if not verified.ok:
        return _refused(request, session, verified)
    log = None
    if person_id:
        try:
            subject = UUID(person_id)
        except ValueError:
            subject = None
        if subject is not None:
            found = await api.call(
                request, session, "GET", f"/v1/people/{subject}/access-log", purpose=RIGHTS
            )
            if not found.ok:
                return _refused(request, session, found)
            log = found.body
    return page(
        request,
        "audit.html",
        title="Audit trail",
        session=session,
        section="audit",
        verified=verified.body,
        person_id=person_id or "",
        log=log,
    )


# --- Art 19 notifications ----------------------------------------------------------------


@router.get("/notifications")
async def notifications(
    request: Request, session: SessionDep, done: str | None = None
) -> HTMLResponse:
    items, answer = await api.every(
        request, session, "/v1/notifications", purpose=RIGHTS, params={"status": "manual"}
    )
    if not answer.ok:
        return _refused(request, session, answer)
    failed, _ = await api.every(
        request, session, "/v1/notifications", purpose=RIGHTS, params={"status": "failed"}
    )
    return page(
        request,
        "notifications.html",
        title="Recipients to tell by hand",
        session=session,
        section="notifications",
        manual=items,
        failed=failed,
        done=done,
    )


@router.post("/notifications/{notification_id}/close")
async def close_notification_page(
    request: Request,
    session: SessionDep,
    notification_id: UUID,
    csrf: Csrf,
    purpose: Purpose,
    reason: Reason = "",
) -> Response:
    _check(session, csrf)
    answer = await api.call(
        request,
        session,
        "POST",
        f"/v1/notifications/{notification_id}/close",
        purpose=purpose,
        json={"reason": reason},
    )
    if not answer.ok:
        return _refused(request, session, answer)
    return _see_other("/console/notifications?done=closed")


def when(value: str | None) -> str:
    """An ISO instant or date as the GOV.UK style writes it: 2 December 2026."""
    if not value:
        return ""
    parsed = datetime.fromisoformat(value) if "T" in value else None
    day = parsed.date() if parsed else date.fromisoformat(value[:10])
    text = f"{day.day} {day:%B %Y}"
    return f"{text}, {parsed:%H:%M}" if parsed else text


templates.env.filters["when"] = when
