"""The console in a real browser (Debian's Chromium driven by Playwright) against a real
server: the officer's main flows, keyboard only for one of them, and an axe-core check
of every page at WCAG 2.2 AA. Runs wherever `/usr/bin/chromium` is installed (`.ci/run`
installs it)."""

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command

from app.auth.tokens import mint_token
from app.platform.schema import alembic_config
from app.platform.settings import get_settings
from app.policy.vocabulary import Role
from tests.servers import child_over_http, free_port, scratch_database, serve, wait_ready

CHROMIUM = Path(os.environ.get("IEYS_TEST_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOT = os.environ.get("IEYS_CONSOLE_SCREENSHOT")
"""Where the case page's screenshot goes (the README's `docs/console.png`); unset: nowhere."""
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
JUSTIFICATION = "Injuries seen at today's home visit; referring to social care"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")


def _headers(role: Role, purpose: str, **extra: str) -> dict[str, str]:
    token = mint_token(get_settings(), role=role, sub=f"{role.value}-browser")
    return {"Authorization": f"Bearer {token}", "X-Purpose": purpose, **extra}


def _seed(base: str) -> dict[str, Any]:
    """An overdue request, a request on time, and a safeguarding override to review."""
    hv = _headers(Role.HEALTH_VISITOR, "health_care")
    child = child_over_http(base, hv, family_name="Browser", days_old=400)
    officer = _headers(Role.DATA_PROTECTION_OFFICER, "subject_rights")
    received = (datetime.now(UTC) - timedelta(days=50)).isoformat()
    late = httpx.post(
        f"{base}/v1/subject-requests",
        json={
            "type": "access",
            "subject_id": child["id"],
            "requester_id": child["id"],
            "received_at": received,
        },
        headers=officer,
        timeout=30,
    ).json()
    fw = _headers(Role.FAMILY_WORKER, "safeguarding", **{"X-Justification": JUSTIFICATION})
    override = httpx.get(f"{base}/v1/people/{child['id']}", headers=fw, timeout=30)
    assert override.status_code == 200
    return {"child": child, "late": late, "override": override.headers["X-Decision-Id"]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    tmp_path = tmp_path_factory.mktemp("console")
    with scratch_database(tmp_path, "console") as url:
        command.upgrade(alembic_config(url), "head")
        port = free_port()
        process = serve(url, port, IEYS_NOTIFY_INTERVAL_SECONDS="0")
        try:
            wait_ready(port, process=process)
            base = f"http://localhost:{port}"
            yield base, _seed(base)
        finally:
            process.terminate()
            process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


def _signed_in(browser: Any, base: str) -> Any:
    page = browser.new_page()
    page.goto(f"{base}/console")
    assert page.url.endswith("/console/sign-in")
    page.get_by_role("button", name="Sign in as the development officer").click()
    page.wait_for_url(f"{base}/console")
    return page


def _accessible(page: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert results.violations_count == 0, results.generate_report()


def test_the_officer_finds_an_overdue_request_pauses_resumes_and_decides_it(
    server: tuple[str, dict[str, Any]], browser: Any
) -> None:
    base, seeded = server
    page = _signed_in(browser, base)
    page.get_by_role("link", name="Subject requests").first.click()
    row = page.locator("tr", has_text="Overdue").first
    row.get_by_role("link").click()
    assert seeded["late"]["id"] in page.url
    page.get_by_label("Why: waiting for proof of identity or for clarification").fill(
        "Waiting for proof of identity"
    )
    page.get_by_role("button", name="Pause").click()
    assert page.get_by_text("The request was paused").is_visible()
    page.get_by_label("What arrived").fill("Passport seen at the centre")
    page.get_by_role("button", name="Resume").click()
    assert page.get_by_text("The request was resumed").is_visible()
    page.get_by_label("Fulfilled").check()
    page.get_by_label("The reason, as the case will record it").fill("Answered in full")
    page.get_by_role("button", name="Decide").click()
    assert page.get_by_text("The request was decided").is_visible()
    assert page.get_by_role("link", name="Download the package (JSON)").is_visible()
    if SCREENSHOT:
        page.screenshot(path=SCREENSHOT, full_page=True)


def test_the_officer_reviews_an_override(server: tuple[str, dict[str, Any]], browser: Any) -> None:
    base, seeded = server
    page = _signed_in(browser, base)
    page.goto(f"{base}/console/reviews")
    assert page.get_by_text(JUSTIFICATION).is_visible()
    card = page.locator(".govuk-summary-card", has_text=JUSTIFICATION)
    card.get_by_label("Appropriate", exact=True).check()
    card.get_by_role("button", name="Record the review").click()
    assert page.get_by_text("The review was recorded").is_visible()
    assert seeded["override"] not in page.content()


def test_the_officer_previews_a_sweep_and_sets_and_lifts_a_hold(
    server: tuple[str, dict[str, Any]], browser: Any
) -> None:
    base, seeded = server
    page = _signed_in(browser, base)
    page.goto(f"{base}/console/retention")
    page.get_by_role("button", name="Preview the sweep").click()
    assert page.get_by_text("nothing was destroyed").is_visible()
    page.goto(f"{base}/console/retention")
    page.get_by_label("The person's or household's id").fill(seeded["child"]["id"])
    page.get_by_label("The claim it is kept for").fill("Care proceedings: records for court")
    page.get_by_role("button", name="Place the hold").click()
    assert page.get_by_text("The legal hold was placed").is_visible()
    page.get_by_role("button", name=re.compile("^Release")).click()
    assert page.get_by_text("The legal hold was released").is_visible()


def test_the_main_flow_works_with_the_keyboard_alone(
    server: tuple[str, dict[str, Any]], browser: Any
) -> None:
    base, _ = server
    page = browser.new_page()
    page.goto(f"{base}/console/sign-in")
    # Tab to the sign-in button and press Enter: no pointer anywhere.
    for _ in range(20):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent.trim()")
        if focused == "Sign in as the development officer":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/console")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Subject requests":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/console/requests")
    assert page.get_by_role("heading", name="Subject requests").is_visible()
    # The skip link is the first thing the keyboard reaches.
    page.goto(f"{base}/console/requests")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"


def test_every_page_has_no_accessibility_violation_at_wcag_2_2_aa(
    server: tuple[str, dict[str, Any]], browser: Any
) -> None:
    base, seeded = server
    page = browser.new_page()
    page.goto(f"{base}/console/sign-in")
    _accessible(page)
    page = _signed_in(browser, base)
    for path in (
        "/console",
        "/console/requests",
        "/console/requests?status=closed",
        f"/console/requests/{seeded['late']['id']}",
        "/console/reviews",
        "/console/retention",
        "/console/audit",
        f"/console/audit?person_id={seeded['child']['id']}",
        "/console/notifications",
    ):
        page.goto(f"{base}{path}")
        _accessible(page)
    page.goto(f"{base}/console/retention")
    page.get_by_role("button", name="Preview the sweep").click()
    _accessible(page)
